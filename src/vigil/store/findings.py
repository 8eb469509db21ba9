"""Findings repository: stored findings, their history and the per-site match state. Every statement is scoped
to one site."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, false, insert, null, select, update
from sqlalchemy.orm import Session

from vigil.store import schema as t
from vigil.store.bulk import bulk_insert, bulk_insert_tuples, bulk_update
from vigil.store.ids import allocate

FINDINGS = cast(Table, t.Finding.__table__)
EVENTS = cast(Table, t.FindingEvent.__table__)
_BATCH = 500

ASSET_CHANGED = "the asset's inventory record changed and no longer matches"
"""The close reason of a finding whose asset's record changed; with response `fixed` by the matcher, the
inventory showed a fixed version (response/inventory_fix.py)."""

FindingKey = tuple[str, int, str]
"""(asset_id, advisory_id, vulnerability_key): a finding's identity within its site."""

OUTCOME_COLUMNS = (
    "revision_id",
    "cve",
    "status",
    "csaf_status",
    "match",
    "review",
    "product_ids",
    "product_families",
    "evidence_digest",
    "digest",
    "updated_at",
    "closed_at",
    "closed_reason",
)
"""What a matcher run rewrites when a draft changes a finding."""
RESPONSE_COLUMNS = (
    "response_status",
    "response_source",
    "response_version",
    "response_detail",
    "decision_id",
    "risk_expires_at",
)
"""What a status change rewrites (services/response.py; the matcher when it reopens a finding)."""
CLOSE_COLUMNS = ("updated_at", "closed_at", "closed_reason")
SCOPE_COLUMNS = ("updated_at", "prevailing", "superseded_by", "scope_reason")


@dataclass(slots=True)
class StoredFinding:
    """A finding row as the matcher compares it."""

    id: int
    asset_id: str
    advisory_id: int
    vulnerability_key: str
    revision_id: int
    cve: str | None
    status: str
    csaf_status: str
    match: str
    review: str | None
    product_ids: list[str] | None
    """None when loaded `light` (fetch with product_ids_of when a digest differs)."""
    product_families: list[str] | None
    """None when loaded `light`."""
    digest: str
    prevailing: bool
    superseded_by: str | None
    scope_reason: str | None
    closed_at: datetime | None
    closed_reason: str | None
    response_status: str
    response_source: str
    """initial while nobody changed the response status (response/states.py)."""
    response_version: int

    @property
    def key(self) -> FindingKey:
        return (self.asset_id, self.advisory_id, self.vulnerability_key)


_STORED_COLUMNS = [getattr(t.Finding, name) for name in StoredFinding.__dataclass_fields__]
_LIGHT_COLUMNS = [null() if c.key in ("product_ids", "product_families") else c for c in _STORED_COLUMNS]


def load_findings(
    session: Session,
    site_id: int,
    advisory_ids: Sequence[int] | None = None,
    asset_ids: Sequence[str] | None = None,
    cves: Sequence[str] | None = None,
    open_only: bool = False,
    light: bool = False,
) -> dict[FindingKey, StoredFinding]:
    """The site's findings (all, or those of the given advisories / assets / CVEs), by key. `light` leaves the
    JSON lists out: decoding them for every finding was a third of a rerun on a large inventory."""
    base = select(*(_LIGHT_COLUMNS if light else _STORED_COLUMNS)).where(t.Finding.site_id == site_id)
    if open_only:
        base = base.where(t.Finding.closed_at.is_(None))
    queries = []
    if advisory_ids is None and asset_ids is None and cves is None:
        queries.append(base)
    filters: list[tuple[Any, Sequence[Any] | None]] = [
        (t.Finding.advisory_id, advisory_ids),
        (t.Finding.asset_id, asset_ids),
        (t.Finding.cve, cves),
    ]
    for column, values in filters:
        if values:
            ordered: list[Any] = sorted(set(values))
            queries.extend(base.where(column.in_(ordered[i : i + _BATCH])) for i in range(0, len(ordered), _BATCH))
    found: dict[FindingKey, StoredFinding] = {}
    connection = session.connection()  # Core rows: the ORM's row handling was a third of the load
    for query in queries:
        # Streamed: psycopg would otherwise hold a large site's whole result beside the objects built from it.
        for row in connection.execute(query.execution_options(yield_per=20_000)):
            found[(row[1], row[2], row[3])] = StoredFinding(*row)
    return found


def product_ids_of(session: Session, site_id: int, finding_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for start in range(0, len(finding_ids), _BATCH):
        chunk = finding_ids[start : start + _BATCH]
        query = select(t.Finding.id, t.Finding.product_ids).where(t.Finding.site_id == site_id, t.Finding.id.in_(chunk))
        found.update((finding_id, ids) for finding_id, ids in session.execute(query))
    return found


INSERT_COLUMNS = (
    "site_id",
    "id",
    "asset_id",
    "advisory_id",
    "vulnerability_key",
    "revision_id",
    "cve",
    "status",
    "csaf_status",
    "match",
    "review",
    "product_ids",
    "product_families",
    "evidence_digest",
    "digest",
    "prevailing",
    "superseded_by",
    "scope_reason",
    "opened_at",
    "updated_at",
    "closed_at",
    "closed_reason",
    "response_status",
)
"""Column order of the tuples insert_findings takes."""
ENCODED = frozenset({"product_ids", "product_families"})


def store_evidence(session: Session, site_id: int, evidence: dict[str, str]) -> None:
    """Store evidence (digest -> JSON text) the site does not hold yet."""
    if not evidence:
        return
    held: set[str] = set()
    digests = sorted(evidence)
    table = t.FindingEvidence
    for start in range(0, len(digests), _BATCH):
        chunk = digests[start : start + _BATCH]
        query = select(table.digest).where(table.site_id == site_id, table.digest.in_(chunk))
        held.update(session.scalars(query))
    rows = [(site_id, digest, evidence[digest]) for digest in digests if digest not in held]
    bulk_insert_tuples(
        session, cast(Table, table.__table__), ("site_id", "digest", "evidence"), rows, frozenset({"evidence"})
    )


def insert_findings(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """New findings as tuples in INSERT_COLUMNS order, the ENCODED columns already JSON text (the matcher
    encodes them once per template shared by many assets)."""
    bulk_insert_tuples(session, FINDINGS, INSERT_COLUMNS, rows, ENCODED)


def update_findings(session: Session, site_id: int, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """Rewrite `columns` of the given findings of the site (each row: `id` and a value per column)."""
    bulk_update(session, FINDINGS, ("site_id", "id"), columns, [row | {"site_id": site_id} for row in rows])


def insert_events(session: Session, site_id: int, events: Sequence[dict[str, Any]]) -> None:
    """History rows (finding_id, at, kind, actor, revision_id, detail); ids are allocated here."""
    if not events:
        return
    first = allocate(session, "finding_event", len(events))
    bulk_insert(session, EVENTS, [{"site_id": site_id, "id": first + n, **event} for n, event in enumerate(events)])


def events_of(session: Session, site_id: int, finding_ids: Sequence[int]) -> dict[int, list[t.FindingEvent]]:
    found: dict[int, list[t.FindingEvent]] = {fid: [] for fid in finding_ids}
    for start in range(0, len(finding_ids), _BATCH):
        chunk = finding_ids[start : start + _BATCH]
        query = (
            select(t.FindingEvent)
            .where(t.FindingEvent.site_id == site_id, t.FindingEvent.finding_id.in_(chunk))
            .order_by(t.FindingEvent.id)
        )
        for event in session.scalars(query):
            found[event.finding_id].append(event)
    return found


# --- match state -------------------------------------------------------------------------------------------


def lock_site_for_matching(session: Session, site_id: int) -> None:
    """Make a second match run of the site wait for this one (even the very first, with no state row yet).
    PostgreSQL: the site row FOR NO KEY UPDATE, which conflicts with another run but not with the key-share
    locks inventory writes take. SQLite has no row locks: the database write lock, taken now by counting the
    run, so the run reads what it will write over."""
    if session.connection().dialect.name == "sqlite":
        allocate(session, "match_run", 1)
    else:
        session.execute(select(t.Site.id).where(t.Site.id == site_id).with_for_update(key_share=True))


def match_state(session: Session, site_id: int) -> t.SiteMatchState | None:
    return session.scalar(select(t.SiteMatchState).where(t.SiteMatchState.site_id == site_id))


def save_match_state(
    session: Session, site_id: int, change_seq: int, fingerprint: str, now: datetime, exists: bool
) -> None:
    values = {"asset_change_seq": change_seq, "fingerprint": fingerprint, "last_run_at": now}
    if exists:
        session.execute(update(t.SiteMatchState).where(t.SiteMatchState.site_id == site_id).values(values))
    else:
        session.execute(insert(t.SiteMatchState).values(site_id=site_id, **values))


def matched_revision_ids(session: Session, site_id: int) -> set[int]:
    query = select(t.MatchedRevision.revision_id).where(t.MatchedRevision.site_id == site_id)
    return set(session.scalars(query))


def record_matched_revisions(session: Session, site_id: int, revision_ids: Iterable[int], now: datetime) -> None:
    """Mark revisions (none marked yet for the site) as evaluated against it."""
    rows = [{"site_id": site_id, "revision_id": rid, "matched_at": now} for rid in sorted(set(revision_ids))]
    bulk_insert(session, cast(Table, t.MatchedRevision.__table__), rows)


def forget_matched_revisions(session: Session, site_id: int) -> None:
    session.execute(delete(t.MatchedRevision).where(t.MatchedRevision.site_id == site_id))


def superseded_cves(session: Session, site_id: int) -> set[str]:
    """CVEs of open findings some vendor document prevails over today (read from their partial index)."""
    f = t.Finding
    query = select(f.cve).where(f.site_id == site_id, f.prevailing == false(), f.closed_at.is_(None)).distinct()
    return {cve for cve in session.scalars(query) if cve}


def set_review(
    session: Session, site_id: int, finding_id: int, review: str, actor: str, comment: str | None, now: datetime
) -> None:
    """Record a person's decision on a `possible` finding, with its history entry."""
    before = session.scalar(select(t.Finding.review).where(t.Finding.site_id == site_id, t.Finding.id == finding_id))
    session.execute(
        update(t.Finding)
        .where(t.Finding.site_id == site_id, t.Finding.id == finding_id)
        .values(review=review, updated_at=now)
    )
    detail: dict[str, Any] = {"review": {"before": before, "after": review}}
    if comment:
        detail["comment"] = comment
    row = {"finding_id": finding_id, "at": now, "kind": review, "actor": actor, "revision_id": None, "detail": detail}
    insert_events(session, site_id, [row])
