"""What `vigil advisories sync` remembers per provider: one row per advisory or listing URL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vigil.store import schema as t


@dataclass(frozen=True, slots=True)
class EntryState:
    """The last sync's view of one URL."""

    changed: str | None
    """Provider change stamp (changes.csv / ROLIE `updated`), verbatim."""
    validator: str | None
    """HTTP ETag or Last-Modified of the last fetch."""
    outcome: str
    """imported, unchanged, rejected, or `listing` for changes.csv / index.txt / feed rows."""


def load_state(session: Session, location: str) -> tuple[int, dict[str, EntryState]]:
    """The source's id (created on first sync) and its entries by URL."""
    source_id = session.scalar(select(t.SyncSource.id).where(t.SyncSource.location == location))
    if source_id is None:
        row = t.SyncSource(location=location)
        session.add(row)
        session.flush()
        source_id = row.id
    entries = session.execute(
        select(t.SyncEntry.url, t.SyncEntry.changed, t.SyncEntry.validator, t.SyncEntry.outcome).where(
            t.SyncEntry.source_id == source_id
        )
    )
    return source_id, {url: EntryState(changed, validator, outcome) for url, changed, validator, outcome in entries}


def record_entry(session: Session, source_id: int, url: str, state: EntryState) -> None:
    row = session.scalar(select(t.SyncEntry).where(t.SyncEntry.source_id == source_id, t.SyncEntry.url == url))
    if row is None:
        row = t.SyncEntry(source_id=source_id, url=url)
        session.add(row)
    row.changed, row.validator, row.outcome = state.changed, state.validator, state.outcome
    row.synced_at = datetime.now(UTC)


def finish_sync(session: Session, source_id: int, stale: Sequence[str]) -> None:
    """Forget entries the provider no longer lists and stamp the source as synced."""
    for start in range(0, len(stale), 500):  # stay under bind-parameter limits
        chunk = stale[start : start + 500]
        session.execute(delete(t.SyncEntry).where(t.SyncEntry.source_id == source_id, t.SyncEntry.url.in_(chunk)))
    session.get_one(t.SyncSource, source_id).last_synced_at = datetime.now(UTC)
