"""Use case: read the inventory back: list, show, export. Same data for the CLI, the API and reports."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from vigil.identity.vendors import default_aliases
from vigil.outputs.timestamps import iso_utc
from vigil.services.store import Store
from vigil.sources.inventory.fields import BOOLEAN_FIELDS, CANONICAL_HEADER, OPTIONAL_FIELDS
from vigil.store import schema as t
from vigil.store.inventory import (
    all_sites,
    installed_of,
    iter_site_assets,
    sbom_of,
    site_ids,
    sites_with_asset,
)
from vigil.store.inventory import (
    list_assets as query_assets,
)

EXPORT_HEADER = CANONICAL_HEADER + OPTIONAL_FIELDS
"""Exports use the canonical header (plus the optional columns), so an export re-imports unchanged."""

NORMALISED_COLUMNS = (
    "manufacturer",
    "model",
    "model_number",
    "serial_number",
    "udi_di",
    "firmware_version",
    "ip_address",
    "mac_address",
)
"""Asset fields stored twice: normalised, and as written (`<name>_raw`)."""
PLAIN_COLUMNS = ("location", "bmc_address", "network_zone", "device_category", *BOOLEAN_FIELDS)
"""Asset fields stored as written only."""


class AssetNotFound(LookupError):
    """No asset with that id (in that site), or several sites have one; the message says which."""


class UnknownSite(LookupError):
    """No site with that name."""


def _site_filter(store: Store, site: str | None) -> list[int] | None:
    if site is None:
        return None
    with store.sessions() as session:
        ids = site_ids(session, [site], create=False)
    if not ids:
        raise UnknownSite(f"no site named {site!r}")
    return list(ids.values())


def asset_dict(asset: t.Asset, site: str, installed: Sequence[t.InstalledProduct]) -> dict[str, Any]:
    """An asset as JSON-ready data: normalised fields, with the raw text beside each normalised one."""
    data: dict[str, Any] = {"asset_id": asset.asset_id, "site": site}
    for column in NORMALISED_COLUMNS:
        data[column] = getattr(asset, column)
        data[f"{column}_raw"] = getattr(asset, f"{column}_raw")
    for column in PLAIN_COLUMNS:
        data[column] = getattr(asset, column)
    data["extra"] = asset.extra or {}
    data["installed_products"] = [
        {
            "origin": p.origin,
            "vendor": p.vendor,
            "vendor_raw": p.vendor_raw,
            "name": p.name,
            "name_raw": p.name_raw,
            "version": p.version,
            "version_raw": p.version_raw,
            "component_type": p.component_type,
            "purl": p.purl,
            "cpe": p.cpe,
        }
        for p in installed
    ]
    data["source"] = asset.source
    data["source_row"] = asset.source_row
    data["updated_at"] = iso_utc(asset.updated_at)
    return data


def list_assets(
    store: Store, site: str | None = None, limit: int | None = None, offset: int = 0
) -> list[dict[str, Any]]:
    """Assets ordered by site and asset_id, each with its installed products."""
    wanted = _site_filter(store, site)
    with store.sessions() as session:
        rows = query_assets(session, wanted, limit, offset)
        installed = installed_of(session, [(a.site_id, a.asset_id) for a, _ in rows])
        return [asset_dict(a, name, installed[(a.site_id, a.asset_id)]) for a, name in rows]


def show_asset(store: Store, asset_id: str, site: str | None = None) -> dict[str, Any]:
    """One asset with its installed products and attached SBOM summary."""
    with store.sessions() as session:
        candidates = sites_with_asset(session, asset_id)
        if site is not None:
            candidates = [c for c in candidates if c[1] == site]
        if not candidates:
            where = f" in site {site!r}" if site else ""
            raise AssetNotFound(f"no asset {asset_id!r}{where}")
        if len(candidates) > 1:
            names = ", ".join(name for _, name in candidates)
            raise AssetNotFound(f"asset {asset_id!r} exists in several sites ({names}); pass --site")
        site_id, name = candidates[0]
        asset = session.get_one(t.Asset, (site_id, asset_id))
        detail = asset_dict(asset, name, installed_of(session, [(site_id, asset_id)])[(site_id, asset_id)])
        sbom = sbom_of(session, site_id, asset_id)
        detail["sbom"] = (
            {
                "spec_version": sbom.spec_version,
                "serial_number": sbom.serial_number,
                "sha256": sbom.sha256,
                "source": sbom.source,
                "imported_at": iso_utc(sbom.imported_at),
            }
            if sbom
            else None
        )
        return detail


def export_rows(store: Store, site: str | None = None) -> Iterator[list[Any]]:
    """Rows under EXPORT_HEADER: one per asset-product pair, raw values as the hospital wrote them."""
    wanted = _site_filter(store, site)
    with store.sessions() as session:
        sites = [(i, n) for i, n in all_sites(session) if wanted is None or i in wanted]
        for site_id, name in sites:
            for page in iter_site_assets(session, site_id):
                installed = installed_of(session, [(site_id, a.asset_id) for a in page])
                for asset in page:
                    yield from _export_lines(asset, name, installed[(site_id, asset.asset_id)])


def _export_lines(asset: t.Asset, site: str, installed: Sequence[t.InstalledProduct]) -> Iterator[list[Any]]:
    # Uninterpreted columns (asset.extra) stay in the database and in `show`/JSON: their headers
    # differ from asset to asset, so they have no column in a canonical export.
    device = {
        "asset_id": asset.asset_id,
        "site": site,
        **{c: getattr(asset, f"{c}_raw") for c in NORMALISED_COLUMNS},
        **{c: getattr(asset, c) for c in PLAIN_COLUMNS},
    }
    for flag in BOOLEAN_FIELDS:
        device[flag] = None if device[flag] is None else ("yes" if device[flag] else "no")
    software = [
        {"software_vendor": p.vendor_raw, "software_name": p.name_raw, "software_version": p.version_raw}
        for p in installed
        if p.origin == "inventory"
    ]
    for product in software or [{}]:
        line = device | product
        yield [line.get(column) for column in EXPORT_HEADER]


def alias_table() -> dict[str, Any]:
    """The manufacturer alias table in use, for `vigil inventory aliases`."""
    table = default_aliases()
    return {"source": str(table.source), "manufacturers": {k: list(v) for k, v in table.aliases.items()}}
