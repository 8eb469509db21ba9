"""/api/v1/audit: the hash-chained audit trail, chain by chain, newest first; and its verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from vigil.services import access
from vigil.services.audit import verify_trail
from vigil.services.audit_page import INSTALLATION, audit_page
from vigil.web.api.common import StoreDep, named_site, pair_cursor, sites_of
from vigil.web.auth import Principal, require
from vigil.web.pagination import Page, PageRequest, page_request, page_response
from vigil.web.problems import bad_field, not_found

router = APIRouter(prefix="/audit", tags=["audit"])
Auditor = Annotated[Principal, Depends(require(access.AUDIT_READ))]


@router.get("", response_model=Page, summary="List audit entries")
def list_(
    request: Request,
    principal: Auditor,
    store: StoreDep,
    page: Annotated[PageRequest, Depends(page_request)],
    site: Annotated[str | None, Query(max_length=300, description="That site's chain only.")] = None,
    installation: Annotated[bool, Query(description="The installation-wide chain only.")] = False,
    action: Annotated[
        list[Annotated[str, Query(max_length=60)]] | None,
        Query(description="Action (`finding.status`) or prefix ending in `.` (`finding.`); repeat for several."),
    ] = None,
    since: Annotated[datetime | None, Query(description="Entries at or after this instant.")] = None,
) -> Response:
    """Chain 0 (installation-wide: advisory imports, users, logins) is visible to those who see every site;
    each site's chain to those who see the site."""
    if site is not None and installation:
        raise bad_field("query.installation", "site and installation name two different chains: give one")
    sites = sites_of(store, principal)
    if site is not None:
        chains = [named_site(store, principal, site).id]
    elif installation:
        if principal.site_ids is not None:
            raise not_found("the installation-wide chain is visible to users who see every site")
        chains = [INSTALLATION]
    else:
        chains = ([INSTALLATION] if principal.site_ids is None else []) + [s.id for s in sites]
    found = audit_page(store, chains, sites, action or [], since, pair_cursor(page.cursor), page.limit)
    return page_response(request, found.items, page.limit, list(found.next_key) if found.next_key else None)


@router.get("/verify", summary="Verify the audit chains")
def verify(
    principal: Auditor,
    store: StoreDep,
    site: Annotated[str | None, Query(max_length=300, description="One site's chain; omitted: every chain.")] = None,
) -> dict[str, Any]:
    """Recompute every hash (`vigil audit verify`). Without `site`, only for those who see every site."""
    if site is None and principal.site_ids is not None:
        raise bad_field("query.site", "name a site: you do not see every chain")
    name = named_site(store, principal, site).name if site is not None else None
    return verify_trail(store, name).as_dict()
