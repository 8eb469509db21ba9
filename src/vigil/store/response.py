"""Response status rows of findings: read one, write one under its optimistic lock, find expired acceptances.
Every statement is scoped to one site."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.response.inventory_fix import DeviceRecord
from vigil.store import schema as t
from vigil.store.bulk import bulk_update
from vigil.store.findings import FINDINGS

F = t.Finding


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """What a status change needs to know about a finding."""

    id: int
    """Finding id."""
    asset_id: str
    """The device."""
    advisory_id: int
    """advisory.id."""
    vulnerability_key: str
    """The vulnerability within the advisory."""
    cve: str | None
    """Its CVE, if any."""
    status: str
    """The advisory's status for the matched product (affected, fixed, ...)."""
    match: str
    """exact, probable or possible."""
    review: str | None
    """pending, confirmed or rejected for possible matches."""
    closed_at: datetime | None
    """Set when the matcher closed the finding."""
    closed_reason: str | None
    """Why it was closed."""
    response_status: str
    """The current response status."""
    response_version: int
    """The optimistic-lock version the next write must name."""
    response_source: str
    """Who set the current status."""
    response_detail: dict[str, Any] | None
    """What the current status rests on."""


_COLUMNS = [getattr(F, name) for name in ResponseRow.__dataclass_fields__]


def response_rows(session: Session, site_id: int, finding_ids: Sequence[int]) -> dict[int, ResponseRow]:
    found: dict[int, ResponseRow] = {}
    ids = sorted(set(finding_ids))
    for start in range(0, len(ids), 500):
        query = select(*_COLUMNS).where(F.site_id == site_id, F.id.in_(ids[start : start + 500]))
        found.update((row[0], ResponseRow(*row)) for row in session.execute(query))
    return found


def write_responses(session: Session, site_id: int, rows: Sequence[dict[str, Any]]) -> int:
    """Write the response columns of findings still at the version each row names (`response_version`: the
    version read), bumping it; returns how many were written. A row another writer moved first matches
    nothing: PostgreSQL re-checks the condition on the row that writer committed; SQLite serialises writers."""
    columns = [c for c in rows[0] if c not in ("id", "response_version")] if rows else []
    keyed = [row | {"site_id": site_id} for row in rows]
    return bulk_update(session, FINDINGS, ("site_id", "id", "response_version"), columns, keyed, "response_version")


def expired_acceptances(session: Session, site_id: int, now: datetime) -> list[int]:
    """Open findings of the site whose risk acceptance has ended (read from their partial index)."""
    query = (
        select(F.id)
        .where(
            F.site_id == site_id,
            F.response_status == "risk_accepted",
            F.risk_expires_at <= now,
            F.closed_at.is_(None),
        )
        .order_by(F.id)
    )
    return list(session.scalars(query))


def closing_evidence(
    session: Session, site_id: int, finding_ids: Sequence[int]
) -> dict[int, tuple[str, dict[str, Any]]]:
    """finding id -> (asset id, match evidence) of the given findings."""
    ev = t.FindingEvidence
    found: dict[int, tuple[str, dict[str, Any]]] = {}
    ids = sorted(set(finding_ids))
    for start in range(0, len(ids), 500):
        query = (
            select(F.id, F.asset_id, ev.evidence)
            .join(ev, (ev.site_id == F.site_id) & (ev.digest == F.evidence_digest))
            .where(F.site_id == site_id, F.id.in_(ids[start : start + 500]))
        )
        found.update((row[0], (row[1], row[2])) for row in session.execute(query))
    return found


_DEVICE_FIELDS = {
    "manufacturer": t.Asset.manufacturer_raw,
    "model": t.Asset.model_raw,
    "model_number": t.Asset.model_number_raw,
    "serial_number": t.Asset.serial_number_raw,
    "udi_di": t.Asset.udi_di_raw,
    "firmware_version": t.Asset.firmware_version_raw,
}
_INSTALLED_FIELDS = {
    "vendor": t.InstalledProduct.vendor_raw,
    "name": t.InstalledProduct.name_raw,
    "version": t.InstalledProduct.version_raw,
    "purl": t.InstalledProduct.purl,
    "cpe": t.InstalledProduct.cpe,
}


def device_records(session: Session, site_id: int, asset_ids: Sequence[str]) -> dict[str, DeviceRecord]:
    """The devices as the inventory records them now, raw values under their match-evidence names."""
    ids = sorted(set(asset_ids))
    installed: dict[str, list[dict[str, str | None]]] = {asset_id: [] for asset_id in ids}
    records: dict[str, DeviceRecord] = {}
    ip, a = t.InstalledProduct, t.Asset
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = select(ip.asset_id, *_INSTALLED_FIELDS.values()).where(ip.site_id == site_id, ip.asset_id.in_(chunk))
        for row in session.execute(query):
            installed[row[0]].append(dict(zip(_INSTALLED_FIELDS, row[1:], strict=True)))
        query = select(a.asset_id, *_DEVICE_FIELDS.values()).where(a.site_id == site_id, a.asset_id.in_(chunk))
        for row in session.execute(query):
            records[row[0]] = DeviceRecord(dict(zip(_DEVICE_FIELDS, row[1:], strict=True)), installed[row[0]])
    return records
