"""Advisories: the list (searchable, paged) and one advisory — its products, CVEs with CVSS, remediations, the
visible sites' affected devices with match evidence, and the review queue of `possible` matches."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigil.services import access
from vigil.services.advisory_read import AdvisoryNotFound, list_advisories, show_advisory
from vigil.services.dashboard import advisory_site_counts
from vigil.web.ui.common import not_found, render, sites_of, store, viewer
from vigil.web.ui.findings import page_of

router = APIRouter()

PAGE_SIZE = 50


def _offset(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 9 else 0


@router.get("/advisories")
def advisories_list(request: Request) -> Response:
    principal = viewer(request)
    if isinstance(principal, Response):
        return principal
    search = (request.query_params.get("q") or "").strip()[:200] or None
    offset = _offset(request.query_params.get("offset"))
    rows = list_advisories(store(request), search=search, limit=PAGE_SIZE + 1, offset=offset)
    context = {
        "advisories": rows[:PAGE_SIZE],
        "search": search or "",
        "next_offset": offset + PAGE_SIZE if len(rows) > PAGE_SIZE else None,
        "offset": offset,
    }
    return render(request, principal, "advisories.html", context)


@router.get("/advisories/{tracking_id}")
def advisory_page(request: Request, tracking_id: str) -> Response:
    principal = viewer(request)
    if isinstance(principal, Response):
        return principal
    try:
        advisory = show_advisory(store(request), tracking_id)
    except AdvisoryNotFound:
        return not_found(request, principal, f"Advisory {tracking_id}")
    params = request.query_params
    affected, affected_next = page_of(request, principal, {"advisory": tracking_id}, params.get("cursor"))
    pending = {"advisory": tracking_id, "matches": ["possible"], "review": "pending"}
    queue, queue_next = page_of(request, principal, pending, params.get("rcursor"))
    context = {
        "advisory": advisory,
        "site_counts": advisory_site_counts(store(request), principal.site_ids, tracking_id),
        "affected": affected,
        "affected_next": affected_next,
        "queue": queue,
        "queue_next": queue_next,
        "done": params.get("done"),
        "may_review": principal.can(access.FINDINGS_REVIEW),
        "sites": sites_of(request, principal),
    }
    return render(request, principal, "advisory.html", context)
