"""Background jobs' rows: what `services/jobs.py` writes as a job moves on, and reads for any server process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from vigil.store import schema as t

UNFINISHED = ("queued", "running")


@dataclass(frozen=True)
class JobRow:
    """One background_job row."""

    id: str
    """A UUID4's hex."""
    kind: str
    """inventory.import, advisory.import, advisory.sync or match.run."""
    owner_id: int
    """user_account.id of who started it."""
    site_id: int | None
    """The site it writes, when one."""
    state: str
    """queued | running | succeeded | failed."""
    progress: dict[str, Any]
    """What the work reported so far."""
    result: dict[str, Any] | None
    """What the work returned, once succeeded."""
    error: str | None
    """One line, once failed."""
    created_at: datetime
    """When it was submitted."""
    started_at: datetime | None
    """When it started running."""
    finished_at: datetime | None
    """When it ended."""


_COLUMNS = (
    t.BackgroundJob.id,
    t.BackgroundJob.kind,
    t.BackgroundJob.owner_id,
    t.BackgroundJob.site_id,
    t.BackgroundJob.state,
    t.BackgroundJob.progress,
    t.BackgroundJob.result,
    t.BackgroundJob.error,
    t.BackgroundJob.created_at,
    t.BackgroundJob.started_at,
    t.BackgroundJob.finished_at,
)


def insert_job(session: Session, row: JobRow) -> None:
    session.add(
        t.BackgroundJob(
            id=row.id,
            kind=row.kind,
            owner_id=row.owner_id,
            site_id=row.site_id,
            state=row.state,
            progress=row.progress,
            result=row.result,
            error=row.error,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )
    )


def update_job(session: Session, job_id: str, **values: Any) -> None:
    session.execute(update(t.BackgroundJob).where(t.BackgroundJob.id == job_id).values(**values))


def job_by_id(session: Session, job_id: str) -> JobRow | None:
    row = session.execute(select(*_COLUMNS).where(t.BackgroundJob.id == job_id)).one_or_none()
    return JobRow(*row) if row is not None else None


def recent_jobs(session: Session, limit: int) -> list[JobRow]:
    """The newest `limit` jobs, newest first."""
    query = select(*_COLUMNS).order_by(t.BackgroundJob.created_at.desc(), t.BackgroundJob.id).limit(limit)
    return [JobRow(*row) for row in session.execute(query)]


def forget_old(session: Session, keep: int) -> int:
    """Delete finished jobs older than the newest `keep` jobs; the count deleted."""
    newest = select(t.BackgroundJob.id).order_by(t.BackgroundJob.created_at.desc()).limit(keep).scalar_subquery()
    done = session.execute(
        delete(t.BackgroundJob).where(t.BackgroundJob.state.not_in(UNFINISHED), t.BackgroundJob.id.not_in(newest))
    )
    return int(getattr(done, "rowcount", 0) or 0)


def fail_unfinished(session: Session, job_ids: list[str], error: str, now: datetime) -> None:
    """Mark these jobs failed if they have not ended (a server stopping with them queued or running)."""
    if job_ids:
        session.execute(
            update(t.BackgroundJob)
            .where(t.BackgroundJob.id.in_(job_ids), t.BackgroundJob.state.in_(UNFINISHED))
            .values(state="failed", error=error, finished_at=now)
        )
