"""Use case: change findings' response status (a person, a decide-once rule, a VEX import, an action item), and
let risk acceptances expire. One place enforces the life cycle (response/states.py), the optimistic lock, the
history entries and the audit entry, so every door into vigil refuses the same things.

Many changes at once (a decision covering a thousand devices, an expiry sweep) are checked row by row in
memory, then written with one versioned bulk UPDATE, one history insert and one audit entry listing them:
one statement per device was 8 round trips each (bench/response_workflow.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.response.states import AFFECTED, RISK_ACCEPTED, IllegalTransition, StatusChange, check_change
from vigil.services.store import Store
from vigil.store import schema as t
from vigil.store.audit import append as audit
from vigil.store.db import transaction
from vigil.store.findings import insert_events
from vigil.store.inventory import site_ids
from vigil.store.response import ResponseRow, expired_acceptances, response_rows, write_responses

SOURCES = ("device", "decision", "vex", "action", "expiry", "verification")
"""Who may set a status through this module (the matcher resets statuses itself: response/reopen.py)."""


class ResponseConflict(Exception):
    """Another writer changed the finding since the caller read it: reload and retry; nothing was written."""


class FindingNotFound(LookupError):
    """No finding with that id in the site."""


@dataclass(frozen=True)
class TransitionResult:
    """A status change that was recorded."""

    finding_id: int
    """The finding."""
    before: str
    """Its response status before."""
    after: str
    """Its response status now."""
    version: int
    """Its new optimistic-lock version."""


@dataclass
class BatchResult:
    """What a batch of status changes did."""

    applied: list[TransitionResult] = field(default_factory=list)
    """Changes recorded."""
    refused: list[tuple[int, str]] = field(default_factory=list)
    """(finding id, reason) the life cycle or the finding refused; nothing was written for them."""


def set_status(
    store: Store,
    site: str | None,
    finding_id: int,
    change: StatusChange,
    actor: str,
    expect_version: int | None = None,
    now: datetime | None = None,
) -> TransitionResult:
    """A person sets one device's status (a per-device override: decide-once rules leave it alone after)."""
    now = now or datetime.now(UTC)
    with transaction(store.sessions) as session:
        site_id = _site_of(session, site, finding_id)
        return apply_status(session, site_id, finding_id, change, actor, now, expect_version)


def apply_status(
    session: Session,
    site_id: int,
    finding_id: int,
    change: StatusChange,
    actor: str,
    now: datetime,
    expect_version: int | None = None,
    source: str = "device",
    decision_id: int | None = None,
) -> TransitionResult:
    """Check and record one status change inside the caller's transaction; refusals raise."""
    row = response_rows(session, site_id, [finding_id]).get(finding_id)
    if row is None:
        raise FindingNotFound(f"no finding {finding_id} in this site")
    if expect_version is not None and expect_version != row.response_version:
        raise ResponseConflict(_conflict_message(row, expect_version))
    result = apply_statuses(session, site_id, [(row, change)], actor, now, source, decision_id)
    if result.refused:
        raise IllegalTransition(result.refused[0][1])
    return result.applied[0]


def apply_statuses(
    session: Session,
    site_id: int,
    changes: Sequence[tuple[ResponseRow, StatusChange]],
    actor: str,
    now: datetime,
    source: str = "device",
    decision_id: int | None = None,
    audit_action: str = "finding.status",
) -> BatchResult:
    """Check each change against the finding as read (`ResponseRow`), then write the allowed ones at once,
    each only if its finding is still at the version read: if any moved meanwhile, ResponseConflict and the
    caller's transaction rolls back with nothing written."""
    actor = actor.strip()
    if not actor:
        raise IllegalTransition("a status change needs the actor's name (--by)")
    if source not in SOURCES:
        raise ValueError(f"unknown status source {source!r}")
    result = BatchResult()
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for row, change in changes:
        try:
            _check_finding(row)
            check_change(row.response_status, change)
        except IllegalTransition as error:
            result.refused.append((row.id, str(error)))
            continue
        detail = change.detail()
        updates.append(
            {
                "id": row.id,
                "response_version": row.response_version,
                "response_status": change.status,
                "response_source": source,
                "response_detail": {**detail, "actor": actor, "at": now.isoformat()},
                "decision_id": decision_id,
                "risk_expires_at": change.expires_at if change.status == RISK_ACCEPTED else None,
                "updated_at": now,
            }
        )
        history = {"from": row.response_status, "to": change.status, "source": source, **detail}
        if decision_id is not None:
            history["decision_id"] = decision_id
        events.append(
            {"finding_id": row.id, "at": now, "kind": "status", "actor": actor, "revision_id": None, "detail": history}
        )
        result.applied.append(TransitionResult(row.id, row.response_status, change.status, row.response_version + 1))
    if not updates:
        return result
    written = write_responses(session, site_id, updates)
    if written != len(updates):
        raise ResponseConflict(_batch_conflict(session, site_id, changes, written, len(updates)))
    insert_events(session, site_id, events)
    audit(session, site_id, actor, audit_action, _subject(changes, result), _audited(result, events), now)
    return result


def _subject(changes: Sequence[tuple[ResponseRow, StatusChange]], result: BatchResult) -> str:
    if len(result.applied) == 1:
        row = next(r for r, _ in changes if r.id == result.applied[0].finding_id)
        return f"finding {row.id} ({row.asset_id}, {row.cve or row.vulnerability_key})"
    return f"{len(result.applied)} findings"


def _audited(result: BatchResult, events: list[dict[str, Any]]) -> dict[str, Any]:
    if len(events) == 1:
        return dict(events[0]["detail"])
    first = events[0]["detail"]
    shared = {k: v for k, v in first.items() if k not in ("from",) and all(e["detail"].get(k) == v for e in events)}
    return {**shared, "findings": [{"id": r.finding_id, "from": r.before} for r in result.applied]}


def _check_finding(row: ResponseRow) -> None:
    if row.closed_at is not None:
        raise IllegalTransition(f"finding {row.id} is closed ({row.closed_reason}): its status no longer changes")
    if row.match == "possible" and row.review != "confirmed":
        state = row.review or "pending"
        raise IllegalTransition(
            f"finding {row.id} is a possible match ({state}): confirm it first (vigil findings confirm {row.id})"
        )


def _conflict_message(row: ResponseRow, expected: int) -> str:
    detail = row.response_detail or {}
    who = f" by {detail['actor']}" if detail.get("actor") else ""
    return (
        f"finding {row.id} changed since version {expected}: it is now {row.response_status} "
        f"(version {row.response_version}{who}); reload and retry"
    )


def _batch_conflict(
    session: Session, site_id: int, changes: Sequence[tuple[ResponseRow, StatusChange]], written: int, wanted: int
) -> str:
    current = response_rows(session, site_id, [row.id for row, _ in changes])
    for row, _ in changes:
        now = current.get(row.id)
        if now is not None and now.response_version != row.response_version:
            if wanted == 1:
                return _conflict_message(now, row.response_version)
            return f"{wanted - written} of {wanted} findings changed meanwhile (first: finding {row.id}); retry"
    return f"{wanted - written} of {wanted} findings changed meanwhile; retry"


def _site_of(session: Session, site: str | None, finding_id: int) -> int:
    """The finding's site, by its key (site_id, id): the named site, else each site in turn (ids are unique
    across sites, and a statement never spans sites)."""
    if site is not None:
        found = site_ids(session, [site], create=False)
        candidates = [found[site]] if found else []
    else:
        candidates = list(session.scalars(select(t.Site.id).order_by(t.Site.id)))
    f = t.Finding
    for site_id in candidates:
        if session.scalar(select(f.id).where(f.site_id == site_id, f.id == finding_id)) is not None:
            return site_id
    where = f" in site {site!r}" if site is not None else ""
    raise FindingNotFound(f"no finding {finding_id}{where}")


# --- risk acceptances expire ---------------------------------------------------------------------------------

EXPIRY_ACTOR = "vigil"


def expire_acceptances(session: Session, site_id: int, now: datetime) -> int:
    """Reopen the site's risk acceptances whose expiry has passed (back to affected, with history)."""
    rows = response_rows(session, site_id, expired_acceptances(session, site_id, now))
    changes = []
    for row in rows.values():
        previous = row.response_detail or {}
        comment = (
            f"risk acceptance by {previous.get('owner', 'unknown owner')} expired at "
            f"{previous.get('expires_at', 'its expiry date')}: the device is affected again"
        )
        changes.append((row, StatusChange(AFFECTED, comment=comment)))
    result = apply_statuses(session, site_id, changes, EXPIRY_ACTOR, now, "expiry", audit_action="finding.expired")
    return len(result.applied)


def expire_due(store: Store, now: datetime | None = None) -> int:
    """Run the expiry sweep for every site, one transaction per site; returns how many reopened."""
    now = now or datetime.now(UTC)
    with store.sessions() as session:
        all_sites = list(session.scalars(select(t.Site.id).order_by(t.Site.id)))
    total = 0
    for site_id in all_sites:
        with transaction(store.sessions) as session:
            total += expire_acceptances(session, site_id, now)
    return total
