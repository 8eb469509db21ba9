"""Use case: the inventory a page at a time across the sites a caller may see, and one asset of one site.
Pages are keyset on (site_id, asset_id); rows are `vigil inventory list --format json` objects
(inventory_read.asset_dict)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.outputs.timestamps import iso_utc
from vigil.services.inventory_read import asset_dict
from vigil.services.site_scope import SiteRef
from vigil.services.store import Store
from vigil.store.assets_page import ASSET_FILTERS, asset_of, installed_of_site, site_assets_page
from vigil.store.inventory import sbom_of

__all__ = ["ASSET_FILTERS", "AssetsPage", "assets_page", "site_asset"]


@dataclass(frozen=True)
class AssetsPage:
    """One page."""

    items: list[dict[str, Any]]
    """asset_dict objects, by (site_id, asset_id)."""
    next_key: tuple[int, str] | None
    """(site_id, asset_id) of the last item when more follow."""


def assets_page(
    store: Store,
    sites: Sequence[SiteRef],
    filters: Mapping[str, Sequence[str]],
    after: tuple[int, str] | None,
    limit: int,
) -> AssetsPage:
    """Up to `limit` assets of `sites` after the key `after`, each with its installed products."""
    found: list[tuple[SiteRef, Any]] = []
    with store.sessions() as session:
        for site in sorted(sites, key=lambda s: s.id):
            if after is not None and site.id < after[0]:
                continue
            start = after[1] if after is not None and site.id == after[0] else None
            found += [(site, a) for a in site_assets_page(session, site.id, filters, start, limit + 1 - len(found))]
            if len(found) > limit:
                break
        page = found[:limit]
        installed: dict[tuple[int, str], list[Any]] = {}
        for site_id in {a.site_id for _, a in page}:
            of_site = installed_of_site(session, site_id, [a.asset_id for _, a in page if a.site_id == site_id])
            installed.update({(site_id, asset_id): rows for asset_id, rows in of_site.items()})
        items = [asset_dict(a, site.name, installed[(a.site_id, a.asset_id)]) for site, a in page]
    if len(found) > limit:
        last = page[-1][1]
        return AssetsPage(items, (last.site_id, last.asset_id))
    return AssetsPage(items, None)


def site_asset(store: Store, site: SiteRef, asset_id: str) -> dict[str, Any] | None:
    """`vigil inventory show --format json` of one asset of one site, or None."""
    with store.sessions() as session:
        asset = asset_of(session, site.id, asset_id)
        if asset is None:
            return None
        detail = asset_dict(asset, site.name, installed_of_site(session, site.id, [asset_id])[asset_id])
        sbom = sbom_of(session, site.id, asset_id)
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
