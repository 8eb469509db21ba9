"""Read queries for reports, each scoped to one site: counts are aggregated in SQL (a large site's findings
are never loaded to be counted); only the rows a report lists (risk acceptances, evidence, open actions) are
read back.

A report counts a site's *reported* findings: open (not closed), prevailing (no vendor document prevails over
them) and not rejected on review, which is what `vigil findings` shows by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select
from sqlalchemy.orm import Session

from vigil.response.states import FIXED, MITIGATED, REMEDIATION_SCHEDULED, RISK_ACCEPTED
from vigil.store import schema as t
from vigil.store.findings_queries import stated

F = t.Finding
A = t.ActionItem
Rev = t.AdvisoryRevision

EVIDENCE_STATUSES = (MITIGATED, REMEDIATION_SCHEDULED, FIXED, RISK_ACCEPTED)
"""Statuses that rest on something a person stated (a control, a planned visit, a fix, an accepted risk)."""


@dataclass(frozen=True)
class SiteStatusCount:
    """Reported findings of a site in one response status."""

    response_status: str
    """One of RESPONSE_STATUSES."""
    findings: int
    """Findings (device x advisory x vulnerability) in that status."""
    devices: int
    """Distinct devices with at least one finding in that status."""


@dataclass(frozen=True)
class AdvisoryStatusCount:
    """Devices of a site with at least one finding of one advisory in one response status."""

    advisory_id: int
    """advisory.id."""
    response_status: str
    """One of RESPONSE_STATUSES."""
    devices: int
    """Distinct devices (a device whose CVEs differ in status counts under each of them)."""


@dataclass(frozen=True)
class AdvisoryHeader:
    """What a report names an advisory by (its current revision)."""

    advisory_id: int
    """advisory.id."""
    tracking_id: str
    """/document/tracking/id."""
    title: str
    """/document/title of the current revision (untrusted text)."""
    publisher: str
    """/document/publisher/name."""
    tracking_version: str
    """/document/tracking/version of the current revision."""


@dataclass(frozen=True)
class StatedFinding:
    """A finding whose response status rests on a person's statement, with that statement."""

    finding_id: int
    """finding.id."""
    asset_id: str
    """The device."""
    tracking_id: str
    """The advisory's tracking id."""
    cve: str | None
    """The vulnerability's CVE, if it has one."""
    vulnerability_key: str
    """The vulnerability within the advisory (CVE, else first id, else `#ordinal`)."""
    response_status: str
    """mitigated, remediation_scheduled, fixed or risk_accepted."""
    response_source: str
    """device, decision, matcher, expiry, action or initial."""
    response_detail: dict[str, Any]
    """What the status rests on (StatusChange.detail(): comment, evidence, FCO, owner, expiry, ...)."""
    risk_expires_at: datetime | None
    """End of a risk acceptance."""
    updated_at: datetime
    """When the finding last changed."""


@dataclass(frozen=True)
class OpenAction:
    """An open action item of a device."""

    action_id: int
    """action_item.id."""
    asset_id: str
    """The device."""
    advisory_id: int
    """advisory.id."""
    tracking_id: str
    """The advisory's tracking id."""
    category: str
    """CSAF remediation category (mitigation, workaround, vendor_fix, ...)."""
    details: str
    """The advisory's own remediation text (untrusted)."""
    url: str | None
    """The remediation's URL (untrusted; shown as text, never fetched or linked)."""
    vulnerability_keys: tuple[str, ...]
    """The vulnerabilities (CVE, else key) the remediation answers."""
    assignee: str | None
    """Who carries it out."""


def begin_snapshot(session: Session) -> None:
    """Read everything that follows from one snapshot, so a report's totals agree with its lists even while
    statuses change: REPEATABLE READ on PostgreSQL, one read transaction on SQLite (pysqlite opens none for
    reads, so each statement would read its own snapshot)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        session.connection().exec_driver_sql("BEGIN")


def _reported(site_id: int, advisory_ids: Sequence[int] | None) -> ColumnElement[bool]:
    condition = and_(
        stated(site_id),
        F.prevailing.is_(True),
        or_(F.review.is_(None), F.review != "rejected"),
    )
    if advisory_ids is not None:
        condition = and_(condition, F.advisory_id.in_(advisory_ids))
    return condition


def site_status_counts(
    session: Session, site_id: int, advisory_ids: Sequence[int] | None = None
) -> list[SiteStatusCount]:
    """Reported findings and devices of a site per response status."""
    query = (
        select(F.response_status, func.count(), func.count(F.asset_id.distinct()))
        .where(_reported(site_id, advisory_ids))
        .group_by(F.response_status)
    )
    return [SiteStatusCount(status, findings, devices) for status, findings, devices in session.execute(query)]


def site_device_total(session: Session, site_id: int, advisory_ids: Sequence[int] | None = None) -> int:
    """Distinct devices with at least one reported finding."""
    query = select(func.count(F.asset_id.distinct())).where(_reported(site_id, advisory_ids))
    return int(session.scalar(query) or 0)


def advisory_status_counts(
    session: Session, site_id: int, advisory_ids: Sequence[int] | None = None
) -> list[AdvisoryStatusCount]:
    """Devices per (advisory, response status) among a site's reported findings."""
    query = (
        select(F.advisory_id, F.response_status, func.count(F.asset_id.distinct()))
        .where(_reported(site_id, advisory_ids))
        .group_by(F.advisory_id, F.response_status)
    )
    return [AdvisoryStatusCount(advisory, status, devices) for advisory, status, devices in session.execute(query)]


def advisory_device_totals(session: Session, site_id: int, advisory_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Distinct devices per advisory among a site's reported findings."""
    query = (
        select(F.advisory_id, func.count(F.asset_id.distinct()))
        .where(_reported(site_id, advisory_ids))
        .group_by(F.advisory_id)
    )
    return {advisory: devices for advisory, devices in session.execute(query)}


def superseded_device_counts(
    session: Session, site_id: int, advisory_ids: Sequence[int] | None = None
) -> dict[int, int]:
    """Distinct devices per advisory whose open findings a vendor's own advisory prevails over: why a
    coordinator's advisory can show no devices at a site that has them."""
    query = select(F.advisory_id, func.count(F.asset_id.distinct())).where(
        F.site_id == site_id, F.closed_at.is_(None), F.prevailing.is_(False)
    )
    if advisory_ids is not None:
        query = query.where(F.advisory_id.in_(advisory_ids))
    return {advisory: devices for advisory, devices in session.execute(query.group_by(F.advisory_id))}


def advisory_cves(session: Session, site_id: int, advisory_ids: Sequence[int] | None = None) -> dict[int, list[str]]:
    """The CVEs of each advisory that concern the site (its reported findings), sorted."""
    query = (
        select(F.advisory_id, F.cve)
        .where(_reported(site_id, advisory_ids), F.cve.is_not(None))
        .distinct()
        .order_by(F.advisory_id, F.cve)
    )
    cves: dict[int, list[str]] = {}
    for advisory, cve in session.execute(query):
        if cve is not None:  # the query excludes them; the column is nullable
            cves.setdefault(advisory, []).append(cve)
    return cves


def advisory_headers(session: Session, advisory_ids: Sequence[int]) -> dict[int, AdvisoryHeader]:
    """Tracking id, title and publisher of the current revision of each advisory (reference data)."""
    if not advisory_ids:
        return {}
    query = (
        select(t.Advisory.id, t.Advisory.tracking_id, Rev.title, Rev.publisher_name, Rev.tracking_version)
        .join(Rev, Rev.advisory_id == t.Advisory.id)
        .where(t.Advisory.id.in_(advisory_ids), Rev.is_current.is_(True))
    )
    return {row[0]: AdvisoryHeader(*row) for row in session.execute(query)}


def open_action_counts(session: Session, site_id: int, advisory_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Open action items per advisory."""
    query = select(A.advisory_id, func.count()).where(A.site_id == site_id, A.state == "open").group_by(A.advisory_id)
    if advisory_ids is not None:
        query = query.where(A.advisory_id.in_(advisory_ids))
    return {advisory: count for advisory, count in session.execute(query)}


def _stated(site_id: int, advisory_ids: Sequence[int] | None) -> Select[Any]:
    return (
        select(
            F.id,
            F.asset_id,
            t.Advisory.tracking_id,
            F.cve,
            F.vulnerability_key,
            F.response_status,
            F.response_source,
            F.response_detail,
            F.risk_expires_at,
            F.updated_at,
        )
        .join(t.Advisory, t.Advisory.id == F.advisory_id)
        .where(_reported(site_id, advisory_ids))
    )


def _stated_rows(session: Session, query: Select[Any]) -> list[StatedFinding]:
    return [
        StatedFinding(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7] or {}, row[8], row[9])
        for row in session.execute(query)
    ]


def expiring_risk_acceptances(
    session: Session, site_id: int, until: datetime, advisory_ids: Sequence[int] | None = None
) -> list[StatedFinding]:
    """Risk acceptances ending at or before `until` (already lapsed ones the expiry sweep has not reopened
    yet included), soonest first."""
    # A literal, not a bound value: SQLite uses the partial index on accepted risks only when the query states
    # its condition verbatim.
    accepted = F.response_status == literal(RISK_ACCEPTED, literal_execute=True)
    query = (
        _stated(site_id, advisory_ids)
        .where(accepted, F.risk_expires_at <= until)
        .order_by(F.risk_expires_at, F.asset_id, t.Advisory.tracking_id, F.vulnerability_key)
    )
    return _stated_rows(session, query)


def stated_findings(session: Session, site_id: int, advisory_ids: Sequence[int] | None = None) -> list[StatedFinding]:
    """Reported findings in EVIDENCE_STATUSES with what backs them, by device, advisory and vulnerability."""
    query = (
        _stated(site_id, advisory_ids)
        .where(F.response_status.in_(EVIDENCE_STATUSES))
        .order_by(F.asset_id, t.Advisory.tracking_id, F.vulnerability_key)
    )
    return _stated_rows(session, query)


def open_actions(session: Session, site_id: int, tracking_ids: Sequence[str]) -> list[OpenAction]:
    """Open action items of the advisories with these tracking ids, by device, advisory and id."""
    if not tracking_ids:
        return []
    query = (
        select(
            A.id,
            A.asset_id,
            A.advisory_id,
            t.Advisory.tracking_id,
            A.category,
            A.details,
            A.url,
            A.vulnerability_keys,
            A.assignee,
        )
        .join(t.Advisory, t.Advisory.id == A.advisory_id)
        .where(A.site_id == site_id, A.state == "open", t.Advisory.tracking_id.in_(tracking_ids))
        .order_by(A.asset_id, t.Advisory.tracking_id, A.id)
    )
    return [
        OpenAction(row[0], row[1], row[2], row[3], row[4], row[5], row[6], tuple(row[7] or ()), row[8])
        for row in session.execute(query)
    ]
