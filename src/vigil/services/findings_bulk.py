"""Use case: one status change for many findings at once (the findings list's bulk action), across the sites a
caller may see, in one transaction: the life cycle refuses finding by finding (reported with the reason), a
stale expected version refuses that finding, and a concurrent writer (ResponseConflict) rolls back all."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vigil.response.states import StatusChange
from vigil.services.response import apply_statuses
from vigil.services.store import Store
from vigil.store.db import transaction
from vigil.store.response import response_rows

MAX_BULK = 1000
"""Findings one bulk change may name."""


@dataclass
class BulkOutcome:
    """What a bulk change did."""

    applied: list[dict[str, Any]] = field(default_factory=list)
    """{finding_id, from, to, version} per change recorded."""
    refused: list[dict[str, Any]] = field(default_factory=list)
    """{finding_id, reason} per finding left as it was."""


def bulk_set_status(
    store: Store,
    site_ids: Sequence[int],
    finding_ids: Sequence[int],
    change: StatusChange,
    actor: str,
    expect_versions: Mapping[int, int] | None = None,
    now: datetime | None = None,
) -> BulkOutcome:
    """Apply `change` to each finding of `finding_ids` held by one of `site_ids`; others are refused as unknown."""
    if len(finding_ids) > MAX_BULK:
        raise ValueError(f"at most {MAX_BULK} findings per bulk change, not {len(finding_ids)}")
    now = now or datetime.now(UTC)
    wanted = list(dict.fromkeys(finding_ids))
    outcome = BulkOutcome()
    expect_versions = expect_versions or {}
    with transaction(store.sessions) as session:
        remaining = set(wanted)
        for site_id in sorted(site_ids):
            if not remaining:
                break
            rows = response_rows(session, site_id, sorted(remaining))
            remaining -= rows.keys()
            changes = []
            for finding_id, row in sorted(rows.items()):
                expected = expect_versions.get(finding_id)
                if expected is not None and expected != row.response_version:
                    reason = (
                        f"changed since version {expected}: now {row.response_status} (version {row.response_version})"
                    )
                    outcome.refused.append({"finding_id": finding_id, "reason": reason})
                    continue
                changes.append((row, change))
            result = apply_statuses(session, site_id, changes, actor, now)
            outcome.applied += [
                {"finding_id": r.finding_id, "from": r.before, "to": r.after, "version": r.version}
                for r in result.applied
            ]
            outcome.refused += [{"finding_id": fid, "reason": reason} for fid, reason in result.refused]
        outcome.refused += [{"finding_id": fid, "reason": f"no finding {fid}"} for fid in sorted(remaining)]
    outcome.refused.sort(key=lambda r: wanted.index(r["finding_id"]))
    return outcome
