"""Audit trail benchmark: append throughput, and verifying a long chain in bounded memory.

Appends `--appends` entries one transaction each (the way imports and status changes write them), then
bulk-loads a chain of `--entries` entries (hashes computed as `append` does, written in batches: a million
separate transactions would measure the disk, not the chain), then verifies every chain, printing entries
per second and the process's peak resident memory before and after the walk. Bounded memory means the
peak does not grow with the chain.

Verify is compared with a floor measured in the same run on the same rows: a plain SELECT of every
audit_entry row (the columns verify reads, detail as text, streamed through a Core connection) and one
hashlib.sha256 per row over those fields' bytes: reading and hashing, without the canonical JSON
encoding, the chain logic or the dataclasses. The machine is shared and noisy: only the ratio means much.

    python bench/audit_verify.py [--entries 1000000] [--appends 2000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Text, cast, insert, select

from vigil.config import load_settings
from vigil.services.store import Store, open_store
from vigil.store import audit
from vigil.store import schema as t
from vigil.store.db import transaction

SITE = 1
BATCH = 10_000


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def bench_appends(store: Store, count: int) -> float:
    started = time.perf_counter()
    for i in range(count):
        with transaction(store.sessions) as session:
            detail = {"file": "inventory.csv", "added": i, "updated": 0}
            audit.append(session, 2, "bench", "inventory.import", "inventory.csv", detail, datetime.now(UTC))
    return count / (time.perf_counter() - started)


def load_chain(store: Store, count: int) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    prev = audit.GENESIS
    for first in range(1, count + 1, BATCH):
        rows = []
        for seq in range(first, min(first + BATCH, count + 1)):
            at = start + timedelta(seconds=seq)
            detail = {"finding": seq, "status": "known_affected", "comment": "bench entry " * 4}
            digest = audit.entry_hash(SITE, seq, at, "bench", "finding.status", str(seq), detail, prev)
            rows.append(
                {
                    "site_id": SITE,
                    "seq": seq,
                    "at": at,
                    "actor": "bench",
                    "action": "finding.status",
                    "subject": str(seq),
                    "detail": detail,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        with transaction(store.sessions) as session:
            session.execute(insert(t.AuditEntry), rows)
    with transaction(store.sessions) as session:
        session.execute(insert(t.AuditHead).values(site_id=SITE, seq=count, hash=prev))


def floor(store: Store) -> tuple[int, float]:
    """(rows, seconds) to read every entry plainly and hash each row's bytes once with hashlib."""
    e = t.AuditEntry
    query = select(e.site_id, e.seq, e.at, e.actor, e.action, e.subject, cast(e.detail, Text), e.prev_hash, e.hash)
    started = time.perf_counter()
    rows = 0
    with store.engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=audit.STREAM_BATCH).execute(
            query.order_by(e.site_id, e.seq)
        )
        for row in result:
            hashlib.sha256("\x1f".join(map(str, row)).encode("utf-8")).hexdigest()
            rows += 1
    return rows, time.perf_counter() - started


def run(url: str, entries: int, appends: int) -> None:
    store = open_store(load_settings(url))
    try:
        rate = bench_appends(store, appends)
        print(f"append: {rate:,.0f} entries/s (one transaction each, {appends} entries)")
        started = time.perf_counter()
        load_chain(store, entries)
        print(f"bulk load: {entries:,} entries in {time.perf_counter() - started:.1f} s")
        floor_rows, floor_seconds = floor(store)
        print(
            f"floor: {floor_rows:,} entries read (plain SELECT) and hashed (hashlib) in {floor_seconds:.1f} s "
            f"({floor_rows / floor_seconds:,.0f}/s)"
        )
        before = peak_mib()
        started = time.perf_counter()
        with store.sessions() as session:
            report = audit.verify(session)
        seconds = time.perf_counter() - started
        total = sum(chain.entries for chain in report.chains)
        print(
            f"verify: {total:,} entries in {seconds:.1f} s ({total / seconds:,.0f}/s), intact={report.intact}; "
            f"peak RSS {before:.0f} MiB before, {peak_mib():.0f} MiB after"
        )
        print(f"verify ratio to floor: {seconds / floor_seconds:.2f} (same rows, same run)")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--postgres", help="PostgreSQL URL of an empty database/schema (default: SQLite only)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite")
        run(f"sqlite:///{Path(tmp) / 'audit.db'}", args.entries, args.appends)
    if args.postgres:
        print("PostgreSQL")
        run(args.postgres, args.entries, args.appends)


if __name__ == "__main__":
    main()
