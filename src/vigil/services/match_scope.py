"""The cross-document rule applied to a site's open findings (matching/scope.py decides; this stores it)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from vigil.matching.compiled import CompiledRevision
from vigil.matching.scope import decide, vendor_scopes
from vigil.services.match_reconcile import event
from vigil.store.findings import SCOPE_COLUMNS, insert_events, load_findings, superseded_cves, update_findings
from vigil.store.revision_header import RevisionHeader


def apply_scope(
    session: Session,
    site_id: int,
    vendor_revisions: Sequence[CompiledRevision],
    headers: Sequence[RevisionHeader],
    now: datetime,
    counts: Counter[str],
) -> None:
    """Re-decide `prevailing` for every open finding whose CVE a vendor document covers (or that a vendor
    document used to prevail over)."""
    scopes = vendor_scopes(vendor_revisions)
    cves = sorted(set(scopes) | superseded_cves(session, site_id))
    if not cves:
        return
    findings = load_findings(session, site_id, cves=cves, open_only=True)
    category = {h.advisory_id: h.publisher_category for h in headers}
    listed: dict[tuple[str, str | None], set[int]] = defaultdict(set)
    for finding in findings.values():
        listed[(finding.asset_id, finding.cve)].add(finding.advisory_id)
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for finding in findings.values():
        decision = decide(
            finding.cve,
            finding.advisory_id,
            category.get(finding.advisory_id, "other"),
            finding.product_families or (),
            listed[(finding.asset_id, finding.cve)],
            scopes,
        )
        if (decision.prevailing, decision.superseded_by, decision.reason) == (
            finding.prevailing,
            finding.superseded_by,
            finding.scope_reason,
        ):
            continue
        updates.append(
            {
                "id": finding.id,
                "prevailing": decision.prevailing,
                "superseded_by": decision.superseded_by,
                "scope_reason": decision.reason,
                "updated_at": now,
            }
        )
        kind = "prevails" if decision.prevailing else "superseded"
        counts[kind] += 1
        detail = {"superseded_by": decision.superseded_by, "reason": decision.reason}
        events.append(event(finding.id, now, kind, finding.revision_id, detail))
    update_findings(session, site_id, SCOPE_COLUMNS, updates)
    insert_events(session, site_id, events)
