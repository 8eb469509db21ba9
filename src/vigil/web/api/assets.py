"""/api/v1/sites and /api/v1/assets: the sites a caller may see; the inventory (filters, keyset pages), one
device; an inventory upload imported by a background job."""

from __future__ import annotations

import shutil
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from vigil.services import access
from vigil.services.assets_page import assets_page, site_asset
from vigil.services.jobs import inventory_work, record_upload
from vigil.web.api.common import INT64, Reader, RunnerDep, StoreDep, chosen_sites, named_site, sites_of
from vigil.web.api.uploads import safe_filename, spool
from vigil.web.auth import Principal, require
from vigil.web.pagination import Page, PageRequest, page_request, page_response
from vigil.web.problems import Problem, bad_field, not_found

router = APIRouter(tags=["assets"])

Values = Annotated[list[Annotated[str, Query(max_length=300)]] | None, Query()]
INVENTORY_SUFFIXES = (".csv", ".xlsx")


class SiteOut(BaseModel):
    """A site the caller may see."""

    id: int
    name: str


@router.get("/sites", response_model=list[SiteOut], summary="List the sites you may see")
def list_sites(principal: Reader, store: StoreDep) -> list[SiteOut]:
    return [SiteOut(id=s.id, name=s.name) for s in sites_of(store, principal)]


@router.get("/assets", response_model=Page, summary="List assets")
def list_assets(
    request: Request,
    principal: Reader,
    store: StoreDep,
    page: Annotated[PageRequest, Depends(page_request)],
    site: Values = None,
    manufacturer: Values = None,
    model: Values = None,
    model_number: Values = None,
    serial_number: Values = None,
    udi_di: Values = None,
    firmware_version: Values = None,
    ip_address: Values = None,
    mac_address: Values = None,
    location: Values = None,
    network_zone: Values = None,
    device_category: Values = None,
) -> Response:
    """Assets by site and asset id, each with its installed products (`vigil inventory list --format json`).
    Each filter equals any of its values (repeat it); normalised fields compare normalised values."""
    filters = {
        "manufacturer": manufacturer,
        "model": model,
        "model_number": model_number,
        "serial_number": serial_number,
        "udi_di": udi_di,
        "firmware_version": firmware_version,
        "ip_address": ip_address,
        "mac_address": mac_address,
        "location": location,
        "network_zone": network_zone,
        "device_category": device_category,
    }
    found = assets_page(
        store,
        chosen_sites(store, principal, site or []),
        {k: v for k, v in filters.items() if v},
        _key(page.cursor),
        page.limit,
    )
    return page_response(request, found.items, page.limit, list(found.next_key) if found.next_key else None)


def _key(cursor: Any) -> tuple[int, str] | None:
    if cursor is None:
        return None
    if (
        isinstance(cursor, list)
        and len(cursor) == 2
        and isinstance(cursor[0], int)
        and not isinstance(cursor[0], bool)
        and 0 <= cursor[0] <= INT64
        and isinstance(cursor[1], str)
    ):
        return cursor[0], cursor[1]
    raise bad_field("query.cursor", "not a cursor of this list")


@router.get("/assets/{asset_id}", summary="Show an asset")
def show_asset(
    asset_id: str,
    principal: Reader,
    store: StoreDep,
    site: Annotated[
        str | None, Query(max_length=300, description="The asset's site (needed when several sites have the id).")
    ] = None,
) -> dict[str, Any]:
    """One device with its installed products and SBOM summary (`vigil inventory show --format json`)."""
    sites = [named_site(store, principal, site)] if site is not None else sites_of(store, principal)
    found: list[dict[str, Any]] = []
    for candidate in sites:
        detail = site_asset(store, candidate, asset_id)
        if detail is not None:
            found.append(detail)
        if len(found) > 1:
            names = ", ".join(d["site"] for d in found)
            raise Problem(409, f"asset {asset_id!r} exists in several sites ({names}): pass site", "ambiguous")
    if not found:
        raise not_found(f"no asset {asset_id!r}" + (f" in site {site!r}" if site else ""))
    return found[0]


class JobAccepted(BaseModel):
    """A job started: poll `GET /api/v1/jobs/{id}` (the Location header)."""

    id: str
    kind: str
    state: str
    progress: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None


@router.post(
    "/assets/import",
    status_code=202,
    response_model=JobAccepted,
    summary="Upload an inventory (CSV or XLSX) to import",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    },
)
async def import_inventory(
    request: Request,
    response: Response,
    store: StoreDep,
    jobs: RunnerDep,
    principal: Annotated[Principal, Depends(require(access.INVENTORY_IMPORT))],
    site: Annotated[
        str | None, Query(max_length=300, description="Site of every row (required unless you see every site).")
    ] = None,
    filename: Annotated[str, Query(max_length=200, description="Name of the file: .csv or .xlsx.")] = "inventory.csv",
    dry_run: Annotated[bool, Query(description="Check only: nothing is written.")] = False,
    prune: Annotated[bool, Query(description="Remove the site's assets the file no longer lists.")] = False,
) -> JobAccepted:
    """The body is the file itself, streamed to disk (413 past the limit), then imported by a background
    job (202): poll the job for progress and the import's report."""
    if site is None and principal.site_ids is not None:
        raise bad_field("query.site", "name the site to import into (you do not see every site)")
    if site is None and prune:
        raise bad_field("query.prune", "prune needs a site")
    site_ref = named_site(store, principal, site) if site is not None else None
    name = safe_filename(filename, "inventory.csv", INVENTORY_SUFFIXES)
    path = await spool(request, request.app.state.limits.max_upload_bytes, name)
    try:
        record_upload(store, site_ref.id if site_ref else None, principal.username, "inventory.upload", path, name)
    except BaseException:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    work = inventory_work(store, path, site_ref.name if site_ref else None, dry_run, prune)
    job = jobs.submit("inventory.import", principal.user_id, site_ref.id if site_ref else None, work, path.parent)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return JobAccepted(**job.as_json())
