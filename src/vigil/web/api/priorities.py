"""/api/v1/priorities: open findings most urgent first, SSVC explained, with due dates (`vigil priorities`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from vigil.services.priorities import PriorityQuery, PriorityQueryError, PriorityRow, list_priorities
from vigil.services.priorities import _urgency as urgency
from vigil.web.api.common import Reader, StoreDep, named_site, sites_of
from vigil.web.pagination import Page, PageRequest, offset_of, offset_page, page_request
from vigil.web.problems import bad_field

router = APIRouter(prefix="/priorities", tags=["priorities"])
Outcome = Literal["defer", "scheduled", "out_of_cycle", "immediate"]


@router.get("", response_model=Page, summary="Prioritised open findings")
def list_(
    request: Request,
    principal: Reader,
    store: StoreDep,
    page: Annotated[PageRequest, Depends(page_request)],
    site: Annotated[str | None, Query(max_length=300, description="One site; omitted: every site you see.")] = None,
    advisory: Annotated[str | None, Query(max_length=300)] = None,
    cve: Annotated[str | None, Query(max_length=50)] = None,
    asset_id: Annotated[str | None, Query(max_length=200)] = None,
    outcome: Annotated[Outcome | None, Query(description="Only this SSVC deployer outcome.")] = None,
    overdue: Annotated[bool, Query(description="Only findings past their due date.")] = False,
    resolved: Annotated[bool, Query(description="Include not_affected and fixed findings.")] = False,
) -> Response:
    """Most urgent first: SSVC outcome, then CVSS base score, then EPSS (`vigil priorities --format json`).
    Prioritising reads every open finding of each site asked for: name one site on large installations."""
    start = offset_of(page)
    wanted = start + page.limit + 1
    if site is not None:
        names: list[str | None] = [named_site(store, principal, site).name]
    elif principal.site_ids is None:
        names = [None]  # every site, in one pass, ranked together
    else:
        names = [s.name for s in sites_of(store, principal)]
    rows: list[PriorityRow] = []
    try:
        for name in names:
            query = PriorityQuery(name, advisory, cve, asset_id, resolved, outcome, overdue)
            rows += list_priorities(store, query, limit=wanted)
    except PriorityQueryError as error:
        raise bad_field("query.advisory", str(error)) from None
    if len(names) > 1:
        rows.sort(key=urgency)  # the service's own order, over the merged sites
    return offset_page(request, page, [r.as_json() for r in rows[start:wanted]])
