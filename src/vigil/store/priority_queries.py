"""Read queries for prioritisation: one site's open findings with their assets, and what the advisories behind
them say (scores, notes, threats), fetched per batch of revisions or CVEs, never per finding."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from vigil.store import schema as t

BATCH = 500
"""Ids per IN list."""
STREAM = 2000
"""Findings fetched per round trip."""

# Only notes that may speak of exploitation or of harm are read: the rest (legal notices, recommended
# practices) is most of a CISA document's text. Python decides; this only thins what crosses the wire.
NOTE_WORDS = ("exploit", "in the wild", "proof", "poc", "patient", "therap", "injur", "death", "dos", "harm", "life")
THREAT_CATEGORIES = ("exploit_status", "impact")


@dataclass(frozen=True)
class FindingScope:
    """Which findings of one site to read."""

    site_id: int
    """The site (one per query: tenant data never mixes)."""
    advisory_ids: Sequence[int] | None = None
    """advisory.id of the tracking id asked for."""
    cve: str | None = None
    """One CVE."""
    asset_id: str | None = None
    """One asset."""
    statuses: Sequence[str] | None = None
    """Response statuses to read (None: any); possible matches pending review are read whatever their status."""


def open_findings(session: Session, scope: FindingScope) -> Iterator[Any]:
    """Open, prevailing findings of one site with tracking id and asset fields, streamed. Possible matches a
    person rejected are not findings; possible matches still pending review count as open whatever their status.
    `product_ids` comes as JSON text: thousands of findings share a few lists, the caller parses each once."""
    f, a = t.Finding, t.Asset
    query: Any = (
        select(
            f.id,
            f.asset_id,
            f.revision_id,
            f.vulnerability_key,
            f.cve,
            f.response_status,
            f.match,
            f.review,
            cast(f.product_ids, Text).label("product_ids"),
            f.opened_at,
            t.Advisory.tracking_id,
            a.network_zone,
            a.device_category,
            a.patient_connected,
            a.life_sustaining,
        )
        .join(t.Advisory, t.Advisory.id == f.advisory_id)
        .outerjoin(a, and_(a.site_id == f.site_id, a.asset_id == f.asset_id))
        .where(
            f.site_id == scope.site_id,
            f.closed_at.is_(None),
            f.prevailing.is_(True),
            or_(f.review.is_(None), f.review != "rejected"),
        )
        .execution_options(yield_per=STREAM)
    )
    if scope.statuses is not None:
        pending = and_(f.match == "possible", f.review == "pending")
        query = query.where(or_(f.response_status.in_(scope.statuses), pending))
    if scope.advisory_ids is not None:
        query = query.where(f.advisory_id.in_(scope.advisory_ids))
    if scope.cve is not None:
        query = query.where(f.cve == scope.cve.upper())
    if scope.asset_id is not None:
        query = query.where(f.asset_id == scope.asset_id)
    yield from session.execute(query)


def _chunks(values: Collection[Any]) -> Iterator[list[Any]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), BATCH):
        yield ordered[start : start + BATCH]


def vulnerabilities_of(session: Session, revision_ids: Collection[int]) -> list[Any]:
    """(revision_id, ordinal, cve, ids) of every vulnerability of these revisions."""
    v = t.Vulnerability
    rows: list[Any] = []
    for chunk in _chunks(revision_ids):
        rows += session.execute(select(v.revision_id, v.ordinal, v.cve, v.ids).where(v.revision_id.in_(chunk))).all()
    return rows


def current_vulnerabilities_with(session: Session, cves: Collection[str]) -> list[Any]:
    """(revision_id, ordinal, cve) of every vulnerability of a current revision that names one of these CVEs."""
    v, r = t.Vulnerability, t.AdvisoryRevision
    rows: list[Any] = []
    for chunk in _chunks({cve.upper() for cve in cves}):
        query = (
            select(v.revision_id, v.ordinal, v.cve)
            .join(r, r.id == v.revision_id)
            .where(r.is_current.is_(True), func.upper(v.cve).in_(chunk))
        )
        rows += session.execute(query).all()
    return rows


def tracking_ids(session: Session, revision_ids: Collection[int]) -> dict[int, str]:
    """revision id -> its document's tracking id."""
    r = t.AdvisoryRevision
    found: dict[int, str] = {}
    for chunk in _chunks(revision_ids):
        query = select(r.id, t.Advisory.tracking_id).join(t.Advisory, t.Advisory.id == r.advisory_id)
        found.update((row[0], row[1]) for row in session.execute(query.where(r.id.in_(chunk))))
    return found


def scores_of(session: Session, revision_ids: Collection[int]) -> list[Any]:
    """(revision_id, vulnerability_ordinal, cvss_version, vector, product_ids) of these revisions."""
    s = t.Score
    rows: list[Any] = []
    for chunk in _chunks(revision_ids):
        query = select(s.revision_id, s.vulnerability_ordinal, s.cvss_version, s.vector, s.product_ids)
        rows += session.execute(query.where(s.revision_id.in_(chunk)).order_by(s.id)).all()
    return rows


def notes_of(session: Session, revision_ids: Collection[int]) -> list[Any]:
    """(revision_id, vulnerability_ordinal, category, title, text) of the notes that may speak of exploitation or
    harm; vulnerability_ordinal is None for document notes."""
    n = t.Note
    lowered = func.lower(n.text)
    words = or_(*(lowered.like(f"%{word}%") for word in NOTE_WORDS))
    rows: list[Any] = []
    for chunk in _chunks(revision_ids):
        query = select(n.revision_id, n.vulnerability_ordinal, n.category, n.title, n.text)
        rows += session.execute(query.where(n.revision_id.in_(chunk), words).order_by(n.id)).all()
    return rows


def threats_of(session: Session, revision_ids: Collection[int]) -> list[Any]:
    """(revision_id, vulnerability_ordinal, category, details) of exploit_status and impact threats."""
    th = t.Threat
    rows: list[Any] = []
    for chunk in _chunks(revision_ids):
        query = select(th.revision_id, th.vulnerability_ordinal, th.category, th.details).where(
            th.revision_id.in_(chunk), th.category.in_(THREAT_CATEGORIES)
        )
        rows += session.execute(query.order_by(th.id)).all()
    return rows


def kev_imported(session: Session) -> bool:
    """Whether any KEV catalog was ever imported (so "not in KEV" means something)."""
    return bool(session.scalar(select(exists().where(t.KevEntry.cve.is_not(None)))))
