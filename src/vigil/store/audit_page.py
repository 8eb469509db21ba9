"""Keyset pages of audit chains: one chain (a site's, or the installation's) at a time, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from vigil.store import schema as t


def chain_page(
    session: Session,
    chain: int,
    before_seq: int | None,
    limit: int,
    actions: Sequence[str] = (),
    since: datetime | None = None,
) -> list[t.AuditEntry]:
    """Entries of one chain with seq below `before_seq`, newest first. `actions` are exact names or prefixes
    ending in `.` (as `vigil audit list --action`)."""
    e = t.AuditEntry
    query = select(e).where(e.site_id == chain).order_by(e.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(e.seq < before_seq)
    if since is not None:
        query = query.where(e.at >= since)
    exact = [a for a in actions if not a.endswith(".")]
    prefixes = [a for a in actions if a.endswith(".")]
    if actions:
        query = query.where(or_(e.action.in_(exact), *(e.action.startswith(p, autoescape=True) for p in prefixes)))
    return list(session.scalars(query))
