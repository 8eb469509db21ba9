"""Use case: read findings back (list, group per asset and CVE, show with history) and record reviews of
`possible` ones. Same data for the CLI, the API and reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vigil.matching.findings import MATCH_LEVELS, STATUSES
from vigil.outputs.timestamps import iso_utc
from vigil.response.states import RESPONSE_STATUSES
from vigil.services.store import Store
from vigil.store import audit
from vigil.store import schema as t
from vigil.store.advisory_queries import find_advisories
from vigil.store.db import transaction
from vigil.store.findings import events_of, set_review
from vigil.store.findings_queries import FindingFilter, find_finding, list_findings
from vigil.store.inventory import site_ids

REVIEW_DECISIONS = ("confirmed", "rejected")
CSV_COLUMNS = (
    "id",
    "site",
    "asset_id",
    "advisory_id",
    "publisher",
    "cves",
    "status",
    "match",
    "review",
    "product_ids",
    "prevailing",
    "superseded_by",
    "closed_reason",
    "response_status",
    "response_source",
    "risk_expires_at",
)
"""Columns of `vigil findings --format csv`: the flat fields of the JSON objects."""


class FindingQueryError(LookupError):
    """An unknown site, advisory, status or match level; the message names it."""


@dataclass(frozen=True)
class FindingQuery:
    """Filters as people type them."""

    site: str | None = None
    """Site name."""
    advisory: str | None = None
    """The document's /document/tracking/id."""
    asset_id: str | None = None
    """One asset id."""
    statuses: Sequence[str] = ()
    """Any of STATUSES."""
    matches: Sequence[str] = ()
    """Any of MATCH_LEVELS."""
    review: str | None = None
    """pending, confirmed or rejected."""
    cve: str | None = None
    """One CVE id."""
    include_closed: bool = False
    """Closed findings too."""
    include_superseded: bool = False
    """Findings a vendor document prevails over too."""
    response_statuses: Sequence[str] = ()
    """Any of response/states.py RESPONSE_STATUSES."""


def _filter(store: Store, query: FindingQuery) -> FindingFilter:
    for value in query.statuses:
        if value not in STATUSES:
            raise FindingQueryError(f"unknown status {value!r}: expected one of {', '.join(STATUSES)}")
    for value in query.matches:
        if value not in MATCH_LEVELS:
            raise FindingQueryError(f"unknown match level {value!r}: expected one of {', '.join(MATCH_LEVELS)}")
    for value in query.response_statuses:
        if value not in RESPONSE_STATUSES:
            raise FindingQueryError(
                f"unknown response status {value!r}: expected one of {', '.join(RESPONSE_STATUSES)}"
            )
    if query.review is not None and query.review not in ("pending", *REVIEW_DECISIONS):
        raise FindingQueryError(f"unknown review state {query.review!r}: expected pending, confirmed or rejected")
    with store.sessions() as session:
        sites: list[int] | None = None
        if query.site is not None:
            found = site_ids(session, [query.site], create=False)
            if not found:
                raise FindingQueryError(f"no site named {query.site!r}")
            sites = list(found.values())
        advisories: list[int] | None = None
        if query.advisory is not None:
            advisories = [row[0].id for row in find_advisories(session, query.advisory)]
            if not advisories:
                raise FindingQueryError(f"no advisory with tracking id {query.advisory!r}")
    return FindingFilter(
        site_ids=sites,
        advisory_ids=advisories,
        asset_id=query.asset_id,
        statuses=list(query.statuses) or None,
        matches=list(query.matches) or None,
        review=query.review,
        cve=query.cve,
        include_closed=query.include_closed,
        include_superseded=query.include_superseded,
        response_statuses=list(query.response_statuses) or None,
    )


def finding_dict(row: Any) -> dict[str, Any]:
    """One finding as JSON-ready data (the `vigil findings --format json` contract)."""
    finding: t.Finding = row[0]
    return {
        "id": finding.id,
        "asset_id": finding.asset_id,
        "site": row[1],
        "advisory_id": row[2],
        "publisher": row[3],
        "publisher_category": row[4],
        "cves": [finding.cve] if finding.cve else [],
        "vulnerability": finding.vulnerability_key,
        "status": finding.status,
        "csaf_status": finding.csaf_status,
        "match": finding.match,
        "review": finding.review,
        "counts_as_affected": finding.status == "affected"
        and (finding.match != "possible" or finding.review == "confirmed"),
        "product_ids": finding.product_ids,
        "evidence": row[5],
        "prevailing": finding.prevailing,
        "superseded_by": finding.superseded_by,
        "scope_reason": finding.scope_reason,
        "opened_at": iso_utc(finding.opened_at),
        "updated_at": iso_utc(finding.updated_at),
        "closed_at": iso_utc(finding.closed_at) if finding.closed_at else None,
        "closed_reason": finding.closed_reason,
        "response_status": finding.response_status,
        "response_version": finding.response_version,
        "response_source": finding.response_source,
        "response_detail": finding.response_detail,
        "decision_id": finding.decision_id,
        "risk_expires_at": iso_utc(finding.risk_expires_at) if finding.risk_expires_at else None,
    }


def find_findings(store: Store, query: FindingQuery, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    spec = _filter(store, query)
    with store.sessions() as session:
        return [finding_dict(row) for row in list_findings(session, spec, limit, offset)]


def group_by_cve(findings: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings per (site, asset, CVE): every source, which prevails and why. Findings without a CVE stand
    alone, keyed by their advisory's vulnerability."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for finding in findings:
        cve = finding["cves"][0] if finding["cves"] else f"{finding['advisory_id']}:{finding['vulnerability']}"
        groups.setdefault((finding["site"], finding["asset_id"], cve), []).append(finding)
    grouped = []
    for (site, asset_id, cve), members in groups.items():
        prevailing = [m for m in members if m["prevailing"]]
        grouped.append(
            {
                "site": site,
                "asset_id": asset_id,
                "cve": cve,
                "status": _worst([m["status"] for m in prevailing]) if prevailing else None,
                "prevailing": [m["advisory_id"] for m in prevailing],
                "sources": [
                    {
                        "advisory_id": m["advisory_id"],
                        "publisher": m["publisher"],
                        "publisher_category": m["publisher_category"],
                        "status": m["status"],
                        "match": m["match"],
                        "prevailing": m["prevailing"],
                        "reason": m["scope_reason"],
                        "finding_id": m["id"],
                    }
                    for m in members
                ],
            }
        )
    return grouped


def _worst(statuses: Sequence[str]) -> str:
    return min(statuses, key=STATUSES.index)


def show_finding(store: Store, finding_id: int) -> dict[str, Any]:
    """One finding with its history."""
    with store.sessions() as session:
        row = find_finding(session, finding_id)
        if row is None:
            raise FindingQueryError(f"no finding {finding_id}")
        data = finding_dict(row)
        history = events_of(session, row[0].site_id, [finding_id])[finding_id]
    data["history"] = [_opened(row[0], history)] + [
        {"at": iso_utc(e.at), "kind": e.kind, "actor": e.actor, "revision_id": e.revision_id, "detail": e.detail}
        for e in history
    ]
    return data


def _opened(finding: t.Finding, history: Sequence[t.FindingEvent]) -> dict[str, Any]:
    """The history's first entry, from the finding itself (the matcher stores no row for it): what it was when
    opened is the earliest `before` a later change recorded, else what it is now."""
    first: dict[str, Any] = {"revision_id": finding.revision_id, "status": finding.status, "match": finding.match}
    for name in first:
        for e in history:
            change = e.detail.get(name)
            if isinstance(change, dict) and "before" in change:
                first[name] = change["before"]
                break
    revision_id = first.pop("revision_id")
    return {
        "at": iso_utc(finding.opened_at),
        "kind": "opened",
        "actor": "vigil match",
        "revision_id": revision_id,
        "detail": first,
    }


def review_finding(store: Store, finding_id: int, decision: str, actor: str, comment: str | None) -> dict[str, Any]:
    """Confirm or reject a `possible` finding; refused (ValueError, with the reason) for any other."""
    if decision not in REVIEW_DECISIONS:
        raise ValueError(f"unknown review decision {decision!r}")
    if not actor.strip():
        raise ValueError("a review needs the reviewer's name (--by)")
    with transaction(store.sessions) as session:
        row = find_finding(session, finding_id)
        if row is None:
            raise FindingQueryError(f"no finding {finding_id}")
        finding: t.Finding = row[0]
        if finding.match != "possible":
            raise ValueError(f"finding {finding_id} is a {finding.match} match: only possible matches are reviewed")
        if finding.closed_at is not None:
            raise ValueError(f"finding {finding_id} is closed ({finding.closed_reason})")
        now = datetime.now(UTC)
        detail = {"review": decision, "before": finding.review, "comment": comment, "asset_id": finding.asset_id}
        set_review(session, finding.site_id, finding_id, decision, actor.strip(), comment, now)
        audit.append(session, finding.site_id, actor.strip(), "finding.review", str(finding_id), detail, now)
    return show_finding(store, finding_id)
