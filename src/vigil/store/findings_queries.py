"""Read queries over findings (no writes here): listing with filters, one finding, counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from vigil.store import schema as t
from vigil.store.findings import ASSET_CHANGED

Rev = t.AdvisoryRevision
Ev = t.FindingEvidence


@dataclass(frozen=True)
class FindingFilter:
    """What `vigil findings` (and later the API) may filter on; None means any."""

    site_ids: Sequence[int] | None = None
    """Sites to show."""
    advisory_ids: Sequence[int] | None = None
    """advisory.id of the tracking id asked for."""
    asset_id: str | None = None
    """One asset id."""
    statuses: Sequence[str] | None = None
    """affected, fixed, not_affected, under_investigation."""
    matches: Sequence[str] | None = None
    """exact, probable, possible."""
    review: str | None = None
    """pending, confirmed or rejected."""
    cve: str | None = None
    """One CVE."""
    include_closed: bool = False
    """Closed findings too."""
    include_superseded: bool = False
    """Findings a vendor document prevails over too."""
    response_statuses: Sequence[str] | None = None
    """The site's response statuses (under_investigation, affected, mitigated, ...)."""


def stated(site_id: int) -> ColumnElement[bool]:
    """The findings VEX and reports state for a site: open ones, and closed ones the inventory showed fixed
    (the device is still there, on a version the advisory does not list): auditors want to see those."""
    f, a = t.Finding, t.Asset
    fixed_in_inventory = and_(
        f.response_status == "fixed",
        f.response_source == "matcher",
        f.closed_reason == ASSET_CHANGED,
        exists().where(a.site_id == site_id, a.asset_id == f.asset_id),
    )
    return and_(f.site_id == site_id, or_(f.closed_at.is_(None), fixed_in_inventory))


def _filtered(query: Select[Any], spec: FindingFilter) -> Select[Any]:
    f = t.Finding
    if spec.site_ids is not None:
        query = query.where(f.site_id.in_(spec.site_ids))
    if spec.advisory_ids is not None:
        query = query.where(f.advisory_id.in_(spec.advisory_ids))
    if spec.asset_id is not None:
        query = query.where(f.asset_id == spec.asset_id)
    if spec.statuses:
        query = query.where(f.status.in_(spec.statuses))
    if spec.matches:
        query = query.where(f.match.in_(spec.matches))
    if spec.review:
        query = query.where(f.review == spec.review)
    if spec.cve:
        query = query.where(f.cve == spec.cve.upper())
    if spec.response_statuses:
        query = query.where(f.response_status.in_(spec.response_statuses))
    if not spec.include_closed:
        query = query.where(f.closed_at.is_(None))
    if not spec.include_superseded:
        query = query.where(f.prevailing.is_(True))
    return query


def list_findings(session: Session, spec: FindingFilter, limit: int | None = None, offset: int = 0) -> Sequence[Any]:
    """(Finding, site name, tracking id, publisher name, publisher category, evidence) rows, by site, asset,
    advisory."""
    f = t.Finding
    query: Any = (
        select(f, t.Site.name, t.Advisory.tracking_id, Rev.publisher_name, Rev.publisher_category, Ev.evidence)
        .join(t.Site, t.Site.id == f.site_id)
        .join(t.Advisory, t.Advisory.id == f.advisory_id)
        .join(Rev, Rev.id == f.revision_id)
        .join(Ev, (Ev.site_id == f.site_id) & (Ev.digest == f.evidence_digest))
        .order_by(t.Site.name, f.asset_id, t.Advisory.tracking_id, f.vulnerability_key)
        .offset(offset)
    )
    query = _filtered(query, spec)
    if limit is not None:
        query = query.limit(limit)
    return session.execute(query).all()


def open_count(session: Session, site_id: int) -> int:
    """Open findings of a site (a scan of the site's findings: full runs only)."""
    f = t.Finding
    return int(session.scalar(select(func.count()).where(f.site_id == site_id, f.closed_at.is_(None))) or 0)


def review_count(session: Session, site_id: int) -> int:
    """Open findings of a site waiting for review (read from the partial index of the review queue)."""
    f = t.Finding
    # A literal, not a bound value: SQLite uses a partial index only when the query states its condition.
    query = select(func.count()).where(
        f.site_id == site_id, f.review == literal("pending", literal_execute=True), f.closed_at.is_(None)
    )
    return int(session.scalar(query) or 0)


def find_finding(session: Session, finding_id: int, site_ids: Sequence[int] | None = None) -> Any | None:
    """(Finding, site name, tracking id, publisher name, publisher category, evidence) of one finding id."""
    f = t.Finding
    query = (
        select(f, t.Site.name, t.Advisory.tracking_id, Rev.publisher_name, Rev.publisher_category, Ev.evidence)
        .join(t.Site, t.Site.id == f.site_id)
        .join(t.Advisory, t.Advisory.id == f.advisory_id)
        .join(Rev, Rev.id == f.revision_id)
        .join(Ev, (Ev.site_id == f.site_id) & (Ev.digest == f.evidence_digest))
        .where(f.id == finding_id)
    )
    if site_ids is not None:
        query = query.where(f.site_id.in_(site_ids))
    return session.execute(query).first()
