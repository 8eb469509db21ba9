"""Devices: the inventory list (paged, per site) and one device — identity, installed products, findings with
their priority, and the history of its findings."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigil.services.assets_page import assets_page, site_asset
from vigil.services.dashboard import device_history, device_priorities
from vigil.web.ui.common import not_found, render, sites_of, store, viewer
from vigil.web.ui.findings import page_of

router = APIRouter()

PAGE_SIZE = 50


def _asset_key(value: str | None) -> tuple[int, str] | None:
    if not value or len(value) > 300:
        return None
    site, _, asset = value.partition(":")
    return (int(site), asset) if site.isdigit() and asset else None


@router.get("/devices")
def devices_list(request: Request) -> Response:
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
    page = assets_page(store(request), chosen, {}, _asset_key(request.query_params.get("cursor")), PAGE_SIZE)
    next_cursor = f"{page.next_key[0]}:{page.next_key[1]}" if page.next_key else None
    ids = {s.name: s.id for s in sites}
    context = {"sites": sites, "site": site, "items": page.items, "next_cursor": next_cursor, "site_ids": ids}
    return render(request, principal, "devices.html", context)


@router.get("/devices/{site_id}/{asset_id:path}")
def device_page(request: Request, site_id: int, asset_id: str) -> Response:
    principal = viewer(request)
    if isinstance(principal, Response):
        return principal
    site = next((s for s in sites_of(request, principal) if s.id == site_id), None)
    asset = site_asset(store(request), site, asset_id) if site is not None else None
    if site is None or asset is None:
        return not_found(request, principal, f"Device {asset_id}")
    findings, next_cursor = page_of(
        request,
        principal,
        {"site_ids": [site.id], "asset_id": asset_id, "include_closed": True},
        request.query_params.get("cursor"),
    )
    priorities = {row.finding_id: row for row in device_priorities(store(request), site, asset_id)}
    context = {
        "site": site,
        "asset": asset,
        "findings": findings,
        "next_cursor": next_cursor,
        "priorities": priorities,
        "history": device_history(store(request), site.id, asset_id),
    }
    return render(request, principal, "device.html", context)
