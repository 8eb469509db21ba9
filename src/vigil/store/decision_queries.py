"""Decide-once rules and what they need to find their devices. Every statement is scoped to one site."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from vigil.response.decisions import DeviceFacts
from vigil.store import schema as t
from vigil.store.ids import allocate

F, A, IP, D = t.Finding, t.Asset, t.InstalledProduct, t.Decision
OVERRIDABLE_SOURCES = ("initial", "matcher", "decision", "expiry")
"""Statuses a decision may replace: not a person's per-device choice (device), nor a VEX statement about the
device (vex), nor evidence gathered on it (action, verification)."""


def insert_decision(session: Session, site_id: int, values: dict[str, Any]) -> int:
    decision_id = allocate(session, "decision", 1)
    session.execute(insert(D).values(site_id=site_id, id=decision_id, **values))
    return decision_id


def decisions_of(session: Session, site_id: int, include_revoked: bool = False) -> list[t.Decision]:
    query = select(D).where(D.site_id == site_id).order_by(D.id)
    if not include_revoked:
        query = query.where(D.revoked_at.is_(None))
    return list(session.scalars(query))


def decision_by_id(session: Session, site_id: int, decision_id: int) -> t.Decision | None:
    return session.scalar(select(D).where(D.site_id == site_id, D.id == decision_id))


def revoke(session: Session, site_id: int, decision_id: int, actor: str, now: datetime) -> None:
    session.execute(update(D).where(D.site_id == site_id, D.id == decision_id).values(revoked_at=now, revoked_by=actor))


def candidate_findings(
    session: Session,
    site_id: int,
    cves: Iterable[str],
    advisory_ids: Iterable[int],
    sources: Sequence[str] = OVERRIDABLE_SOURCES,
) -> list[tuple[int, str, str | None, int]]:
    """(finding id, asset id, cve, advisory id) of open, prevailing findings of the site about the given CVEs
    or advisories whose status a decision may set (which devices it covers is DecisionScope's to say)."""
    cve_list, advisory_list = sorted(set(cves)), sorted(set(advisory_ids))
    if not cve_list and not advisory_list:
        return []
    subject = or_(F.cve.in_(cve_list), F.advisory_id.in_(advisory_list))
    query = (
        select(F.id, F.asset_id, F.cve, F.advisory_id)
        .where(
            F.site_id == site_id,
            subject,
            F.closed_at.is_(None),
            F.prevailing.is_(True),
            F.response_source.in_(sources),
        )
        .order_by(F.id)
    )
    return [(row[0], row[1], row[2], row[3]) for row in session.execute(query)]


def device_facts(session: Session, site_id: int, asset_ids: Iterable[str]) -> dict[str, DeviceFacts]:
    ids = sorted(set(asset_ids))
    software: dict[str, list[tuple[str | None, str, str | None]]] = {asset_id: [] for asset_id in ids}
    facts: dict[str, DeviceFacts] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        installed = select(IP.asset_id, IP.vendor, IP.name_key, IP.version).where(
            IP.site_id == site_id, IP.asset_id.in_(chunk)
        )
        for asset_id, vendor, key, version in session.execute(installed):
            software[asset_id].append((vendor, key, version))
        assets = select(A.asset_id, A.manufacturer, A.model_key, A.model_number, A.firmware_version).where(
            A.site_id == site_id, A.asset_id.in_(chunk)
        )
        for asset_id, manufacturer, model_key, model_number, firmware in session.execute(assets):
            facts[asset_id] = DeviceFacts(manufacturer, model_key, model_number, firmware, tuple(software[asset_id]))
    return facts
