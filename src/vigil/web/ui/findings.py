"""Findings: the filtered list with bulk status changes, one finding with its evidence and history, its status
form and the review of `possible` matches. Reads through services/findings_page (the API's), writes through
services/response, services/findings_bulk and findings_read.review_finding."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigil.matching.findings import MATCH_LEVELS
from vigil.response.states import RESPONSE_STATUSES, IllegalTransition
from vigil.services import access
from vigil.services.findings_bulk import bulk_set_status
from vigil.services.findings_page import (
    FindingsPageQuery,
    UnknownAdvisory,
    findings_page,
    locate_finding,
    show_visible_finding,
)
from vigil.services.findings_read import FindingQueryError, review_finding
from vigil.services.response import FindingNotFound, ResponseConflict, set_status
from vigil.web.auth import Principal
from vigil.web.ui.common import (
    Reviewer,
    StatusSetter,
    error_page,
    not_found,
    render,
    see_other,
    sites_of,
    store,
    viewer,
)
from vigil.web.ui.status_form import FormError, status_change, text, version

router = APIRouter()

PAGE_SIZE = 50
REVIEW_STATES = ("pending", "confirmed", "rejected")


def encode_key(key: tuple[int, int] | None) -> str | None:
    return f"{key[0]}.{key[1]}" if key is not None else None


def decode_key(value: str | None) -> tuple[int, int] | None:
    """A `site.id` cursor; anything else starts the list over."""
    if not value or len(value) > 40:
        return None
    site, _, ident = value.partition(".")
    return (int(site), int(ident)) if site.isdigit() and ident.isdigit() else None


def _choices(request: Request, name: str, allowed: tuple[str, ...]) -> tuple[list[str], str | None]:
    values = [v for v in request.query_params.getlist(name) if v]
    bad = [v for v in values if v not in allowed]
    return [v for v in values if v in allowed], (f"{name}: unknown value {bad[0]!r}" if bad else None)


def page_of(
    request: Request, principal: Principal, query: dict[str, Any], cursor: str | None, limit: int = PAGE_SIZE
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of visible findings (an unknown advisory: none)."""
    ids = query.pop("site_ids", None) or [s.id for s in sites_of(request, principal)]
    try:
        page = findings_page(store(request), FindingsPageQuery(site_ids=ids, **query), decode_key(cursor), limit)
    except UnknownAdvisory:
        return [], None
    return page.items, encode_key(page.next_key)


@router.get("/findings")
def findings_list(request: Request) -> Response:
    principal = viewer(request)
    if isinstance(principal, Response):
        return principal
    sites = sites_of(request, principal)
    params = request.query_params
    problems = []
    statuses, bad = _choices(request, "status", RESPONSE_STATUSES)
    problems += [bad] if bad else []
    matches, bad = _choices(request, "match", MATCH_LEVELS)
    problems += [bad] if bad else []
    review = params.get("review") or None
    if review is not None and review not in REVIEW_STATES:
        problems.append(f"review: unknown value {review!r}")
        review = None
    site_ids = [s.id for s in sites]
    site = params.get("site") or None
    if site is not None:
        chosen = [s.id for s in sites if str(s.id) == site]
        if not chosen:
            return not_found(request, principal, f"Site {site}")
        site_ids = chosen
    query = {
        "site_ids": site_ids,
        "advisory": (params.get("advisory") or "").strip()[:200] or None,
        "asset_id": (params.get("asset") or "").strip()[:200] or None,
        "cve": (params.get("cve") or "").strip()[:50] or None,
        "response_statuses": statuses,
        "matches": matches,
        "review": review,
        "include_closed": params.get("closed") == "1",
    }
    items, next_cursor = page_of(request, principal, dict(query), params.get("cursor"))
    context = {
        "sites": sites,
        "filters": query,
        "items": items,
        "next_cursor": next_cursor,
        "problems": problems,
        "match_levels": MATCH_LEVELS,
        "review_states": REVIEW_STATES,
        "may_change": principal.can(access.FINDINGS_STATUS),
    }
    return render(request, principal, "findings.html", context)


def _finding_page(
    request: Request, principal: Principal, finding_id: int, error: str | None = None, status: int = 200
) -> Response:
    visible = [s.id for s in sites_of(request, principal)]
    finding = show_visible_finding(store(request), visible, finding_id)
    if finding is None:
        return not_found(request, principal, f"Finding {finding_id}")
    context = {
        "finding": finding,
        "error": error,
        "done": request.query_params.get("done"),
        "may_change": principal.can(access.FINDINGS_STATUS),
        "may_review": principal.can(access.FINDINGS_REVIEW),
    }
    return render(request, principal, "finding.html", context, status)


@router.get("/findings/{finding_id}")
def finding_page(request: Request, finding_id: int) -> Response:
    principal = viewer(request)
    if isinstance(principal, Response):
        return principal
    return _finding_page(request, principal, finding_id)


@router.post("/findings/{finding_id}/status")
async def finding_status(request: Request, finding_id: int, principal: StatusSetter) -> Response:
    sites = sites_of(request, principal)
    form = await request.form()
    site_id = locate_finding(store(request), [s.id for s in sites], finding_id)
    if site_id is None:
        return not_found(request, principal, f"Finding {finding_id}")
    site = next(s.name for s in sites if s.id == site_id)
    try:
        change = status_change(form)
        set_status(store(request), site, finding_id, change, principal.username, version(form))
    except (FormError, IllegalTransition) as error:
        return _finding_page(request, principal, finding_id, str(error), 422)
    except ResponseConflict as error:
        return _finding_page(request, principal, finding_id, str(error), 409)
    except FindingNotFound:
        return not_found(request, principal, f"Finding {finding_id}")
    return see_other(f"/findings/{finding_id}", done="status")


@router.post("/findings/{finding_id}/review")
async def finding_review(request: Request, finding_id: int, principal: Reviewer) -> Response:
    form = await request.form()
    site_ids = [s.id for s in sites_of(request, principal)]
    if locate_finding(store(request), site_ids, finding_id) is None:
        return not_found(request, principal, f"Finding {finding_id}")
    decision = text(form, "decision") or ""
    try:
        review_finding(store(request), finding_id, decision, principal.username, text(form, "comment"))
    except FindingQueryError:
        return not_found(request, principal, f"Finding {finding_id}")
    except (ValueError, FormError) as error:
        return _finding_page(request, principal, finding_id, str(error), 422)
    back = text(form, "back")
    if back is not None and back.startswith("/advisories/") and "//" not in back:
        return see_other(back, done="review")
    return see_other(f"/findings/{finding_id}", done="review")


@router.post("/findings/bulk")
async def findings_bulk(request: Request, principal: StatusSetter) -> Response:
    form = await request.form()
    ids = []
    for value in form.getlist("finding"):
        if isinstance(value, str) and value.isdigit() and len(value) < 20:
            ids.append(int(value))
    if not ids:
        return error_page(request, principal, 422, "finding: select at least one finding")
    if len(ids) > PAGE_SIZE * 4:
        return error_page(request, principal, 422, f"finding: at most {PAGE_SIZE * 4} findings at once")
    try:
        change = status_change(form)
        outcome = bulk_set_status(
            store(request), [s.id for s in sites_of(request, principal)], ids, change, principal.username
        )
    except (FormError, IllegalTransition, ValueError) as error:
        return error_page(request, principal, 422, str(error))
    except ResponseConflict as error:
        return error_page(request, principal, 409, str(error))
    context = {"outcome": outcome, "status": change.status}
    return render(request, principal, "bulk_result.html", context)
