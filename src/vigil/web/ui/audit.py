"""The audit log: one chain at a time (the installation's, or a visible site's), newest first, paged."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigil.services import access
from vigil.services.audit_page import INSTALLATION, audit_page
from vigil.web.ui.common import not_found, render, sites_of, store, viewer

router = APIRouter()

PAGE_SIZE = 50


@router.get("/audit")
def audit_log(request: Request) -> Response:
    principal = viewer(request, access.AUDIT_READ)
    if isinstance(principal, Response):
        return principal
    sites = sites_of(request, principal)
    params = request.query_params
    chain_text = params.get("chain") or str(INSTALLATION)
    chains = {INSTALLATION, *(s.id for s in sites)}
    chain = int(chain_text) if chain_text.isdigit() and len(chain_text) < 12 else -1
    if chain not in chains:
        return not_found(request, principal, f"Audit chain {chain_text}")
    cursor = params.get("cursor") or ""
    before = (chain, int(cursor)) if cursor.isdigit() and len(cursor) < 20 else None
    page = audit_page(store(request), [chain], sites, (), None, before, PAGE_SIZE)
    context = {
        "sites": sites,
        "chain": chain,
        "installation": INSTALLATION,
        "items": page.items,
        "next_cursor": str(page.next_key[1]) if page.next_key else None,
    }
    return render(request, principal, "audit.html", context)
