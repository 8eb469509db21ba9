"""Read queries over stored advisories (no writes here)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, or_, select
from sqlalchemy.orm import Session

from vigil.store import schema as t

Rev = t.AdvisoryRevision


def current_revisions(
    session: Session,
    publisher: str | None = None,
    cve: str | None = None,
    search: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Sequence[Row[Any]]:
    """Current revisions, newest first, with their advisory identity and revision count."""
    revision_counts = select(Rev.advisory_id, func.count().label("revisions")).group_by(Rev.advisory_id).subquery()
    query = (
        select(Rev, t.Advisory.publisher_namespace, t.Advisory.tracking_id, revision_counts.c.revisions)
        .join(t.Advisory, t.Advisory.id == Rev.advisory_id)
        .join(revision_counts, revision_counts.c.advisory_id == Rev.advisory_id)
        .where(Rev.is_current.is_(True))
        .order_by(Rev.current_release_date.desc(), t.Advisory.tracking_id)
        .offset(offset)
    )
    if publisher:
        pattern = f"%{publisher.lower()}%"
        query = query.where(
            or_(
                func.lower(Rev.publisher_name).like(pattern),
                func.lower(t.Advisory.publisher_namespace).like(pattern),
            )
        )
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(or_(func.lower(Rev.title).like(pattern), func.lower(t.Advisory.tracking_id).like(pattern)))
    if cve:
        query = query.where(Rev.id.in_(select(t.Vulnerability.revision_id).where(t.Vulnerability.cve == cve.upper())))
    if limit is not None:
        query = query.limit(limit)
    return session.execute(query).all()


def values_by_revision(session: Session, column: Any, revision_ids: Sequence[int]) -> dict[int, list[str]]:
    """Distinct non-null values of a child-table column per revision, sorted (e.g. CVEs, flag ids)."""
    table = column.class_
    found: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(revision_ids), 500):  # stay under bind-parameter limits
        chunk = revision_ids[start : start + 500]
        for revision_id, value in session.execute(
            select(table.revision_id, column).where(table.revision_id.in_(chunk), column.is_not(None))
        ):
            found[revision_id].add(value)
    return {rid: sorted(values) for rid, values in found.items()}


def find_advisories(session: Session, ident: str) -> Sequence[Row[Any]]:
    """Advisories whose tracking id is `ident` (exactly, else case-insensitively)."""
    exact = session.execute(select(t.Advisory).where(t.Advisory.tracking_id == ident)).all()
    if exact:
        return exact
    return session.execute(select(t.Advisory).where(func.lower(t.Advisory.tracking_id) == ident.lower())).all()


def revisions_of(session: Session, advisory_id: int) -> Sequence[t.AdvisoryRevision]:
    return session.scalars(select(Rev).where(Rev.advisory_id == advisory_id).order_by(Rev.id)).all()


def rows_of(session: Session, table: type[t.Base], revision_id: int) -> Sequence[Any]:
    """All rows of one child table for one revision, in insertion order."""
    model: Any = table
    return session.scalars(select(model).where(model.revision_id == revision_id).order_by(model.id)).all()
