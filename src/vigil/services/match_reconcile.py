"""A matcher run's drafts against the stored findings: open, change, revise, reopen or close, with history.

- opened: a draft with no stored finding;
- changed: status, CSAF status, match level or matched products differ (a person should look again);
- revised: only the supporting revision or the evidence changed (CSAF §9.1.13: a new revision that leaves
  the outcome unchanged is no new alert, but the finding follows the new revision);
- reopened: a closed finding is supported again;
- closed: an open finding in the run's scope with no draft; the reason says what no longer supports it.
`possible` findings enter the review queue (`review` pending) and keep a person's decision only while the
matched products stay the same.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from vigil.matching.findings import FindingDraft
from vigil.response.inventory_fix import fixed_detail, version_change
from vigil.response.reopen import MATCHER, response_after_change
from vigil.response.states import FIXED, OPEN_STATUSES, initial_status
from vigil.store.findings import (
    ASSET_CHANGED,
    CLOSE_COLUMNS,
    OUTCOME_COLUMNS,
    RESPONSE_COLUMNS,
    FindingKey,
    StoredFinding,
    insert_events,
    insert_findings,
    product_ids_of,
    store_evidence,
    update_findings,
)
from vigil.store.ids import allocate
from vigil.store.response import closing_evidence, device_records
from vigil.store.revision_header import RevisionHeader

ACTOR = "vigil match"
_OUTCOME = ("status", "csaf_status", "match", "product_ids")


@dataclass
class SiteChanges:
    """What a run evaluated for one site, and the stored findings it may touch."""

    drafts: dict[FindingKey, FindingDraft]
    """Every finding the evaluated (asset, revision) pairs support."""
    existing: dict[FindingKey, StoredFinding]
    """Stored findings of the evaluated scope."""
    changed_assets: set[str]
    """Assets re-evaluated against every revision (incremental runs)."""
    everything: bool = False
    """A full run: every stored finding is in scope."""
    new_advisories: set[int] = field(default_factory=set)
    """Advisories whose current revision was evaluated against every candidate asset."""
    removed_assets: set[str] = field(default_factory=set)
    """Assets with open findings that are no longer in the inventory."""

    def in_scope(self, key: FindingKey) -> bool:
        asset_id, advisory_id, _ = key
        return (
            self.everything
            or asset_id in self.changed_assets
            or asset_id in self.removed_assets
            or advisory_id in self.new_advisories
        )


def reconcile(
    session: Session,
    site_id: int,
    changes: SiteChanges,
    headers: Sequence[RevisionHeader],
    now: datetime,
    counts: Counter[str],
) -> None:
    current = {h.advisory_id: h for h in headers}
    inserts: list[FindingDraft] = []
    changed_drafts: list[FindingDraft] = []
    outcome_updates: list[dict[str, Any]] = []
    close_updates: list[dict[str, Any]] = []
    response_updates: list[dict[str, Any]] = []
    maybe_fixed: list[StoredFinding] = []
    events: list[dict[str, Any]] = []
    _fill_product_ids(session, site_id, changes)
    for key, draft in changes.drafts.items():
        stored = changes.existing.get(key)
        if stored is None:
            inserts.append(draft)
            continue
        kind = _kind(stored, draft)
        counts[kind] += 1
        if kind == "unchanged":
            continue
        row = _outcome_row(stored, draft, now)
        outcome_updates.append(row)
        changed_drafts.append(draft)
        difference = _difference(stored, row)
        events.append(event(stored.id, now, kind, draft.revision_id, difference))
        if kind != "revised":
            response = response_after_change(stored, draft.status, draft.match, _why(kind, difference))
            if response is not None:
                response_updates.append({"id": stored.id, **response[0]})
                events.append(event(stored.id, now, "status", draft.revision_id, response[1]))
    for key, stored in changes.existing.items():
        if stored.closed_at is not None or key in changes.drafts or not changes.in_scope(key):
            continue
        reason = _close_reason(stored, changes, current)
        close_updates.append({"id": stored.id, "closed_at": now, "closed_reason": reason, "updated_at": now})
        header = current.get(stored.advisory_id)
        revision_id = header.revision_id if header is not None else None
        events.append(event(stored.id, now, "closed", revision_id, {"reason": reason}))
        counts["closed"] += 1
        if reason == ASSET_CHANGED and stored.response_status in OPEN_STATUSES:
            maybe_fixed.append(stored)
    for finding_id, values, detail in fixed_by_inventory(session, site_id, maybe_fixed):
        response_updates.append({"id": finding_id, **values})
        events.append(event(finding_id, now, "status", None, detail))
    store_evidence(session, site_id, {d.evidence_digest: d.encoded[2] for d in (*inserts, *changed_drafts)})
    # No "opened" event row: the finding's own opened_at and first values say it, and a full run on a large
    # inventory opens millions of findings at once.
    _insert(session, site_id, inserts, now)
    counts["opened"] += len(inserts)
    update_findings(session, site_id, OUTCOME_COLUMNS, outcome_updates)
    update_findings(session, site_id, CLOSE_COLUMNS, close_updates)
    update_findings(session, site_id, RESPONSE_COLUMNS, response_updates)
    counts["status_reset"] += len(response_updates)
    insert_events(session, site_id, events)


def _fill_product_ids(session: Session, site_id: int, changes: SiteChanges) -> None:
    """Light-loaded findings whose digest differs from their draft (or that reopen) need their product ids."""
    wanted = [
        stored.id
        for key, draft in changes.drafts.items()
        if (stored := changes.existing.get(key)) is not None
        and stored.product_ids is None
        and (stored.digest != draft.digest or stored.closed_at is not None)
    ]
    if not wanted:
        return
    found = product_ids_of(session, site_id, wanted)
    for stored in changes.existing.values():
        if stored.id in found:
            stored.product_ids = found[stored.id]


def _insert(session: Session, site_id: int, drafts: Sequence[FindingDraft], now: datetime) -> None:
    """New open findings; a `possible` one enters the review queue."""
    if not drafts:
        return
    first = allocate(session, "finding", len(drafts))
    insert_findings(
        session,
        [
            (
                site_id,
                first + n,
                d.asset_id,
                d.advisory_id,
                d.vulnerability_key,
                d.revision_id,
                d.cve,
                d.status,
                d.csaf_status,
                d.match,
                "pending" if d.match == "possible" else None,
                d.encoded[0],
                d.encoded[1],
                d.evidence_digest,
                d.digest,
                True,
                None,
                None,
                now,
                now,
                None,
                None,
                initial_status(d.status, d.match),
            )
            for n, d in enumerate(drafts)
        ],
    )


def _kind(stored: StoredFinding, draft: FindingDraft) -> str:
    if stored.closed_at is not None:
        return "reopened"
    if stored.digest == draft.digest:
        return "unchanged"
    if any(getattr(stored, name) != _draft_value(draft, name) for name in _OUTCOME):
        return "changed"
    return "revised"


def _draft_value(draft: FindingDraft, name: str) -> Any:
    value = getattr(draft, name)
    return list(value) if isinstance(value, tuple) else value


def _review(draft: FindingDraft, stored: StoredFinding | None) -> str | None:
    if draft.match != "possible":
        return None
    if stored is not None and stored.match == "possible" and stored.product_ids == list(draft.product_ids):
        return stored.review or "pending"
    return "pending"


def _outcome_row(stored: StoredFinding, draft: FindingDraft, now: datetime) -> dict[str, Any]:
    return {
        "id": stored.id,
        "revision_id": draft.revision_id,
        "cve": draft.cve,
        "status": draft.status,
        "csaf_status": draft.csaf_status,
        "match": draft.match,
        "review": _review(draft, stored),
        "product_ids": list(draft.product_ids),
        "product_families": list(draft.product_families),
        "evidence_digest": draft.evidence_digest,
        "digest": draft.digest,
        "updated_at": now,
        "closed_at": None,
        "closed_reason": None,
    }


def _difference(stored: StoredFinding, row: dict[str, Any]) -> dict[str, Any]:
    """Before/after of the outcome fields that changed, for the history."""
    names = ("revision_id", "status", "csaf_status", "match", "review", "product_ids", "closed_reason")
    return {
        name: {"before": getattr(stored, name), "after": row[name]}
        for name in names
        if getattr(stored, name) != row[name]
    }


def fixed_by_inventory(
    session: Session, site_id: int, closing: list[StoredFinding]
) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """(finding id, response values, history detail) for closing findings the inventory shows fixed
    (response/inventory_fix.py)."""
    if not closing:
        return []
    evidence = closing_evidence(session, site_id, [f.id for f in closing])
    devices = device_records(session, site_id, [f.asset_id for f in closing])
    found = []
    for stored in closing:
        asset_id, matched = evidence[stored.id]
        change = version_change(matched, devices[asset_id]) if asset_id in devices else None
        if change is None:
            continue
        detail = fixed_detail(change)
        values = {
            "response_status": FIXED,
            "response_source": MATCHER,
            "response_version": stored.response_version + 1,
            "response_detail": detail,
            "decision_id": None,
            "risk_expires_at": None,
        }
        found.append((stored.id, values, {"from": stored.response_status, "to": FIXED, "source": MATCHER, **detail}))
    return found


def _why(kind: str, difference: dict[str, Any]) -> str:
    if kind == "reopened":
        return "the finding is supported again"
    changed = ", ".join(
        f"{name} {change['before']} -> {change['after']}"
        for name, change in difference.items()
        if name in ("status", "csaf_status", "match")
    )
    return f"the advisory or the asset changed ({changed or 'matched products differ'})"


def _close_reason(stored: StoredFinding, changes: SiteChanges, current: dict[int, RevisionHeader]) -> str:
    header = current.get(stored.advisory_id)
    if stored.asset_id in changes.removed_assets:
        return "the asset is no longer in the inventory"
    if header is not None and header.revision_id != stored.revision_id:
        return f"revision {header.tracking_version} of {header.tracking_id} no longer lists this asset for it"
    if stored.asset_id in changes.changed_assets:
        return ASSET_CHANGED
    return "no longer matched under the current matching rules or alias table"


def event(
    finding_id: int, at: datetime, kind: str, revision_id: int | None, detail: dict[str, Any], actor: str = ACTOR
) -> dict[str, Any]:
    """A finding_event row (its id is allocated when stored)."""
    return {
        "finding_id": finding_id,
        "at": at,
        "kind": kind,
        "actor": actor,
        "revision_id": revision_id,
        "detail": detail,
    }
