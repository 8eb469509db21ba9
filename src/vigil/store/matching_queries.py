"""Read queries for the matcher: revisions to compile, assets to evaluate, candidate assets by key.

Advisory rows are reference data (every site reads them); asset queries are scoped to one site, so a
distributed database answers them from one node.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from vigil.identity.wildcards import as_like, like_literal
from vigil.sources.csaf.document import (
    GroupMemberRecord,
    HelperRecord,
    ProductRecord,
    RelationshipRecord,
    StatusRecord,
    VulnerabilityRecord,
)
from vigil.sources.inventory.assets import AssetRecord, InstalledRecord
from vigil.store import schema as t
from vigil.store.revision_header import RevisionHeader

Rev = t.AdvisoryRevision
_BATCH = 500  # values per IN (...) list

DEVICE_COLUMNS = (
    "manufacturer_raw",
    "manufacturer",
    "model_raw",
    "model_number_raw",
    "model_number",
    "serial_number_raw",
    "serial_number",
    "udi_di_raw",
    "udi_di",
    "firmware_version_raw",
    "firmware_version",
)
"""The asset columns evaluation reads."""
INSTALLED_COLUMNS = tuple(InstalledRecord.__slots__)


@dataclass
class RevisionRows:
    """Everything of one revision that compiling it needs."""

    header: RevisionHeader
    products: list[ProductRecord] = field(default_factory=list)
    helpers: list[HelperRecord] = field(default_factory=list)
    relationships: list[RelationshipRecord] = field(default_factory=list)
    group_members: list[GroupMemberRecord] = field(default_factory=list)
    vulnerabilities: list[VulnerabilityRecord] = field(default_factory=list)
    statuses: list[StatusRecord] = field(default_factory=list)


def current_headers(session: Session, revision_ids: Sequence[int] | None = None) -> list[RevisionHeader]:
    """Headers of the current revisions (or of the given ones), by revision id."""
    query = (
        select(
            Rev.id,
            Rev.advisory_id,
            t.Advisory.tracking_id,
            Rev.tracking_version,
            Rev.publisher_name,
            Rev.publisher_category,
        )
        .join(t.Advisory, t.Advisory.id == Rev.advisory_id)
        .order_by(Rev.id)
    )
    if revision_ids is None:
        rows = session.execute(query.where(Rev.is_current.is_(True))).all()
    else:
        rows = [row for chunk in _chunks(revision_ids) for row in session.execute(query.where(Rev.id.in_(chunk)))]
    return [RevisionHeader(*row) for row in rows]


def revision_rows(session: Session, headers: Sequence[RevisionHeader], all_current: bool) -> list[RevisionRows]:
    """The compile inputs of the given revisions; `all_current` when they are every current revision (one
    join instead of IN lists)."""
    found = {header.revision_id: RevisionRows(header) for header in headers}
    if not found:
        return []

    def rows(*columns: Any) -> Iterator[Any]:
        table = columns[0].class_
        query = select(table.revision_id, *columns)
        if all_current:
            yield from session.execute(
                query.join(Rev, Rev.id == table.revision_id).where(Rev.is_current.is_(True)).order_by(table.id)
            )
            return
        for chunk in _chunks(list(found)):
            yield from session.execute(query.where(table.revision_id.in_(chunk)).order_by(table.id))

    p = t.Product
    for rid, pid, name, origin, leaf, vendor, family, product, version, version_range in rows(
        p.product_id,
        p.name,
        p.origin,
        p.leaf_category,
        p.vendor,
        p.product_family,
        p.product_name,
        p.product_version,
        p.product_version_range,
    ):
        if rid in found:
            record = ProductRecord(pid, name, origin, leaf, vendor, family, product, version, version_range, [])
            found[rid].products.append(record)
    h = t.ProductIdentificationHelper
    for rid, *values in rows(h.product_id, h.kind, h.value, h.detail):
        if rid in found:
            found[rid].helpers.append(HelperRecord(*values))
    r = t.Relationship
    for rid, *values in rows(r.product_id, r.category, r.product_reference, r.relates_to_product_reference):
        if rid in found:
            found[rid].relationships.append(RelationshipRecord(*values))
    g = t.ProductGroupMember
    for rid, *values in rows(g.group_id, g.group_summary, g.product_id):
        if rid in found:
            found[rid].group_members.append(GroupMemberRecord(*values))
    v = t.Vulnerability
    for rid, *values in rows(v.ordinal, v.cve, v.title, v.cwe_id, v.cwe_name, v.discovery_date, v.release_date, v.ids):
        if rid in found:
            found[rid].vulnerabilities.append(VulnerabilityRecord(*values))
    s = t.ProductStatus
    for rid, *values in rows(s.vulnerability_ordinal, s.status, s.product_id):
        if rid in found:
            found[rid].statuses.append(StatusRecord(*values))
    return list(found.values())


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]


# --- assets ------------------------------------------------------------------------------------------------


def _asset_query(site_id: int) -> Select[Any]:
    columns = [t.Asset.asset_id, *(getattr(t.Asset, c) for c in DEVICE_COLUMNS)]
    return select(*columns).where(t.Asset.site_id == site_id).order_by(t.Asset.asset_id)


def _installed_query(site_id: int) -> Select[Any]:
    ip = t.InstalledProduct
    columns = [ip.asset_id, *(getattr(ip, c) for c in INSTALLED_COLUMNS)]
    return select(*columns).where(ip.site_id == site_id).order_by(ip.asset_id, ip.origin.desc(), ip.ordinal)


def scan_rows(session: Session, site_id: int) -> Iterator[tuple[Any, ...]]:
    """Every asset row, then every installed-product row of the site, as plain tuples: the benchmark's floor
    reads exactly what `iter_assets` reads, with nothing done to it."""
    options = {"stream_results": True, "yield_per": 20_000}
    yield from session.execute(_asset_query(site_id).execution_options(**options)).tuples()
    yield from session.execute(_installed_query(site_id).execution_options(**options)).tuples()


def iter_assets(session: Session, site_id: int, asset_ids: Sequence[str] | None = None) -> Iterator[AssetRecord]:
    """The site's assets (or the given ones) with their installed products, by asset_id.

    The whole site streams as two ordered scans merged here, so memory stays flat; equal installed products
    share one record, which evaluation remembers its matches by.
    """
    interned: dict[tuple[Any, ...], InstalledRecord] = {}
    if asset_ids is None:
        options = {"stream_results": True, "yield_per": 20_000}
        assets = session.execute(_asset_query(site_id).execution_options(**options)).tuples()
        installed = session.execute(_installed_query(site_id).execution_options(**options)).tuples()
        yield from _merge(assets, installed, interned)
        return
    for chunk in _chunks(sorted(set(asset_ids))):
        assets = session.execute(_asset_query(site_id).where(t.Asset.asset_id.in_(chunk))).tuples()
        ip = t.InstalledProduct
        installed = session.execute(_installed_query(site_id).where(ip.asset_id.in_(chunk))).tuples()
        yield from _merge(assets, installed, interned)


def _merge(
    assets: Iterable[tuple[Any, ...]], installed: Iterable[tuple[Any, ...]], interned: dict[tuple[Any, ...], Any]
) -> Iterator[AssetRecord]:
    products = iter(installed)
    pending = next(products, None)
    for row in assets:
        asset_id = row[0]
        own: list[InstalledRecord] = []
        while pending is not None and pending[0] <= asset_id:
            if pending[0] == asset_id:
                values = pending[1:]
                record = interned.get(values)
                if record is None:
                    record = interned[values] = InstalledRecord(*values)
                own.append(record)
            pending = next(products, None)
        yield AssetRecord("", asset_id, dict(zip(DEVICE_COLUMNS, row[1:], strict=True)), tuple(own), {}, 0, "")


def changed_asset_ids(session: Session, site_id: int, since: int) -> list[str]:
    """Assets of the site written since the change counter stood at `since` (added, updated, SBOM attached)."""
    query = select(t.Asset.asset_id).where(t.Asset.site_id == site_id, t.Asset.change_seq >= since)
    return list(session.scalars(query))


def removed_asset_ids(session: Session, site_id: int, since: int) -> set[str]:
    """Assets removed from the site since the change counter stood at `since` and not added back."""
    removed = t.AssetRemoval
    query = select(removed.asset_id).where(removed.site_id == site_id, removed.change_seq >= since)
    gone = set(session.scalars(query))
    return gone - existing_asset_ids(session, site_id, sorted(gone)) if gone else gone


def existing_asset_ids(session: Session, site_id: int, asset_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(sorted(set(asset_ids))):
        query = select(t.Asset.asset_id).where(t.Asset.site_id == site_id, t.Asset.asset_id.in_(chunk))
        found.update(session.scalars(query))
    return found


def candidate_asset_ids(
    session: Session,
    site_id: int,
    names: Iterable[str],
    families: Iterable[str],
    packages: Iterable[str],
    identifiers: Iterable[tuple[str, str]],
    wildcards: Iterable[tuple[str, str]],
) -> set[str]:
    """Assets of the site that carry any of the keys: what an index of a few new revisions could match.

    Mirrors CatalogIndex exactly (name keys on the device model and installed products, family prefixes,
    purl/CPE keys, identifiers, wildcard identifiers as LIKE patterns), so an incremental run finds every
    asset a full run would."""
    found: set[str] = set()
    a, ip = t.Asset, t.InstalledProduct
    names = sorted(set(names))
    for chunk in _chunks(names):
        found.update(session.scalars(select(a.asset_id).where(a.site_id == site_id, a.model_key.in_(chunk))))
        found.update(session.scalars(select(ip.asset_id).where(ip.site_id == site_id, ip.name_key.in_(chunk))))
    for family in sorted(set(families)):
        pattern = like_literal(family) + " %"
        found.update(
            session.scalars(select(a.asset_id).where(a.site_id == site_id, a.model_key.like(pattern, escape="\\")))
        )
        found.update(
            session.scalars(select(ip.asset_id).where(ip.site_id == site_id, ip.name_key.like(pattern, escape="\\")))
        )
    for chunk in _chunks(sorted(set(packages))):
        found.update(
            session.scalars(
                select(ip.asset_id).where(ip.site_id == site_id, or_(ip.purl_key.in_(chunk), ip.cpe_key.in_(chunk)))
            )
        )
    by_field: dict[str, list[str]] = defaultdict(list)
    for column, value in identifiers:
        by_field[column].append(value)
    for column, values in by_field.items():
        for chunk in _chunks(sorted(values)):
            query = select(a.asset_id).where(a.site_id == site_id, getattr(a, column).in_(chunk))
            found.update(session.scalars(query))
    for column, value in wildcards:
        query = select(a.asset_id).where(a.site_id == site_id, getattr(a, column).like(as_like(value), "\\"))
        found.update(session.scalars(query))
    return found
