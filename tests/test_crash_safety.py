"""Crash safety: SIGKILL the importer (and its worker pool) mid-run, rerun, and find no trace of the crash.

A revision is stored in one transaction, so after any kill every stored revision must be complete
(its bytes, products, scores, ... all there) and every advisory must have exactly one current
revision; after a rerun the database must equal a clean import of the same files.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, Table, and_, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from conftest import DEMO_ADVISORIES
from vigil.config import load_settings
from vigil.services.advisory_import import import_candidates
from vigil.services.store import open_store
from vigil.sources.csaf.files import discover
from vigil.store import schema as t
from vigil.store.advisories import count_rows
from vigil.store.db import make_engine

SEED = 20240611
VARIANTS = 150
KILLS = 4
LIMIT = 50 * 1024 * 1024

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 36 demo advisories (with siblings) plus 150 distinct valid variants (without)."""
    root = tmp_path_factory.mktemp("crash-corpus") / "advisories"
    shutil.copytree(DEMO_ADVISORIES, root)
    demo = sorted(DEMO_ADVISORIES.glob("*.json"))
    for n in range(VARIANTS):
        doc = json.loads(demo[n % len(demo)].read_bytes())
        doc["document"]["tracking"]["id"] += f"-V{n}"
        (root / f"variant-{n:03d}.json").write_text(json.dumps(doc, indent=2))
    return root


def _total(corpus: Path) -> int:
    return len(list(corpus.glob("*.json")))


@dataclass(frozen=True)
class Snapshot:
    """What a database holds, in terms that do not depend on row ids or import order."""

    counts: dict[str, int]
    """Rows per table."""
    documents: frozenset[tuple[str, str, str]]
    """(tracking id, tracking version, sha256) of every revision."""
    rows_per_revision: dict[tuple[str, str], int]
    """(table, revision sha256) -> rows of that table hanging off that revision."""


def _child_tables() -> list[Table]:
    return [
        table
        for table in t.Base.metadata.sorted_tables
        if "revision_id" in table.c and table.name != "advisory_content"
    ]


def snapshot(database_url: str) -> Snapshot:
    """Check the invariants a crash must never break, and describe the database."""
    store = open_store(load_settings(database_url))
    r, a, c = t.AdvisoryRevision, t.Advisory, t.AdvisoryContent
    try:
        with store.sessions() as session:
            contents = session.execute(
                select(r.id, r.content_sha256, func.count(c.revision_id))
                .select_from(r)
                .outerjoin(c, c.revision_id == r.id)
                .group_by(r.id, r.content_sha256)
            ).all()
            assert [row for row in contents if row[2] != 1] == [], "revisions without exactly one content row"
            for revision_id, sha256, content in session.execute(
                select(r.id, r.content_sha256, c.content).join(c, c.revision_id == r.id)
            ):
                assert hashlib.sha256(content).hexdigest() == sha256, f"revision {revision_id}: bytes damaged"

            current = session.execute(
                select(a.tracking_id, func.count(r.id))
                .select_from(a)
                .outerjoin(r, and_(r.advisory_id == a.id, r.is_current))
                .group_by(a.id, a.tracking_id)
            ).all()
            assert [row for row in current if row[1] != 1] == [], "advisories without exactly one current revision"

            documents = frozenset(
                (tracking_id, version, sha256)
                for tracking_id, version, sha256 in session.execute(
                    select(a.tracking_id, r.tracking_version, r.content_sha256).join(r, r.advisory_id == a.id)
                )
            )
            per_revision: dict[tuple[str, str], int] = {}
            for table in _child_tables():
                for sha256, rows in session.execute(
                    select(r.content_sha256, func.count(table.c.revision_id))
                    .select_from(r)
                    .outerjoin(table, table.c.revision_id == r.id)
                    .group_by(r.content_sha256)
                ):
                    per_revision[(table.name, sha256)] = rows
            counts = count_rows(session)
    finally:
        store.close()
    return Snapshot(counts, documents, per_revision)


@pytest.fixture(scope="module")
def clean(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """A clean, uninterrupted import of the same files into a fresh database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('crash-clean') / 'clean.db'}"
    store = open_store(load_settings(url))
    try:
        summary = import_candidates(store, discover([corpus], LIMIT), workers=1)
    finally:
        store.close()
    assert (summary.imported, summary.rejected) == (_total(corpus), 0)
    return snapshot(url)


def _revisions(engine: Engine) -> int:
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM advisory_revision")).scalar_one())
    except SQLAlchemyError:  # not migrated yet
        return 0


def _live_group_members(pgid: int) -> list[int]:
    """Processes of the group that are not zombies (zombies wait for a parent to reap them, harmlessly)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError):
            continue
        if int(pgrp) == pgid and state != "Z":
            alive.append(int(stat.parent.name))
    return alive


def _vigil(database_url: str) -> dict[str, str]:
    return {**os.environ, "VIGIL_DATABASE_URL": database_url, "NO_COLOR": "1"}


def test_sigkill_mid_import_never_leaves_a_half_stored_document(
    database_url: str, corpus: Path, clean: Snapshot, tmp_path: Path
) -> None:
    total = _total(corpus)
    rng = random.Random(f"{SEED}-{database_url.split(':')[0]}")  # noqa: S311 - reproducible moments, not crypto
    command = [sys.executable, "-m", "vigil", "advisories", "import", "--quiet", str(corpus)]
    poll = make_engine(database_url)
    kills: list[str] = []
    try:
        for attempt in range(KILLS):
            stored = _revisions(poll)
            target = min(stored + rng.randint(5, 35), total - 5)
            extra = rng.uniform(0.0, 0.05)  # land anywhere, mid-transaction included
            with (tmp_path / f"run-{attempt}.log").open("wb") as log:
                proc = subprocess.Popen(
                    command, env=_vigil(database_url), stdout=log, stderr=log, start_new_session=True
                )
                deadline = time.monotonic() + 45
                while proc.poll() is None and _revisions(poll) < target and time.monotonic() < deadline:
                    time.sleep(0.005)
                time.sleep(extra)
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    kills.append(f"at >= {target} revisions (+{extra * 1000:.0f} ms)")
                proc.wait(timeout=30)
            if Path("/proc").is_dir():
                give_up = time.monotonic() + 10
                while _live_group_members(proc.pid) and time.monotonic() < give_up:
                    time.sleep(0.05)
                assert _live_group_members(proc.pid) == [], "worker processes survived the process-group kill"
            snapshot(database_url)  # the invariants hold right after the crash, before any repair
    finally:
        poll.dispose()
    assert len(kills) >= KILLS - 1, f"the importer finished before it could be killed: {kills} (seed {SEED})"

    final = subprocess.run(command, env=_vigil(database_url), capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    imported, unchanged, rejected = (int(part.split()[-1]) for part in final.stdout.splitlines()[0].split(", "))
    assert rejected == 0, final.stderr
    assert imported + unchanged == total
    assert unchanged > 0, "the killed runs stored nothing, so nothing was tested"

    after = snapshot(database_url)
    assert after.documents == clean.documents, f"killed {kills} (seed {SEED})"
    assert after.counts == clean.counts
    assert after.rows_per_revision == clean.rows_per_revision


_KILL_DURING_MIGRATION = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
from vigil.store.db import make_engine, upgrade

engine = make_engine(sys.argv[1])
created = 0

# On Engine itself: upgrade() migrates SQLite on an engine of its own.
@event.listens_for(Engine, "before_cursor_execute")
def crash_on_third_table(conn, cursor, statement, parameters, context, executemany):
    global created
    if statement.lstrip().upper().startswith("CREATE TABLE"):
        created += 1
        if created == 3:
            os.kill(os.getpid(), signal.SIGKILL)

upgrade(engine)
"""


def test_sigkill_during_the_first_migration_leaves_a_usable_database(database_url: str) -> None:
    crashed = subprocess.run(
        [sys.executable, "-c", _KILL_DURING_MIGRATION, database_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr

    store = open_store(load_settings(database_url))  # must finish (or redo) the migration
    try:
        summary = import_candidates(store, discover([DEMO_ADVISORIES / "icsma-21-019-01.json"], LIMIT), workers=1)
    finally:
        store.close()
    assert (summary.imported, summary.rejected) == (1, 0)
