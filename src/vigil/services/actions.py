"""Use case: action items — derived from the advisories' remediations for every device that needs them,
assigned, completed with evidence, rolled up per advisory and site.

Items are brought up to date (sync) by every command that reads or changes them, for the site (and advisory)
asked about, rather than by each match run: a large site's first match opens millions of findings, and most
sites look at their items per advisory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.matching.compiled import vulnerability_key
from vigil.outputs.timestamps import iso_utc
from vigil.response.actions import COMPENSATING, RemediationText, WantedItem, wanted_items
from vigil.response.states import AFFECTED, MITIGATED, NEEDS_ACTION, Evidence, IllegalTransition, StatusChange
from vigil.services.response import ResponseConflict, apply_status
from vigil.services.store import Store
from vigil.store import schema as t
from vigil.store.action_queries import (
    findings_needing_action,
    insert_items,
    item_states,
    items_of,
    revision_remediations,
    update_items,
)
from vigil.store.advisory_queries import find_advisories
from vigil.store.audit import append as audit
from vigil.store.db import transaction
from vigil.store.inventory import site_ids
from vigil.store.response import response_rows

NOT_NEEDED = "no finding of this device needs it any more (fixed, not affected, or closed)"


class ActionError(ValueError):
    """An unknown site, advisory or item, or a change the item refuses; the message says which."""


@dataclass(frozen=True)
class ActionQuery:
    """Which items to show."""

    site: str
    """Site name."""
    advisory: str | None = None
    """Tracking id."""
    states: Sequence[str] = ("open",)
    """open, done, void."""
    assignee: str | None = None
    """Only this person's."""
    asset_id: str | None = None
    """Only this device's."""


def sync_actions(
    session: Session, site_id: int, now: datetime, advisory_ids: Sequence[int] | None = None
) -> Counter[str]:
    """Bring the site's items (of the given advisories) in line with its findings: new items for new needs,
    `void` for open items nothing needs any more, reopened voids. Done items stay done."""
    rows = list(findings_needing_action(session, site_id, NEEDS_ACTION, advisory_ids))
    wanted = wanted_items(rows, _remediations(session, {row[2] for row in rows}))
    stored = {(r[1], r[2], r[3]): r for r in item_states(session, site_id, advisory_ids)}
    counts: Counter[str] = Counter()
    inserts, updates = [], []
    for key, item in wanted.items():
        existing = stored.get(key)
        if existing is None:
            inserts.append(_new_item(item, now))
            counts["created"] += 1
            continue
        item_id, state, revision_id, vulnerability_keys = existing[0], existing[4], existing[5], existing[6]
        if state == "void" or revision_id != item.revision_id or vulnerability_keys != list(item.vulnerability_keys):
            updates.append(_refresh(item_id, item, "open" if state == "void" else state, now))
            counts["reopened" if state == "void" else "updated"] += 1
    for key, (item_id, _, _, _, state, revision_id, vulnerability_keys) in stored.items():
        if key not in wanted and state == "open":
            updates.append(
                {
                    "id": item_id,
                    "state": "void",
                    "void_reason": NOT_NEEDED,
                    "updated_at": now,
                    "revision_id": revision_id,
                    "vulnerability_keys": vulnerability_keys,
                }
            )
            counts["voided"] += 1
    insert_items(session, site_id, inserts)
    update_items(session, site_id, ("state", "void_reason", "updated_at", "revision_id", "vulnerability_keys"), updates)
    return counts


def _remediations(session: Session, revision_ids: set[int]) -> dict[int, list[RemediationText]]:
    remediations, vulnerabilities, groups = revision_remediations(session, revision_ids)
    keys = {(v.revision_id, v.ordinal): vulnerability_key(v) for v in vulnerabilities}
    found: dict[int, list[RemediationText]] = {}
    for r in sorted(remediations, key=lambda r: (r.revision_id, r.vulnerability_ordinal, r.ordinal)):
        products = set(r.product_ids or ())
        for group_id in r.group_ids or ():
            products.update(groups.get((r.revision_id, group_id), ()))
        text = RemediationText(
            keys[(r.revision_id, r.vulnerability_ordinal)], r.category, r.details, r.url, frozenset(products)
        )
        found.setdefault(r.revision_id, []).append(text)
    return found


def _new_item(item: WantedItem, now: datetime) -> dict[str, Any]:
    r = item.remediation
    return {
        "asset_id": item.asset_id,
        "advisory_id": item.advisory_id,
        "revision_id": item.revision_id,
        "remediation_key": r.key,
        "category": r.category,
        "details": r.details,
        "url": r.url,
        "vulnerability_keys": list(item.vulnerability_keys),
        "state": "open",
        "assignee": None,
        "completed_by": None,
        "completed_at": None,
        "evidence": None,
        "void_reason": None,
        "created_at": now,
        "updated_at": now,
    }


def _refresh(item_id: int, item: WantedItem, state: str, now: datetime) -> dict[str, Any]:
    return {
        "id": item_id,
        "state": state,
        "void_reason": None,
        "updated_at": now,
        "revision_id": item.revision_id,
        "vulnerability_keys": list(item.vulnerability_keys),
    }


# --- read ----------------------------------------------------------------------------------------------------


def list_actions(store: Store, query: ActionQuery, now: datetime | None = None) -> list[dict[str, Any]]:
    """Items of the site (synced first), as JSON-ready data (the `vigil actions list --format json` contract)."""
    now = now or datetime.now(UTC)
    with transaction(store.sessions) as session:
        site_id, advisory_ids = _scope(session, query.site, query.advisory)
        sync_actions(session, site_id, now, advisory_ids)
        items = items_of(session, site_id, advisory_ids)
        tracking = _tracking_ids(session, {i.advisory_id for i in items})
    return [
        _item_json(i, query.site, tracking[i.advisory_id])
        for i in items
        if i.state in query.states
        and (query.assignee is None or i.assignee == query.assignee)
        and (query.asset_id is None or i.asset_id == query.asset_id)
    ]


SITE_TOTAL = "*"
"""The advisory and category of rollup's last row: the whole site."""


def rollup(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per advisory and category, then for the whole site (advisory and category `*`): how many items are open,
    done and void, on how many devices."""
    groups: dict[tuple[str, str], Counter[str]] = {}
    devices: dict[tuple[str, str], set[str]] = {}
    for item in items:
        for key in ((item["advisory"], item["category"]), (SITE_TOTAL, SITE_TOTAL)):
            groups.setdefault(key, Counter())[item["state"]] += 1
            devices.setdefault(key, set()).add(item["asset_id"])
    ordered = sorted(groups, key=lambda key: (key == (SITE_TOTAL, SITE_TOTAL), key))
    return [
        {
            "advisory": advisory,
            "category": category,
            "open": groups[(advisory, category)]["open"],
            "done": groups[(advisory, category)]["done"],
            "void": groups[(advisory, category)]["void"],
            "devices": len(devices[(advisory, category)]),
        }
        for advisory, category in ordered
    ]


def _item_json(item: t.ActionItem, site: str, tracking_id: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "site": site,
        "asset_id": item.asset_id,
        "advisory": tracking_id,
        "vulnerabilities": item.vulnerability_keys,
        "category": item.category,
        "details": item.details,
        "url": item.url,
        "state": item.state,
        "assignee": item.assignee,
        "completed_by": item.completed_by,
        "completed_at": iso_utc(item.completed_at) if item.completed_at else None,
        "evidence": item.evidence,
        "void_reason": item.void_reason,
        "created_at": iso_utc(item.created_at),
        "updated_at": iso_utc(item.updated_at),
    }


# --- change --------------------------------------------------------------------------------------------------


def assign_action(store: Store, site: str, item_id: int, assignee: str, actor: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    with transaction(store.sessions) as session:
        site_id, item = _item(session, site, item_id, actor)
        if item.state != "open":
            raise ActionError(f"action {item_id} is {item.state}: only open items are assigned")
        update_items(
            session,
            site_id,
            ("assignee", "updated_at"),
            [{"id": item_id, "assignee": assignee.strip() or None, "updated_at": now}],
        )
        audit(session, site_id, actor.strip(), "action.assign", f"action {item_id}", {"assignee": assignee}, now)
    return show_action(store, site, item_id)


def complete_action(
    store: Store, site: str, item_id: int, actor: str, evidence: str, now: datetime | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Mark an item done with evidence. A mitigation or workaround done on a device mitigates the affected
    findings it answers (with the same evidence); returns the item and those status changes (or refusals)."""
    now = now or datetime.now(UTC)
    if not evidence.strip():
        raise ActionError("completing an action needs evidence (--evidence): what was done, and how it was checked")
    with transaction(store.sessions) as session:
        site_id, item = _item(session, site, item_id, actor)
        if item.state != "open":
            raise ActionError(f"action {item_id} is {item.state}: only open items are completed")
        values = {
            "id": item_id,
            "state": "done",
            "completed_by": actor.strip(),
            "completed_at": now,
            "evidence": evidence.strip(),
            "updated_at": now,
        }
        update_items(session, site_id, ("state", "completed_by", "completed_at", "evidence", "updated_at"), [values])
        audit(
            session,
            site_id,
            actor.strip(),
            "action.complete",
            f"action {item_id}",
            {"category": item.category, "asset_id": item.asset_id, "evidence": evidence.strip()},
            now,
        )
        changes = (
            _mitigate(session, site_id, item, actor.strip(), evidence.strip(), now)
            if item.category in COMPENSATING
            else []
        )
    return show_action(store, site, item_id), changes


def _mitigate(
    session: Session, site_id: int, item: t.ActionItem, actor: str, evidence: str, now: datetime
) -> list[dict[str, Any]]:
    f = t.Finding
    query = select(f.id).where(
        f.site_id == site_id,
        f.asset_id == item.asset_id,
        f.advisory_id == item.advisory_id,
        f.vulnerability_key.in_(item.vulnerability_keys),
        f.closed_at.is_(None),
    )
    ids = list(session.scalars(query))
    rows = response_rows(session, site_id, ids)
    change = StatusChange(
        MITIGATED,
        comment=f"action {item.id} ({item.category}) completed",
        evidence=(Evidence("text", evidence),),
    )
    results = []
    for finding_id in ids:
        if rows[finding_id].response_status != AFFECTED:
            continue
        try:
            done = apply_status(
                session, site_id, finding_id, change, actor, now, rows[finding_id].response_version, "action"
            )
            results.append({"finding_id": finding_id, "from": done.before, "to": done.after})
        except (IllegalTransition, ResponseConflict) as error:
            results.append({"finding_id": finding_id, "refused": str(error)})
    return results


def show_action(store: Store, site: str, item_id: int) -> dict[str, Any]:
    with store.sessions() as session:
        site_id = _site(session, site)
        found = items_of(session, site_id, item_ids=[item_id])
        if not found:
            raise ActionError(f"no action {item_id} in site {site!r}")
        tracking = _tracking_ids(session, {found[0].advisory_id})
    return _item_json(found[0], site, tracking[found[0].advisory_id])


def _item(session: Session, site: str, item_id: int, actor: str) -> tuple[int, t.ActionItem]:
    if not actor.strip():
        raise ActionError("changing an action needs the actor's name (--by)")
    site_id = _site(session, site)
    found = items_of(session, site_id, item_ids=[item_id])
    if not found:
        raise ActionError(f"no action {item_id} in site {site!r}")
    return site_id, found[0]


def _scope(session: Session, site: str, advisory: str | None) -> tuple[int, list[int] | None]:
    site_id = _site(session, site)
    if advisory is None:
        return site_id, None
    found = find_advisories(session, advisory)
    if not found:
        raise ActionError(f"no advisory with tracking id {advisory!r}")
    return site_id, [row[0].id for row in found]


def _site(session: Session, name: str) -> int:
    found = site_ids(session, [name], create=False)
    if not found:
        raise ActionError(f"no site named {name!r}")
    return found[name]


def _tracking_ids(session: Session, advisory_ids: set[int]) -> dict[int, str]:
    query = select(t.Advisory.id, t.Advisory.tracking_id).where(t.Advisory.id.in_(sorted(advisory_ids)))
    return {row[0]: row[1] for row in session.execute(query)}
