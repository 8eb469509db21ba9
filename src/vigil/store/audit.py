"""The audit trail: one append-only, hash-chained log per site (site 0: installation-wide events).

Every entry's `hash` is SHA-256 over a canonical encoding of the entry and the previous entry's hash, and
`audit_head` holds the newest (seq, hash) of each chain. Editing an entry breaks its hash; deleting or
inserting one breaks the seq run or the next entry's `prev_hash`; deleting the newest entries breaks the
agreement with the head. What the chain cannot prove (someone with write access rewriting a whole chain and
its head) is what anchoring the head outside the database is for; see docs/audit.md.

`append` runs inside the caller's transaction, so an entry commits or rolls back with the change it records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, cast, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.store import schema as t

INSTALLATION = 0
"""The chain of installation-wide events (advisory imports and syncs): `site_id` None maps to it."""
GENESIS = "0" * 64
"""The `prev_hash` of a chain's first entry."""
STREAM_BATCH = 2000
"""Rows fetched per round trip while verifying: memory stays bounded however long the chain."""
_MAX_ACTOR, _MAX_ACTION = 200, 60


@dataclass(frozen=True)
class ChainHead:
    """The newest entry of one chain, as `audit_head` records it."""

    site_id: int
    """The chain (0: installation-wide)."""
    seq: int
    """The newest entry's sequence number (0: an empty chain)."""
    hash: str
    """The newest entry's hash (GENESIS for an empty chain)."""


@dataclass(frozen=True)
class ChainBreak:
    """The first broken link of a chain."""

    seq: int
    """The sequence number at which the chain stops being trustworthy."""
    reason: str
    """What is wrong, in one line: hash mismatch, missing entry, prev_hash mismatch, head mismatch, ..."""


@dataclass(frozen=True)
class ChainReport:
    """The verification of one chain."""

    site_id: int
    """The chain (0: installation-wide)."""
    entries: int
    """Entries read."""
    head: ChainHead | None
    """The head row, or None when it is missing."""
    broken: ChainBreak | None
    """The first broken link, or None when the chain is intact."""


@dataclass(frozen=True)
class VerifyReport:
    """The verification of every chain asked for."""

    chains: tuple[ChainReport, ...]
    """One report per chain, by site_id."""

    @property
    def intact(self) -> bool:
        return all(chain.broken is None for chain in self.chains)

    @property
    def broken(self) -> tuple[ChainReport, ...]:
        return tuple(chain for chain in self.chains if chain.broken is not None)


def chain_id(site_id: int | None) -> int:
    return INSTALLATION if site_id is None else site_id


def canonical_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """`detail` as it reads back from the database (JSON types only), so the hash survives the round trip.

    Raises TypeError/ValueError for values JSON cannot hold (datetimes, sets, NaN): better refused at the
    write than a chain that later fails verification."""
    loaded = json.loads(json.dumps(detail, allow_nan=False))
    if not isinstance(loaded, dict):
        raise TypeError("audit detail must be a JSON object")
    return loaded


def entry_hash(
    site_id: int,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    detail: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the canonical encoding: sorted-key, compact JSON; `at` ISO-8601 UTC with microseconds."""
    encoded = json.dumps(
        {
            "site_id": site_id,
            "seq": seq,
            "at": _iso(at),
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": detail,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _iso(at: datetime) -> str:
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def append(
    session: Session,
    site_id: int | None,
    actor: str,
    action: str,
    subject: str | None,
    detail: Mapping[str, Any],
    now: datetime,
) -> None:
    """Add one entry to the site's chain (None: the installation-wide chain), inside the caller's transaction."""
    if len(actor) > _MAX_ACTOR:
        raise ValueError(f"audit actor longer than {_MAX_ACTOR} characters: {actor[:40]!r}...")
    if len(action) > _MAX_ACTION:
        raise ValueError(f"audit action longer than {_MAX_ACTION} characters: {action!r}")
    chain = chain_id(site_id)
    clean = canonical_detail(detail)
    at = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    head = _lock_head(session, chain)
    seq = head.seq + 1
    digest = entry_hash(chain, seq, at, actor, action, subject, clean, head.hash)
    session.execute(
        insert(t.AuditEntry).values(
            site_id=chain,
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            detail=clean,
            prev_hash=head.hash,
            hash=digest,
        )
    )
    session.execute(update(t.AuditHead).where(t.AuditHead.site_id == chain).values(seq=seq, hash=digest))


def _lock_head(session: Session, chain: int) -> ChainHead:
    """The chain's head row, created if missing and locked until the transaction ends.

    The INSERT comes first on both databases: ON CONFLICT DO NOTHING never fails a concurrent creator, and on
    SQLite a write statement takes the database write lock before the head is read, so a second process waits
    (busy_timeout) instead of reading a head that is about to move. On PostgreSQL FOR UPDATE makes the second
    writer wait for the first to commit, then read the moved head (READ COMMITTED re-reads the locked row)."""
    dialect = session.connection().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        upsert(t.AuditHead)
        .values(site_id=chain, seq=0, hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["site_id"])
    )
    query = select(t.AuditHead.seq, t.AuditHead.hash).where(t.AuditHead.site_id == chain)
    if dialect == "postgresql":
        query = query.with_for_update()
    row = session.execute(query).one()
    return ChainHead(chain, int(row.seq), str(row.hash))


def heads(session: Session, site_id: int | None = None) -> list[ChainHead]:
    """Every chain's head (or one site's), by site_id: what `vigil audit head` prints for anchoring."""
    query = select(t.AuditHead.site_id, t.AuditHead.seq, t.AuditHead.hash).order_by(t.AuditHead.site_id)
    if site_id is not None:
        query = query.where(t.AuditHead.site_id == site_id)
    return [ChainHead(int(row.site_id), int(row.seq), str(row.hash)) for row in session.execute(query)]


def verify(
    session: Session, site_id: int | None = None, anchors: Mapping[int, ChainHead] | None = None
) -> VerifyReport:
    """Walk each chain (or one site's; 0 is the installation-wide one) in seq order, streaming, and report the
    first broken link of each. `anchors`, heads saved earlier (`vigil audit head`), must each still be an
    entry of the current chain with the same hash: the saved chain is a prefix of today's.

    Reads one snapshot (a fresh session gets REPEATABLE READ on PostgreSQL, one read transaction on SQLite),
    so entries appended while it runs cannot look like entries beyond the head."""
    _begin_snapshot(session)
    found = {head.site_id: head for head in heads(session, site_id)}
    wanted = dict(anchors or {})
    if site_id is not None:
        wanted = {key: value for key, value in wanted.items() if key == site_id}
    reports: dict[int, ChainReport] = {}
    for chain in _chain_ids(session, site_id):
        walker = _ChainWalk(chain, found.get(chain), wanted.get(chain))
        with closing(_entries(session, chain)) as rows:
            try:
                for row in rows:
                    if walker.step(row):
                        break
            except (ValueError, TypeError) as error:  # an entry edited into something that no longer parses
                walker.fail(walker.expected, f"unreadable entry after seq {walker.expected - 1}: {error}")
        reports[chain] = walker.finish()
    for chain, head in found.items():
        if chain not in reports:
            reports[chain] = _ChainWalk(chain, head, wanted.get(chain)).finish()
    for chain, anchor in wanted.items():
        if chain not in reports:
            broken = ChainBreak(anchor.seq, f"anchored chain (seq {anchor.seq}) no longer exists")
            reports[chain] = ChainReport(chain, 0, None, broken)
    return VerifyReport(tuple(reports[key] for key in sorted(reports)))


def _begin_snapshot(session: Session) -> None:
    if session.in_transaction():
        return  # the caller's transaction and isolation level apply
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        # pysqlite opens no transaction for reads; without one, each statement reads its own snapshot.
        session.connection().exec_driver_sql("BEGIN")


@dataclass(frozen=True)
class _Row:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str | None
    detail_text: str
    prev_hash: str
    hash: str


def _chain_ids(session: Session, site_id: int | None) -> list[int]:
    """Every chain that has entries (with or without a head row)."""
    chains = select(t.AuditEntry.site_id).distinct().order_by(t.AuditEntry.site_id)
    if site_id is not None:
        chains = chains.where(t.AuditEntry.site_id == site_id)
    return [int(chain) for chain in session.scalars(chains)]


def _entries(session: Session, chain: int) -> Generator[_Row]:
    """The chain's entries in seq order, fetched STREAM_BATCH at a time (a server-side cursor on PostgreSQL)."""
    e = t.AuditEntry
    # detail as stored text: an entry edited into invalid JSON must be reported, not crash the walk.
    query = (
        select(e.seq, e.at, e.actor, e.action, e.subject, cast(e.detail, Text), e.prev_hash, e.hash)
        .where(e.site_id == chain)
        .order_by(e.seq)
        .execution_options(yield_per=STREAM_BATCH)
    )
    result = session.execute(query)
    try:
        for row in result:
            yield _Row(int(row[0]), row[1], row[2], row[3], row[4], row[5], row[6], row[7])
    finally:
        result.close()  # also when the walk stops at a break: release the cursor now


class _ChainWalk:
    """The running state of one chain's verification: the next seq and hash it must see."""

    def __init__(self, chain: int, head: ChainHead | None, anchor: ChainHead | None) -> None:
        self.chain = chain
        self.head = head
        self.anchor = anchor
        self.expected = 1
        self.prev_hash = GENESIS
        self.entries = 0
        self.broken: ChainBreak | None = None

    def fail(self, seq: int, reason: str) -> None:
        if self.broken is None:
            self.broken = ChainBreak(seq, reason)

    def step(self, row: _Row) -> bool:
        """Check one entry; True once the chain is broken (the rest is not worth reading)."""
        self.entries += 1
        if self.head is not None and row.seq > self.head.seq:
            self.fail(row.seq, f"entry beyond head (head seq {self.head.seq}): inserted, or head moved back")
        elif row.seq != self.expected:
            self.fail(self.expected, f"entry {self.expected} missing (next is {row.seq}): deleted")
        elif row.hash != self._recomputed(row):
            self.fail(row.seq, "hash mismatch: entry edited")
        elif row.prev_hash != self.prev_hash:
            self.fail(row.seq, "prev_hash mismatch: the entry before it was deleted, replaced or inserted")
        elif self.anchor is not None and row.seq == self.anchor.seq and row.hash != self.anchor.hash:
            self.fail(row.seq, "anchor mismatch: the entry differs from the anchored head (chain rewritten)")
        self.expected = row.seq + 1
        self.prev_hash = row.hash
        return self.broken is not None

    def _recomputed(self, row: _Row) -> str:
        detail = json.loads(row.detail_text)
        return entry_hash(self.chain, row.seq, row.at, row.actor, row.action, row.subject, detail, row.prev_hash)

    def finish(self) -> ChainReport:
        last = self.expected - 1
        if self.broken is None:
            if self.head is None:
                self.fail(max(last, 1), "head row missing: head deleted")
            elif self.head.seq != last:
                self.fail(
                    last + 1,
                    f"head mismatch: head says seq {self.head.seq}, chain ends at {last}: newest entries deleted",
                )
            elif self.head.hash != self.prev_hash:
                self.fail(last, "head mismatch: head hash differs from the last entry's: head edited")
            elif self.anchor is not None and self.anchor.seq > last:
                self.fail(last + 1, f"anchor mismatch: anchored seq {self.anchor.seq} beyond chain end {last}")
        return ChainReport(self.chain, self.entries, self.head, self.broken)
