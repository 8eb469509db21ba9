"""Action items and what they are derived from. Tenant statements are scoped to one site; remediations are
advisory reference data."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Table, or_, select
from sqlalchemy.orm import Session

from vigil.store import schema as t
from vigil.store.bulk import bulk_insert, bulk_update
from vigil.store.ids import allocate

F, AI = t.Finding, t.ActionItem
ITEMS = cast(Table, AI.__table__)


def findings_needing_action(
    session: Session, site_id: int, statuses: Iterable[str], advisory_ids: Sequence[int] | None = None
) -> Iterator[tuple[str, int, int, str, list[str]]]:
    """(asset id, advisory id, revision id, vulnerability key, product ids) of the site's open, prevailing
    findings in the given response statuses (possible matches only once confirmed)."""
    query = select(F.asset_id, F.advisory_id, F.revision_id, F.vulnerability_key, F.product_ids).where(
        F.site_id == site_id,
        F.closed_at.is_(None),
        F.prevailing.is_(True),
        F.response_status.in_(sorted(statuses)),
        or_(F.match != "possible", F.review == "confirmed"),
    )
    if advisory_ids is not None:
        query = query.where(F.advisory_id.in_(sorted(set(advisory_ids))))
    for row in session.execute(query.execution_options(yield_per=10_000)):
        yield row[0], row[1], row[2], row[3], row[4]


def revision_remediations(
    session: Session, revision_ids: Iterable[int]
) -> tuple[list[t.Remediation], list[t.Vulnerability], dict[tuple[int, str], list[str]]]:
    """Remediations and vulnerabilities of the revisions, and (revision id, group id) -> member product ids."""
    ids = sorted(set(revision_ids))
    remediations: list[t.Remediation] = []
    vulnerabilities: list[t.Vulnerability] = []
    groups: dict[tuple[int, str], list[str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        remediations.extend(session.scalars(select(t.Remediation).where(t.Remediation.revision_id.in_(chunk))))
        vulnerabilities.extend(session.scalars(select(t.Vulnerability).where(t.Vulnerability.revision_id.in_(chunk))))
        members = select(
            t.ProductGroupMember.revision_id, t.ProductGroupMember.group_id, t.ProductGroupMember.product_id
        )
        for revision_id, group_id, product_id in session.execute(
            members.where(t.ProductGroupMember.revision_id.in_(chunk))
        ):
            groups.setdefault((revision_id, group_id), []).append(product_id)
    return remediations, vulnerabilities, groups


def items_of(
    session: Session, site_id: int, advisory_ids: Sequence[int] | None = None, item_ids: Sequence[int] | None = None
) -> list[t.ActionItem]:
    query = select(AI).where(AI.site_id == site_id)
    if advisory_ids is not None:
        query = query.where(AI.advisory_id.in_(sorted(set(advisory_ids))))
    if item_ids is not None:
        query = query.where(AI.id.in_(sorted(set(item_ids))))
    return list(session.scalars(query.order_by(AI.id)))


ItemState = tuple[int, str, int, str, str, int, list[str]]
"""(id, asset id, advisory id, remediation key, state, revision id, vulnerability keys) of a stored item."""


def item_states(session: Session, site_id: int, advisory_ids: Sequence[int] | None = None) -> list[ItemState]:
    """What a sync compares, without building an ORM object per item (that was half of a no-change sync)."""
    query = select(
        AI.id, AI.asset_id, AI.advisory_id, AI.remediation_key, AI.state, AI.revision_id, AI.vulnerability_keys
    ).where(AI.site_id == site_id)
    if advisory_ids is not None:
        query = query.where(AI.advisory_id.in_(sorted(set(advisory_ids))))
    return [(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in session.execute(query)]


def insert_items(session: Session, site_id: int, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    first = allocate(session, "action_item", len(rows))
    bulk_insert(session, ITEMS, [{"site_id": site_id, "id": first + n, **row} for n, row in enumerate(rows)])


def update_items(session: Session, site_id: int, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """Rewrite `columns` of the given items (each row: `id` and a value per column)."""
    if rows:
        bulk_update(session, ITEMS, ("site_id", "id"), columns, [row | {"site_id": site_id} for row in rows])
