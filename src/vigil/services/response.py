"""Use case: change a finding's response status (a person, a decide-once rule, a VEX import, an action item),
and let risk acceptances expire. One place enforces the life cycle (response/states.py), the optimistic lock,
the history entry and the audit entry, so every door into vigil refuses the same things."""

from __future__ import annotations

from dataclasses import dataclass
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
from vigil.store.response import ResponseRow, expired_acceptances, response_rows, write_response

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
    """Check and record one status change inside the caller's transaction."""
    if not actor.strip():
        raise IllegalTransition("a status change needs the actor's name (--by)")
    if source not in SOURCES:
        raise ValueError(f"unknown status source {source!r}")
    row = response_rows(session, site_id, [finding_id]).get(finding_id)
    if row is None:
        raise FindingNotFound(f"no finding {finding_id} in this site")
    _check_finding(row)
    if expect_version is not None and expect_version != row.response_version:
        raise ResponseConflict(_conflict_message(row, expect_version))
    check_change(row.response_status, change)
    detail = change.detail()
    values: dict[str, Any] = {
        "response_status": change.status,
        "response_source": source,
        "response_detail": {**detail, "actor": actor.strip(), "at": now.isoformat()},
        "decision_id": decision_id,
        "risk_expires_at": change.expires_at if change.status == RISK_ACCEPTED else None,
        "updated_at": now,
    }
    if not write_response(session, site_id, finding_id, row.response_version, values):
        current = response_rows(session, site_id, [finding_id])[finding_id]
        raise ResponseConflict(_conflict_message(current, row.response_version))
    _record(session, site_id, row, change.status, actor.strip(), now, {"source": source, **detail}, decision_id)
    return TransitionResult(finding_id, row.response_status, change.status, row.response_version + 1)


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


def _record(
    session: Session,
    site_id: int,
    row: ResponseRow,
    after: str,
    actor: str,
    now: datetime,
    detail: dict[str, Any],
    decision_id: int | None,
) -> None:
    history = {"from": row.response_status, "to": after, **detail}
    if decision_id is not None:
        history["decision_id"] = decision_id
    insert_events(
        session,
        site_id,
        [{"finding_id": row.id, "at": now, "kind": "status", "actor": actor, "revision_id": None, "detail": history}],
    )
    subject = f"finding {row.id} ({row.asset_id}, {row.cve or row.vulnerability_key})"
    audit(session, site_id, actor, "finding.status", subject, history, now)


def _site_of(session: Session, site: str | None, finding_id: int) -> int:
    """The finding's site, checked against the site the caller named (ids are unique across sites)."""
    query = select(t.Finding.site_id, t.Site.name).join(t.Site, t.Site.id == t.Finding.site_id)
    found = session.execute(query.where(t.Finding.id == finding_id)).first()
    if found is None or (site is not None and found[1] != site):
        where = f" in site {site!r}" if site is not None else ""
        raise FindingNotFound(f"no finding {finding_id}{where}")
    return int(found[0])


# --- risk acceptances expire ---------------------------------------------------------------------------------

EXPIRY_ACTOR = "vigil"


def expire_acceptances(session: Session, site_id: int, now: datetime) -> int:
    """Reopen the site's risk acceptances whose expiry has passed (back to affected, with history)."""
    ids = expired_acceptances(session, site_id, now)
    rows = response_rows(session, site_id, ids)
    for finding_id in ids:
        row = rows[finding_id]
        previous = row.response_detail or {}
        comment = (
            f"risk acceptance by {previous.get('owner', 'unknown owner')} expired at "
            f"{previous.get('expires_at', 'its expiry date')}: the device is affected again"
        )
        values: dict[str, Any] = {
            "response_status": AFFECTED,
            "response_source": "expiry",
            "response_detail": {"comment": comment, "actor": EXPIRY_ACTOR, "at": now.isoformat()},
            "decision_id": None,
            "risk_expires_at": None,
            "updated_at": now,
        }
        if write_response(session, site_id, finding_id, row.response_version, values):
            _record(session, site_id, row, AFFECTED, EXPIRY_ACTOR, now, {"source": "expiry", "comment": comment}, None)
    return len(ids)


def expire_due(store: Store, now: datetime | None = None) -> int:
    """Run the expiry sweep for every site, one transaction per site; returns how many reopened."""
    now = now or datetime.now(UTC)
    with store.sessions() as session:
        site_ids = list(session.scalars(select(t.Site.id).order_by(t.Site.id)))
    total = 0
    for site_id in site_ids:
        with transaction(store.sessions) as session:
            total += expire_acceptances(session, site_id, now)
    return total
