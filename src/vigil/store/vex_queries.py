"""Reads for VEX export and import. Every statement is scoped to one site; advisory rows (reference data) are
read by revision id."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from vigil.identity.identifiers import part_number, serial_number
from vigil.store import schema as t
from vigil.store.findings_queries import stated

F = t.Finding
_BATCH = 500  # ids per IN (...) list: well under both databases' bind-parameter limits


@dataclass(frozen=True, slots=True)
class VexFindingRow:
    """An open finding with what a VEX statement about it needs."""

    id: int
    """Finding id."""
    asset_id: str
    """The device."""
    advisory_id: int
    """advisory.id."""
    revision_id: int
    """The revision the finding follows (its remediations are the advisory's action statement)."""
    vulnerability_key: str
    """The vulnerability within the advisory."""
    cve: str | None
    """Its CVE."""
    product_ids: list[Any]
    """The advisory's product ids that matched the device."""
    prevailing: bool
    """False when a vendor's own advisory prevails for this CVE and product family."""
    response_status: str
    """The site's status."""
    response_detail: dict[str, Any] | None
    """What the status rests on (plus actor and time of the change)."""
    response_version: int
    """Optimistic-lock version."""
    opened_at: datetime
    """When the finding was opened."""
    updated_at: datetime
    """When it last changed."""
    tracking_id: str
    """The advisory's /document/tracking/id."""
    publisher_namespace: str
    """The advisory's publisher namespace."""


_COLUMNS = (
    *(getattr(F, name) for name in tuple(VexFindingRow.__dataclass_fields__)[:-2]),
    t.Advisory.tracking_id,
    t.Advisory.publisher_namespace,
)


def _open(query: Any, site_id: int) -> Any:
    # A rejected possible match is not about the device at all: no statement for it.
    return query.where(stated(site_id), or_(F.review.is_(None), F.review != "rejected")).join(
        t.Advisory, t.Advisory.id == F.advisory_id
    )


def open_findings(session: Session, site_id: int, advisory_ids: Sequence[int] | None) -> list[VexFindingRow]:
    """The site's open findings: those that prevail, or every one of the given advisories."""
    query = _open(select(*_COLUMNS), site_id)
    if advisory_ids is None:
        query = query.where(F.prevailing.is_(True))
    else:
        query = query.where(F.advisory_id.in_(advisory_ids))
    query = query.order_by(F.asset_id, F.cve, t.Advisory.tracking_id, F.vulnerability_key, F.id)
    return [VexFindingRow(*row) for row in session.execute(query)]


def open_findings_of_assets(session: Session, site_id: int, asset_ids: Iterable[str]) -> list[VexFindingRow]:
    """Every open finding of the given devices (prevailing or not)."""
    ids = sorted(set(asset_ids))
    found: list[VexFindingRow] = []
    for start in range(0, len(ids), _BATCH):
        query = _open(select(*_COLUMNS), site_id).where(F.asset_id.in_(ids[start : start + _BATCH]))
        found.extend(VexFindingRow(*row) for row in session.execute(query.order_by(F.id)))
    return found


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A device as the inventory wrote it."""

    asset_id: str
    """Asset id."""
    manufacturer: str | None
    """Manufacturer (raw, else canonical)."""
    model: str | None
    """Model (raw)."""
    model_number: str | None
    """Model number (raw)."""
    serial_number: str | None
    """Serial number (raw)."""
    version: str | None
    """Firmware, else the version of its first installed product from the inventory."""


def devices(session: Session, site_id: int, asset_ids: Iterable[str]) -> dict[str, DeviceRow]:
    a, p = t.Asset, t.InstalledProduct
    ids = sorted(set(asset_ids))
    found: dict[str, DeviceRow] = {}
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        software: dict[str, str | None] = {}
        query = (
            select(p.asset_id, p.version_raw)
            .where(p.site_id == site_id, p.asset_id.in_(chunk), p.origin == "inventory", p.version_raw.is_not(None))
            .order_by(p.asset_id, p.ordinal)
        )
        for asset_id, version in session.execute(query):
            software.setdefault(asset_id, version)
        rows = session.execute(
            select(
                a.asset_id,
                a.manufacturer_raw,
                a.manufacturer,
                a.model_raw,
                a.model_number_raw,
                a.serial_number_raw,
                a.firmware_version_raw,
            ).where(a.site_id == site_id, a.asset_id.in_(chunk))
        )
        for asset_id, manufacturer_raw, manufacturer, model, model_number, serial, firmware in rows:
            version = firmware or software.get(asset_id)
            found[asset_id] = DeviceRow(
                asset_id, manufacturer_raw or manufacturer, model, model_number, serial, version
            )
    return found


def existing_assets(session: Session, site_id: int, asset_ids: Iterable[str]) -> set[str]:
    ids = sorted(set(asset_ids))
    found: set[str] = set()
    for start in range(0, len(ids), _BATCH):
        query = select(t.Asset.asset_id).where(
            t.Asset.site_id == site_id, t.Asset.asset_id.in_(ids[start : start + _BATCH])
        )
        found.update(session.scalars(query))
    return found


def identifier_key(serial: str, model_number: str) -> tuple[str, str]:
    """(serial, model number) as the inventory normalises them: `4598 009 39471` is `459800939471`."""
    return serial_number(serial), part_number(model_number)


def assets_by_identifiers(
    session: Session, site_id: int, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[str]]:
    """Asset ids per identifier_key (serial, model number)."""
    wanted = sorted(set(keys))
    found: dict[tuple[str, str], list[str]] = {}
    a = t.Asset
    for start in range(0, len(wanted), _BATCH):
        chunk = wanted[start : start + _BATCH]
        condition = or_(*(and_(a.serial_number == s, a.model_number == m) for s, m in chunk))
        query = select(a.serial_number, a.model_number, a.asset_id).where(a.site_id == site_id, condition)
        for serial, model, asset_id in session.execute(query.order_by(a.asset_id)):
            found.setdefault((str(serial), str(model)), []).append(asset_id)
    return found


def vulnerabilities(session: Session, revision_ids: Iterable[int]) -> list[t.Vulnerability]:
    ids = sorted(set(revision_ids))
    found: list[t.Vulnerability] = []
    for start in range(0, len(ids), _BATCH):
        query = select(t.Vulnerability).where(t.Vulnerability.revision_id.in_(ids[start : start + _BATCH]))
        found.extend(session.scalars(query.order_by(t.Vulnerability.id)))
    return found


def remediations(session: Session, revision_ids: Iterable[int]) -> list[t.Remediation]:
    ids = sorted(set(revision_ids))
    found: list[t.Remediation] = []
    for start in range(0, len(ids), _BATCH):
        query = select(t.Remediation).where(t.Remediation.revision_id.in_(ids[start : start + _BATCH]))
        found.extend(session.scalars(query.order_by(t.Remediation.id)))
    return found


def group_members(session: Session, revision_ids: Iterable[int]) -> dict[tuple[int, str], set[str]]:
    """(revision id, group id) -> the product ids of the group."""
    ids = sorted(set(revision_ids))
    found: dict[tuple[int, str], set[str]] = {}
    m = t.ProductGroupMember
    for start in range(0, len(ids), _BATCH):
        query = select(m.revision_id, m.group_id, m.product_id).where(m.revision_id.in_(ids[start : start + _BATCH]))
        for revision_id, group_id, product in session.execute(query):
            found.setdefault((revision_id, group_id), set()).add(product)
    return found
