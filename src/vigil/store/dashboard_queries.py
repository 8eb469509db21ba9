"""Read queries behind the web UI's pages: counts aggregated in SQL and keyset pages (no OFFSET), every one
scoped to the sites the caller passes and bounded by a LIMIT, so no page reads a site's whole inventory.

Keyset pages order by a primary key (action_item: (site_id, id)), so the next page starts where the last one
ended in the index instead of counting past every row before it. (Findings, assets and audit pages are the
API's: store/findings_page.py, store/assets_page.py, store/audit_page.py.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from vigil.store import schema as t

F = t.Finding
Rev = t.AdvisoryRevision
Ev = t.FindingEvidence


def open_counts_by_status(session: Session, site_ids: Sequence[int]) -> list[tuple[int, str, int]]:
    """(site_id, response status, open findings) of each site, from the (site_id, response_status) index."""
    rows: list[tuple[int, str, int]] = []
    for site_id in site_ids:
        query = (
            select(F.response_status, func.count())
            .where(F.site_id == site_id, F.closed_at.is_(None), F.prevailing.is_(True))
            .group_by(F.response_status)
        )
        rows.extend((site_id, str(status), int(count)) for status, count in session.execute(query))
    return rows


def open_counts_by_vulnerability(session: Session, site_ids: Sequence[int]) -> list[tuple[int, str, str | None, int]]:
    """(revision id, vulnerability key, CVE, open findings) over the sites: one row per vulnerability of an
    advisory revision, however many devices it has (what severity and KEV are looked up by)."""
    totals: dict[tuple[int, str, str | None], int] = {}
    for site_id in site_ids:
        query = (
            select(F.revision_id, F.vulnerability_key, F.cve, func.count())
            .where(F.site_id == site_id, F.closed_at.is_(None), F.prevailing.is_(True))
            .group_by(F.revision_id, F.vulnerability_key, F.cve)
        )
        for revision_id, key, cve, count in session.execute(query):
            totals[(revision_id, key, cve)] = totals.get((revision_id, key, cve), 0) + int(count)
    return [(r, k, c, n) for (r, k, c), n in totals.items()]


def open_counts_by_advisory(session: Session, site_ids: Sequence[int]) -> dict[int, int]:
    """advisory.id -> open findings over the sites."""
    totals: dict[int, int] = {}
    for site_id in site_ids:
        query = (
            select(F.advisory_id, func.count())
            .where(F.site_id == site_id, F.closed_at.is_(None), F.prevailing.is_(True))
            .group_by(F.advisory_id)
        )
        for advisory_id, count in session.execute(query):
            totals[advisory_id] = totals.get(advisory_id, 0) + int(count)
    return totals


def advisory_counts_by_site(
    session: Session, site_ids: Sequence[int], advisory_ids: Sequence[int]
) -> list[tuple[int, str, str, int]]:
    """(site_id, site name, response status, open findings) of the advisory's findings in each site."""
    rows: list[tuple[int, str, str, int]] = []
    for site_id in site_ids:
        query = (
            select(t.Site.name, F.response_status, func.count())
            .join(t.Site, t.Site.id == F.site_id)
            .where(
                F.site_id == site_id,
                F.advisory_id.in_(list(advisory_ids)),
                F.closed_at.is_(None),
                F.prevailing.is_(True),
            )
            .group_by(t.Site.name, F.response_status)
        )
        rows.extend((site_id, str(name), str(status), int(count)) for name, status, count in session.execute(query))
    return rows


def advisory_titles(session: Session, advisory_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """advisory.id -> (tracking id, current revision's title)."""
    if not advisory_ids:
        return {}
    a = t.Advisory
    query = (
        select(a.id, a.tracking_id, Rev.title)
        .join(Rev, (Rev.advisory_id == a.id) & Rev.is_current.is_(True))
        .where(a.id.in_(list(advisory_ids)))
    )
    return {row[0]: (row[1], row[2]) for row in session.execute(query)}


def max_scores(session: Session, revision_ids: Sequence[int]) -> dict[tuple[int, str], float]:
    """(revision id, CVE) -> the highest CVSS base score the revision gives that CVE."""
    if not revision_ids:
        return {}
    v, s = t.Vulnerability, t.Score
    query = (
        select(v.revision_id, v.cve, func.max(s.base_score))
        .join(s, (s.revision_id == v.revision_id) & (s.vulnerability_ordinal == v.ordinal))
        .where(v.revision_id.in_(list(revision_ids)), v.cve.is_not(None), s.base_score.is_not(None))
        .group_by(v.revision_id, v.cve)
    )
    return {(r, str(c)): float(score) for r, c, score in session.execute(query) if score is not None}


def kev_cves(session: Session, cves: Sequence[str]) -> set[str]:
    """The CVEs among `cves` in the imported KEV catalog."""
    if not cves:
        return set()
    return set(session.scalars(select(t.KevEntry.cve).where(t.KevEntry.cve.in_(list(cves)))))


def pending_reviews(session: Session, site_id: int) -> int:
    """Open `possible` findings of a site waiting for review (the review queue's partial index)."""
    query = select(func.count()).where(
        F.site_id == site_id, F.review == literal("pending", literal_execute=True), F.closed_at.is_(None)
    )
    return int(session.scalar(query) or 0)


def oldest_open_actions(session: Session, site_ids: Sequence[int], limit: int) -> list[Any]:
    """(ActionItem, site name, tracking id) of the oldest open items over the sites, at most `limit`."""
    a = t.ActionItem
    rows: list[Any] = []
    for site_id in site_ids:
        query = (
            select(a, t.Site.name, t.Advisory.tracking_id)
            .join(t.Site, t.Site.id == a.site_id)
            .join(t.Advisory, t.Advisory.id == a.advisory_id)
            .where(a.site_id == site_id, a.state == "open")
            .order_by(a.created_at, a.id)
            .limit(limit)
        )
        rows.extend(session.execute(query).all())
    rows.sort(key=lambda row: (row[0].created_at, row[0].site_id, row[0].id))
    return rows[:limit]


def actions_page(
    session: Session,
    site_id: int,
    states: Sequence[str],
    advisory_ids: Sequence[int] | None,
    after: int | None,
    limit: int,
) -> list[Any]:
    """(ActionItem, tracking id) of one site by id, after `after`; at most `limit`."""
    a = t.ActionItem
    query = (
        select(a, t.Advisory.tracking_id)
        .join(t.Advisory, t.Advisory.id == a.advisory_id)
        .where(a.site_id == site_id, a.state.in_(list(states)))
    )
    if advisory_ids is not None:
        query = query.where(a.advisory_id.in_(list(advisory_ids)))
    if after is not None:
        query = query.where(a.id > after)
    return list(session.execute(query.order_by(a.id).limit(limit)).all())


def action_item(session: Session, site_id: int, item_id: int) -> Any | None:
    """(ActionItem, tracking id) of one item of one site."""
    a = t.ActionItem
    query = (
        select(a, t.Advisory.tracking_id)
        .join(t.Advisory, t.Advisory.id == a.advisory_id)
        .where(a.site_id == site_id, a.id == item_id)
    )
    return session.execute(query).first()


def device_events(session: Session, site_id: int, asset_id: str, limit: int) -> list[Any]:
    """(FindingEvent, tracking id, CVE) of the device's findings, newest first; at most `limit`."""
    e = t.FindingEvent
    query = (
        select(e, t.Advisory.tracking_id, F.cve)
        .join(F, (F.site_id == e.site_id) & (F.id == e.finding_id))
        .join(t.Advisory, t.Advisory.id == F.advisory_id)
        .where(e.site_id == site_id, F.site_id == site_id, F.asset_id == asset_id)
        .order_by(e.at.desc(), e.id.desc())
        .limit(limit)
    )
    return list(session.execute(query).all())
