"""Action items per site (paged; brought up to date on request through services/actions, as the CLI does on
read), one item with its completion form, and the FCO view: devices whose fix is scheduled."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigil.services import access
from vigil.services.actions import ActionError, ActionQuery, complete_action, list_actions
from vigil.services.dashboard import NotVisible, action_detail, actions_page
from vigil.services.site_scope import SiteRef
from vigil.web.auth import Principal
from vigil.web.ui.common import Completer, Reader, not_found, render, see_other, sites_of, store, viewer
from vigil.web.ui.findings import page_of
from vigil.web.ui.status_form import FormError, text

router = APIRouter()

ACTION_STATES = ("open", "done", "void")


def _site(request: Request, principal: Principal, value: str | None) -> SiteRef | None:
    sites = sites_of(request, principal)
    if value is None:
        return sites[0] if sites else None
    return next((s for s in sites if str(s.id) == value), None)


@router.get("/actions")
def actions_list(request: Request) -> Response:
    principal = viewer(request)
    if isinstance(principal, Response):
        return principal
    params = request.query_params
    site = _site(request, principal, params.get("site") or None)
    if site is None:
        return not_found(request, principal, "Site")
    state = params.get("state") or "open"
    states = [state] if state in ACTION_STATES else ["open"]
    advisory = (params.get("advisory") or "").strip()[:200] or None
    page = actions_page(store(request), site, states, advisory, params.get("cursor"))
    context = {
        "sites": sites_of(request, principal),
        "site": site,
        "state": states[0],
        "states": ACTION_STATES,
        "advisory": advisory or "",
        "items": page.items,
        "next_cursor": page.next_cursor,
        "done": params.get("done"),
    }
    return render(request, principal, "actions.html", context)


@router.post("/actions/sync")
async def actions_sync(request: Request, principal: Reader) -> Response:
    """Bring a site's items (of one advisory, or all) in line with its findings, as `vigil actions list` does."""
    form = await request.form()
    site = _site(request, principal, text(form, "site"))
    if site is None:
        return not_found(request, principal, "Site")
    advisory = text(form, "advisory")
    try:
        list_actions(store(request), ActionQuery(site=site.name, advisory=advisory, states=()))
    except ActionError as error:
        return render(request, principal, "error.html", {"status": 422, "message": str(error)}, 422)
    return see_other("/actions", site=str(site.id), **({"advisory": advisory} if advisory else {}), done="sync")


@router.get("/actions/{site_id}/{item_id}")
def action_page(request: Request, site_id: int, item_id: int, error: str | None = None) -> Response:
    principal = viewer(request)
    if isinstance(principal, Response):
        return principal
    return _action_page(request, principal, site_id, item_id)


def _action_page(
    request: Request, principal: Principal, site_id: int, item_id: int, error: str | None = None, status: int = 200
) -> Response:
    site = _site(request, principal, str(site_id))
    try:
        if site is None:
            raise NotVisible(f"no site {site_id}")
        item = action_detail(store(request), site, item_id)
    except NotVisible:
        return not_found(request, principal, f"Action {item_id}")
    context = {
        "item": item,
        "site": site,
        "error": error,
        "done": request.query_params.get("done"),
        "may_complete": principal.can(access.ACTIONS_COMPLETE),
    }
    return render(request, principal, "action.html", context, status)


@router.post("/actions/{site_id}/{item_id}/complete")
async def action_complete(request: Request, site_id: int, item_id: int, principal: Completer) -> Response:
    site = _site(request, principal, str(site_id))
    if site is None:
        return not_found(request, principal, f"Action {item_id}")
    form = await request.form()
    try:
        complete_action(store(request), site.name, item_id, principal.username, text(form, "evidence") or "")
    except (ActionError, FormError) as error:
        if str(error).startswith("no action"):
            return not_found(request, principal, f"Action {item_id}")
        return _action_page(request, principal, site_id, item_id, str(error), 422)
    return see_other(f"/actions/{site_id}/{item_id}", done="complete")


@router.get("/fco")
def fco_list(request: Request) -> Response:
    """Devices with a scheduled fix (remediation_scheduled): FCO number, planned visit, vendor contact."""
    principal = viewer(request)
    if isinstance(principal, Response):
        return principal
    sites = sites_of(request, principal)
    chosen = sites
    site = request.query_params.get("site") or None
    if site is not None:
        chosen = [s for s in sites if str(s.id) == site]
        if not chosen:
            return not_found(request, principal, f"Site {site}")
    items, next_cursor = page_of(
        request,
        principal,
        {"site_ids": [s.id for s in chosen], "response_statuses": ["remediation_scheduled"]},
        request.query_params.get("cursor"),
    )
    context = {"sites": sites, "site": site, "items": items, "next_cursor": next_cursor}
    return render(request, principal, "fco.html", context)
