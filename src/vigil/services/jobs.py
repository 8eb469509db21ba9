"""Use case: long work (an uploaded inventory or advisory, a provider sync, a match run) as a background job
with an id and progress, so a request answers at once (202) and the client polls the job.

A job's state lives in the database (table background_job), so that with several server processes
(`vigil serve --workers N`) any of them answers for a job another one runs. Each process runs its own jobs on
one worker thread, one at a time (imports and match runs write a lot; side by side they would only wait for
each other's locks; two processes may each run one). Progress is kept in memory by the process running the
job and written to the row by a separate thread at most once a second: on SQLite a write must wait for the
import's own transaction, and the job must never wait for its progress report. A server that stops marks
its unfinished jobs failed; the work itself is transactional, so a job cut short leaves the database as it
was. The last KEEP jobs are remembered.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vigil.errors import first_line
from vigil.outputs.timestamps import iso_utc
from vigil.services.advisory_import import iter_import
from vigil.services.advisory_sync import sync
from vigil.services.inventory_import import import_inventory
from vigil.services.matching import run_match
from vigil.services.store import Store
from vigil.sources.csaf.files import Candidate
from vigil.sources.inventory.tabular import open_table
from vigil.store import audit
from vigil.store import jobs as job_rows
from vigil.store.db import transaction

KEEP = 500
"""Finished jobs remembered (the oldest are forgotten first)."""
MAX_REPORTED = 100
"""Rejected rows or documents listed in a job's result (the counts are always complete)."""
FLUSH_EVERY = 1.0
"""Seconds between progress writes to the database."""
STOPPED = "the server stopped before the job ended"

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]
"""What a job's work calls to report progress (merged into the job's `progress`)."""
Work = Callable[[Progress], dict[str, Any]]
"""A job's work: reports progress, returns the result."""


@dataclass(frozen=True)
class Job:
    """A background job as clients see it."""

    id: str
    """Random id (a UUID4's hex)."""
    kind: str
    """inventory.import, advisory.import, advisory.sync or match.run."""
    owner: int
    """user id of who started it: only they (and admins) see it."""
    site_id: int | None
    """The site it writes, when one (its visibility is checked too)."""
    state: str = "queued"
    """queued, running, succeeded or failed."""
    progress: dict[str, Any] = field(default_factory=dict)
    """What the work reported so far (rows read, documents imported, phase)."""
    result: dict[str, Any] | None = None
    """What the work returned, once succeeded."""
    error: str | None = None
    """One line, once failed."""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    """When it was submitted."""
    started_at: datetime | None = None
    """When it started running."""
    finished_at: datetime | None = None
    """When it ended."""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "progress": self.progress,
            "result": self.result,
            "error": self.error,
            "created_at": iso_utc(self.created_at),
            "started_at": iso_utc(self.started_at) if self.started_at else None,
            "finished_at": iso_utc(self.finished_at) if self.finished_at else None,
        }


def _job(row: job_rows.JobRow, progress: dict[str, Any] | None = None) -> Job:
    return Job(
        row.id,
        row.kind,
        row.owner_id,
        row.site_id,
        row.state,
        progress if progress is not None else dict(row.progress or {}),
        row.result,
        row.error,
        row.created_at,
        row.started_at,
        row.finished_at,
    )


class JobRunner:
    """Runs this process's jobs on one background thread; reads every process's jobs from the database."""

    def __init__(self, store: Store, keep: int = KEEP) -> None:
        self._store = store
        self._keep = keep
        self._lock = threading.Lock()
        self._live: dict[str, dict[str, Any]] = {}
        """Progress of this process's unfinished jobs (fresher than the row while a write waits)."""
        self._dirty: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigil-job")
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="vigil-job-progress", daemon=True)
        self._flusher.start()

    def submit(self, kind: str, owner: int, site_id: int | None, work: Work, cleanup: Path | None = None) -> Job:
        job = Job(uuid.uuid4().hex, kind, owner, site_id)
        row = job_rows.JobRow(job.id, kind, owner, site_id, job.state, {}, None, None, job.created_at, None, None)
        with transaction(self._store.sessions) as session:
            job_rows.insert_job(session, row)
            job_rows.forget_old(session, self._keep)
        with self._lock:
            self._live[job.id] = {}
        self._pool.submit(self._run, job.id, work, cleanup)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._store.sessions() as session:
            row = job_rows.job_by_id(session, job_id)
        return self._with_live(row) if row is not None else None

    def jobs(self, limit: int | None = None) -> list[Job]:
        """The remembered jobs (at most `limit`), newest first."""
        with self._store.sessions() as session:
            rows = job_rows.recent_jobs(session, limit or self._keep)
        return [self._with_live(row) for row in rows]

    def wait(self, job_id: str, timeout: float) -> Job | None:
        """The job once it has ended or `timeout` seconds have passed (tests and `vigil serve` shutdown)."""
        pause = threading.Event()
        waited = 0.0
        while waited < timeout:
            job = self.get(job_id)
            if job is None or job.state in ("succeeded", "failed"):
                return job
            pause.wait(0.05)
            waited += 0.05
        return self.get(job_id)

    def shutdown(self) -> None:
        """Stop: queued jobs are cancelled, a running one is waited for; what did not end is marked failed."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._stop.set()
        self._flusher.join(timeout=5)
        with self._lock:
            left = list(self._live)
            self._live.clear()
        with transaction(self._store.sessions) as session:
            job_rows.fail_unfinished(session, left, STOPPED, datetime.now(UTC))

    def _with_live(self, row: job_rows.JobRow) -> Job:
        with self._lock:
            live = self._live.get(row.id)
            progress = dict(live) if live is not None and row.state in job_rows.UNFINISHED else None
        return _job(row, progress)

    def _update(self, job_id: str, **changes: Any) -> None:
        with transaction(self._store.sessions) as session:
            job_rows.update_job(session, job_id, **changes)

    def _progress(self, job_id: str) -> Progress:
        def report(values: dict[str, Any]) -> None:
            with self._lock:
                live = self._live.get(job_id)
                if live is not None:
                    live.update(values)
                    self._dirty.add(job_id)

        return report

    def _flush_loop(self) -> None:
        while not self._stop.wait(FLUSH_EVERY):
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            pending = {job_id: dict(self._live[job_id]) for job_id in self._dirty if job_id in self._live}
            self._dirty.clear()
        if not pending:
            return
        try:
            with transaction(self._store.sessions) as session:
                for job_id, progress in pending.items():
                    job_rows.update_job(session, job_id, progress=progress)
        except Exception as error:  # progress is best effort: the next tick writes it again
            log.warning("job progress not written: %s", first_line(error))
            with self._lock:
                self._dirty.update(pending)

    def _run(self, job_id: str, work: Work, cleanup: Path | None) -> None:
        try:
            self._update(job_id, state="running", started_at=datetime.now(UTC))
            try:
                result = work(self._progress(job_id))
            except Exception as error:  # a job's failure is its result: reported, never raised into the pool
                changes: dict[str, Any] = {"state": "failed", "error": first_line(error)}
            else:
                changes = {"state": "succeeded", "result": result}
            with self._lock:
                progress = dict(self._live.get(job_id, {}))
            self._update(job_id, progress=progress, finished_at=datetime.now(UTC), **changes)
            with self._lock:  # only now: were the write refused, shutdown() would still mark the job failed
                self._live.pop(job_id, None)
                self._dirty.discard(job_id)
        finally:
            if cleanup is not None:
                shutil.rmtree(cleanup, ignore_errors=True)


# --- the work ------------------------------------------------------------------------------------------------


def record_upload(store: Store, site_id: int | None, actor: str, action: str, path: Path, name: str) -> str:
    """Audit who uploaded which bytes (the import's own entries name the process account, not the person)."""
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    detail = {"file": name, "sha256": digest, "bytes": path.stat().st_size}
    with transaction(store.sessions) as session:
        audit.append(session, site_id, actor, action, name, detail, datetime.now(UTC))
    return digest


class OtherSiteInFile(ValueError):
    """An upload for one site has a row naming another: nothing is imported."""


def check_single_site(path: Path, site: str) -> None:
    """Every row's site column is empty or `site`. The import lets a row's own site win over the default; an
    upload into one site must not write another (the uploader may not see it)."""
    _, rows = open_table(path)
    try:
        for row in rows:
            named = row.values.get("site")
            if named and named != site:
                raise OtherSiteInFile(
                    f"row {row.row_number} names site {named!r}: an upload into site {site!r} may only hold its rows"
                )
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def inventory_work(store: Store, path: Path, site: str | None, dry_run: bool, prune: bool) -> Work:
    """Import an uploaded inventory; with `site`, every row must belong to it (checked first)."""

    def work(progress: Progress) -> dict[str, Any]:
        if site is not None:
            progress({"phase": "checking"})
            check_single_site(path, site)
        progress({"phase": "reading", "rows": 0})
        report = import_inventory(
            store, path, site, dry_run=dry_run, prune=prune, on_rows=lambda n: progress({"rows": n})
        )
        progress({"phase": "done", "rows": report.rows})
        return {
            "line": report.line,
            "rows": report.rows,
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "missing": len(report.missing),
            "pruned": report.pruned,
            "dry_run": report.dry_run,
            "rejected": len(report.rejections),
            "rejections": [
                {"row": r.row.row_number, "column": r.column, "reason": r.reason}
                for r in report.rejections[:MAX_REPORTED]
            ],
        }

    return work


def advisory_work(store: Store, content: bytes, name: str) -> Work:
    def work(progress: Progress) -> dict[str, Any]:
        progress({"phase": "importing"})
        outcomes = list(iter_import(store, [Candidate(f"upload:{name}", content)], workers=1))
        progress({"phase": "done", "documents": len(outcomes)})
        return {"outcomes": [_outcome(o) for o in outcomes]}

    return work


def sync_work(store: Store, source: str) -> Work:
    def work(progress: Progress) -> dict[str, Any]:
        counts = {"documents": 0, "rejected": 0}
        rejected: list[dict[str, Any]] = []

        def seen(outcome: Any) -> None:
            counts["documents"] += 1
            if outcome.status == "rejected":
                counts["rejected"] += 1
                if len(rejected) < MAX_REPORTED:
                    rejected.append(_outcome(outcome))
            progress(dict(counts))

        report = sync(store, source, on_outcome=seen)
        return {
            "source": report.source,
            "line": report.summary.line,
            "counts": dict(report.summary.counts),
            "requests": report.requests,
            "documents_fetched": report.documents_fetched,
            "entries_seen": report.entries_seen,
            "rejected": rejected,
        }

    return work


def match_work(store: Store, site_names: list[str] | None) -> Work:
    """A match run of the named sites (None: every site)."""

    def work(progress: Progress) -> dict[str, Any]:
        progress({"phase": "matching"})
        report = run_match(store, site_names=site_names)
        return {"line": report.line}

    return work


def _outcome(outcome: Any) -> dict[str, Any]:
    return {
        "source": outcome.source,
        "status": outcome.status,
        "reason": outcome.reason,
        "tracking_id": outcome.tracking_id,
        "tracking_version": outcome.tracking_version,
    }
