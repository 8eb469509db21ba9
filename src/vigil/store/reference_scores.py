"""KEV entries and EPSS scores: reference data shared by every site (no site_id), written by imports, read by
prioritisation in batches of CVEs.

An import upserts: a CVE already stored takes the new file's values. EPSS only moves forward: a file with
an older score_date than the stored score leaves that score alone, so importing last month's file by mistake
does not undo today's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.sources.epss import EpssRecord
from vigil.sources.kev import KevRecord
from vigil.store import schema as t

WRITE_BATCH = 5000
"""Rows per executemany: bounded memory for FIRST's ≈ 300,000-row daily file."""
READ_BATCH = 500
"""CVEs per IN list: well under SQLite's and PostgreSQL's parameter limits."""


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def upsert_kev(session: Session, entries: Sequence[KevRecord], source: str, now: datetime) -> int:
    """Insert or update KEV entries in the caller's transaction; returns how many were written."""
    table = t.KevEntry.__table__
    statement = _insert(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=["cve"],
        set_={c.name: statement.excluded[c.name] for c in table.c if c.name != "cve"},
    )
    for start in range(0, len(entries), WRITE_BATCH):
        rows = [
            {
                "cve": e.cve,
                "vendor_project": e.vendor_project,
                "product": e.product,
                "vulnerability_name": e.vulnerability_name,
                "date_added": e.date_added,
                "due_date": e.due_date,
                "known_ransomware": e.known_ransomware,
                "source": source,
                "imported_at": now,
            }
            for e in entries[start : start + WRITE_BATCH]
        ]
        session.execute(statement, rows)
    return len(entries)


def upsert_epss(
    session: Session, scores: Sequence[EpssRecord], score_date: str | None, source: str, now: datetime
) -> int:
    """Insert or update EPSS scores in the caller's transaction, never replacing a newer score_date."""
    table = t.EpssScore.__table__
    statement = _insert(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=["cve"],
        set_={c.name: statement.excluded[c.name] for c in table.c if c.name != "cve"},
        where=or_(
            table.c.score_date.is_(None),
            statement.excluded.score_date.is_(None),
            table.c.score_date <= statement.excluded.score_date,
        ),
    )
    for start in range(0, len(scores), WRITE_BATCH):
        rows = [
            {
                "cve": s.cve,
                "epss": s.epss,
                "percentile": s.percentile,
                "score_date": score_date,
                "source": source,
                "imported_at": now,
            }
            for s in scores[start : start + WRITE_BATCH]
        ]
        session.execute(statement, rows)
    return len(scores)


def _chunks(cves: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted({cve.upper() for cve in cves})
    for start in range(0, len(ordered), READ_BATCH):
        yield ordered[start : start + READ_BATCH]


def kev_entries(session: Session, cves: Collection[str]) -> dict[str, t.KevEntry]:
    """The KEV entries of these CVEs (upper-case CVE -> entry); CVEs not in the catalog are absent."""
    found: dict[str, t.KevEntry] = {}
    for chunk in _chunks(cves):
        for entry in session.scalars(select(t.KevEntry).where(t.KevEntry.cve.in_(chunk))):
            found[entry.cve] = entry
    return found


def epss_scores(session: Session, cves: Collection[str]) -> dict[str, t.EpssScore]:
    """The EPSS scores of these CVEs (upper-case CVE -> score); CVEs never scored are absent."""
    found: dict[str, t.EpssScore] = {}
    for chunk in _chunks(cves):
        for score in session.scalars(select(t.EpssScore).where(t.EpssScore.cve.in_(chunk))):
            found[score.cve] = score
    return found
