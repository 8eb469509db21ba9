"""Counters kept in `id_block`, the same way on SQLite and PostgreSQL.

- Ids of tables keyed (site_id, id): one `UPDATE ... RETURNING` moves the counter atomically (a row lock on
  PostgreSQL, the write lock on SQLite), so concurrent writers never get the same id, and ids stay unique
  across sites, which a distributed database (Citus) could not promise from per-shard sequences.
- A site's asset change counter (`asset_change:<site_id>`): every inventory write stamps the assets it writes
  with a value taken from it, and a match run remembers the counter as it was when the run started. A clock
  cannot do this job: an import stamped before a run started may commit after it. With the counter, that
  import holds the counter row until it commits, so the run reads the value from before it, and the next
  run picks its assets up (on SQLite writers are serialised, so the question does not arise).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.store import schema as t


def allocate(session: Session, name: str, count: int) -> int:
    """Reserve `count` consecutive values of counter `name` (created at 1 if missing); returns the first."""
    if count <= 0:
        return 0
    statement = (
        update(t.IdBlock)
        .where(t.IdBlock.name == name)
        .values(next_id=t.IdBlock.next_id + count)
        .returning(t.IdBlock.next_id)
    )
    after = session.scalar(statement)
    if after is None:
        _create(session, name)
        after = session.scalar(statement)
        assert after is not None
    return int(after) - count


def current(session: Session, name: str) -> int:
    """The counter's next value as committed (no lock taken); 1 for a counter never used."""
    value = session.scalar(select(t.IdBlock.next_id).where(t.IdBlock.name == name))
    return int(value) if value is not None else 1


def _create(session: Session, name: str) -> None:
    # INSERT ... ON CONFLICT DO NOTHING: two writers creating one counter must not fail each other.
    dialect = session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(t.IdBlock).values(name=name, next_id=1).on_conflict_do_nothing(index_elements=["name"]))


def asset_change_counter(site_id: int) -> str:
    return f"asset_change:{site_id}"
