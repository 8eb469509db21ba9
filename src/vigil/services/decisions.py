"""Use case: decide once for every copy of a product (CVE or advisory x manufacturer, model, release,
model number), apply it to every current matching device, and to future ones after each match run. A device
whose status a person set directly keeps it (per-device override); a device where the life cycle refuses the
decision's status is reported with the reason and left as it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.identity.identifiers import part_number
from vigil.identity.names import name_key
from vigil.identity.vendors import default_aliases
from vigil.outputs.timestamps import iso_utc
from vigil.response.decisions import DecisionScope
from vigil.response.states import (
    IllegalTransition,
    StatusChange,
    change_from_detail,
    check_requirements,
    initial_status,
)
from vigil.services.response import ResponseConflict, apply_statuses
from vigil.services.store import Store
from vigil.store import schema as t
from vigil.store.advisory_queries import find_advisories
from vigil.store.audit import append as audit
from vigil.store.db import transaction
from vigil.store.decision_queries import (
    candidate_findings,
    decision_by_id,
    decisions_of,
    device_facts,
    insert_decision,
    revoke,
)
from vigil.store.findings import insert_events
from vigil.store.inventory import site_ids
from vigil.store.response import response_rows, write_responses


class DecisionError(ValueError):
    """A decision that cannot be made or found; the message says why."""


@dataclass(frozen=True)
class DecisionRequest:
    """A decide-once rule as a person states it."""

    site: str
    """Site name."""
    change: StatusChange
    """The status (and what it needs) every covered device gets."""
    manufacturer: str
    """Manufacturer as written; the alias table makes it canonical."""
    model: str
    """Device model or installed software product name."""
    cve: str | None = None
    """The CVE decided on; exactly one of cve and advisory."""
    advisory: str | None = None
    """The advisory's tracking id."""
    release: str | None = None
    """Version or CSAF wildcard pattern (`1.3.*`); None: every release."""
    model_number: str | None = None
    """Model number (12NC ...); None: every one."""


@dataclass
class Application:
    """What applying a decision did, device by device."""

    applied: list[int] = field(default_factory=list)
    """Findings whose status the decision set."""
    unchanged: list[int] = field(default_factory=list)
    """Findings that already had it from this decision."""
    refused: list[tuple[int, str]] = field(default_factory=list)
    """(finding id, reason) where the life cycle refused the status."""

    def as_json(self) -> dict[str, Any]:
        return {
            "applied": len(self.applied),
            "unchanged": len(self.unchanged),
            "refused": [{"finding_id": fid, "reason": reason} for fid, reason in self.refused],
        }


def add_decision(
    store: Store, request: DecisionRequest, actor: str, now: datetime | None = None
) -> tuple[dict[str, Any], Application]:
    """Record the decision and apply it to every current matching device of the site."""
    now = now or datetime.now(UTC)
    if not actor.strip():
        raise DecisionError("a decision needs the actor's name (--by)")
    if (request.cve is None) == (request.advisory is None):
        raise DecisionError("a decision is about exactly one of --cve or --advisory")
    if not request.manufacturer.strip() or not request.model.strip():
        raise DecisionError("a decision needs --manufacturer and --model")
    try:
        check_requirements(request.change)
    except IllegalTransition as error:
        raise DecisionError(str(error)) from None
    with transaction(store.sessions) as session:
        site_id = _site(session, request.site)
        advisory_id = _advisory(session, request.advisory) if request.advisory else None
        values = {
            "cve": request.cve.strip().upper() if request.cve else None,
            "advisory_id": advisory_id,
            "manufacturer": default_aliases().canonical(request.manufacturer),
            "model": request.model.strip(),
            "model_key": name_key(request.model),
            "release": request.release.strip() if request.release else None,
            "model_number": part_number(request.model_number) if request.model_number else None,
            "status": request.change.status,
            "detail": request.change.detail(),
            "actor": actor.strip(),
            "created_at": now,
        }
        decision_id = insert_decision(session, site_id, values)
        decision = decision_by_id(session, site_id, decision_id)
        assert decision is not None
        try:
            outcome = _apply(session, site_id, [decision], now)
        except ResponseConflict as error:
            raise DecisionError(f"nothing decided: {error}") from None
        audit(
            session,
            site_id,
            actor.strip(),
            "decision.add",
            f"decision {decision_id}",
            {**_json(decision, request.site, request.advisory), "result": outcome.as_json()},
            now,
        )
        return _json(decision, request.site, request.advisory), outcome


def apply_site_decisions(session: Session, site_id: int, now: datetime) -> Application:
    """Apply the site's active decisions to findings nobody has decided on yet (after a match run: the
    devices that matched since). Newer decisions win where several cover one device. A person changing one of
    those findings at the same moment makes this pass give way (savepoint): the next run applies it."""
    decisions = decisions_of(session, site_id)
    if not decisions:
        return Application()
    try:
        with session.begin_nested():
            return _apply(session, site_id, decisions, now, sources=("initial",))
    except ResponseConflict:
        return Application()


def _apply(
    session: Session,
    site_id: int,
    decisions: Sequence[t.Decision],
    now: datetime,
    sources: Sequence[str] | None = None,
) -> Application:
    outcome = Application()
    claimed: set[int] = set()
    for decision in sorted(decisions, key=lambda d: d.id, reverse=True):
        scope = DecisionScope(decision.manufacturer, decision.model_key, decision.release, decision.model_number)
        candidates = candidate_findings(
            session,
            site_id,
            [decision.cve] if decision.cve else [],
            [decision.advisory_id] if decision.advisory_id is not None else [],
            *([sources] if sources else []),
        )
        facts = device_facts(session, site_id, {asset_id for _, asset_id, _, _ in candidates})
        covered = [fid for fid, asset_id, _, _ in candidates if asset_id in facts and scope.covers(facts[asset_id])]
        rows = response_rows(session, site_id, covered)
        change = change_from_detail(decision.status, decision.detail)
        changes = []
        for finding_id in covered:
            if finding_id in claimed:
                continue
            claimed.add(finding_id)
            row = rows[finding_id]
            if row.response_status == decision.status and row.response_source == "decision":
                outcome.unchanged.append(finding_id)
            else:
                changes.append((row, change))
        result = apply_statuses(
            session, site_id, changes, decision.actor, now, "decision", decision.id, audit_action="decision.apply"
        )
        outcome.applied.extend(r.finding_id for r in result.applied)
        outcome.refused.extend(result.refused)
    return outcome


def list_decisions(store: Store, site: str, include_revoked: bool = False) -> list[dict[str, Any]]:
    with store.sessions() as session:
        site_id = _site(session, site)
        decisions = decisions_of(session, site_id, include_revoked)
        tracking = _tracking_ids(session, [d.advisory_id for d in decisions if d.advisory_id is not None])
        return [_json(d, site, tracking.get(d.advisory_id) if d.advisory_id else None) for d in decisions]


def revoke_decision(store: Store, site: str, decision_id: int, actor: str, now: datetime | None = None) -> int:
    """Revoke a decision: devices whose status it set go back to where the advisory puts them (with history).
    Returns how many devices were reset."""
    now = now or datetime.now(UTC)
    if not actor.strip():
        raise DecisionError("revoking a decision needs the actor's name (--by)")
    with transaction(store.sessions) as session:
        site_id = _site(session, site)
        decision = decision_by_id(session, site_id, decision_id)
        if decision is None:
            raise DecisionError(f"no decision {decision_id} in site {site!r}")
        if decision.revoked_at is not None:
            raise DecisionError(f"decision {decision_id} was already revoked by {decision.revoked_by}")
        revoke(session, site_id, decision_id, actor.strip(), now)
        f = t.Finding
        query = select(f.id, f.status, f.match).where(
            f.site_id == site_id, f.decision_id == decision_id, f.response_source == "decision"
        )
        found = session.execute(query).all()
        rows = response_rows(session, site_id, [r[0] for r in found])
        comment = f"decision {decision_id} revoked by {actor.strip()}"
        updates, events = [], []
        for finding_id, status, match in found:
            row = rows[finding_id]
            # A reset to where the advisory puts the device, as a match run's reopen is: not a life-cycle move.
            target = initial_status(status, match)
            updates.append(
                {
                    "id": finding_id,
                    "response_version": row.response_version,
                    "response_status": target,
                    "response_source": "initial",
                    "response_detail": {"comment": comment, "actor": actor.strip(), "at": now.isoformat()},
                    "decision_id": None,
                    "risk_expires_at": None,
                    "updated_at": now,
                }
            )
            detail = {"from": row.response_status, "to": target, "source": "decision", "comment": comment}
            events.append(
                {
                    "finding_id": finding_id,
                    "at": now,
                    "kind": "status",
                    "actor": actor.strip(),
                    "revision_id": None,
                    "detail": detail,
                }
            )
        if write_responses(session, site_id, updates) != len(updates):
            raise DecisionError(f"findings of decision {decision_id} changed meanwhile; nothing was revoked: retry")
        insert_events(session, site_id, events)
        reset = [{"id": u["id"], "to": u["response_status"]} for u in updates]
        audit(session, site_id, actor.strip(), "decision.revoke", f"decision {decision_id}", {"reset": reset}, now)
        return len(events)


def _json(decision: t.Decision, site: str, tracking_id: str | None) -> dict[str, Any]:
    return {
        "id": decision.id,
        "site": site,
        "cve": decision.cve,
        "advisory": tracking_id,
        "manufacturer": decision.manufacturer,
        "model": decision.model,
        "release": decision.release,
        "model_number": decision.model_number,
        "status": decision.status,
        "detail": decision.detail,
        "actor": decision.actor,
        "created_at": iso_utc(decision.created_at),
        "revoked_at": iso_utc(decision.revoked_at) if decision.revoked_at else None,
        "revoked_by": decision.revoked_by,
    }


def _site(session: Session, name: str) -> int:
    found = site_ids(session, [name], create=False)
    if not found:
        raise DecisionError(f"no site named {name!r}")
    return found[name]


def _advisory(session: Session, tracking_id: str) -> int:
    rows = find_advisories(session, tracking_id)
    if not rows:
        raise DecisionError(f"no advisory with tracking id {tracking_id!r}")
    return int(rows[0][0].id)


def _tracking_ids(session: Session, advisory_ids: Sequence[int]) -> dict[int, str]:
    if not advisory_ids:
        return {}
    query = select(t.Advisory.id, t.Advisory.tracking_id).where(t.Advisory.id.in_(sorted(set(advisory_ids))))
    return {row[0]: row[1] for row in session.execute(query)}
