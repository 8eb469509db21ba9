"""Use case: the web UI's read models — dashboard counts, pages of findings, an advisory's devices, a device,
action items, the audit log — each scoped to the sites a user may see and bounded (keyset pages, counts
aggregated in SQL), so a page costs the same at a million devices as at a hundred.

Findings pages, assets and the audit log come from the services the API uses (findings_page, assets_page,
audit_page); writes go through the same services as the CLI and the API (findings_bulk, response,
findings_read.review_finding, actions, reports)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vigil.outputs.timestamps import iso_utc
from vigil.services.advisory_read import list_advisories
from vigil.services.priorities import PriorityQuery, PriorityRow, list_priorities
from vigil.services.site_scope import SiteRef, visible_sites
from vigil.services.store import Store
from vigil.store import dashboard_queries as q
from vigil.store import schema as t
from vigil.store.advisory_queries import find_advisories

SEVERITY_BANDS = ("critical", "high", "medium", "low", "none", "unscored")
"""CVSS qualitative ratings of a vulnerability's highest base score, then `unscored` (no readable vector)."""
PAGE_SIZE = 50
"""Rows per page of every UI list."""
OVERDUE_CANDIDATES = 20
"""Open action items (oldest first) the dashboard checks for a passed due date: bounded work per page view."""


class NotVisible(LookupError):
    """No such thing among the sites the user may see (the UI answers 404, so existence does not leak)."""


@dataclass(frozen=True)
class Page:
    """One page of a keyset-paginated list."""

    items: list[dict[str, Any]]
    """The rows, JSON-ready."""
    next_cursor: str | None
    """Pass back as `cursor` for the next page; None on the last page."""


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard shows, over the sites the user may see."""

    sites: list[SiteRef]
    """The sites counted."""
    by_status: dict[str, int]
    """Open findings per response status."""
    by_site: list[dict[str, Any]]
    """Per site: name, id, open findings per status, total, pending reviews."""
    by_severity: dict[str, int]
    """Open findings per CVSS band (SEVERITY_BANDS)."""
    kev_findings: int
    """Open findings whose CVE is in the imported KEV catalog."""
    top_advisories: list[dict[str, Any]]
    """Advisories with the most open findings: tracking id, title, count."""
    newest_advisories: list[dict[str, Any]]
    """Latest advisories by current release date."""
    overdue_actions: list[dict[str, Any]]
    """Open action items answering a finding past its due date (of the oldest OVERDUE_CANDIDATES items)."""
    review_pending: int = field(default=0)
    """Possible matches waiting for review."""


def band(score: float | None) -> str:
    """CVSS v3/v4 qualitative rating of a base score."""
    if score is None:
        return "unscored"
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0.0:
        return "low"
    return "none"


def dashboard(store: Store, grant: frozenset[int] | None, now: datetime | None = None) -> Dashboard:
    sites = sorted(visible_sites(store, grant), key=lambda s: s.name)
    ids = [s.id for s in sites]
    names = {s.id: s.name for s in sites}
    with store.sessions() as session:
        statuses = q.open_counts_by_status(session, ids)
        vulnerabilities = q.open_counts_by_vulnerability(session, ids)
        scores = q.max_scores(session, sorted({r for r, _, _, _ in vulnerabilities}))
        kev = q.kev_cves(session, sorted({c.upper() for _, _, c, _ in vulnerabilities if c}))
        per_advisory = q.open_counts_by_advisory(session, ids)
        pending = {site_id: q.pending_reviews(session, site_id) for site_id in ids}
        top = sorted(per_advisory.items(), key=lambda item: (-item[1], item[0]))[:10]
        tracking = q.advisory_titles(session, [a for a, _ in top])
        candidates = q.oldest_open_actions(session, ids, OVERDUE_CANDIDATES)
    by_status: dict[str, int] = {}
    by_site: dict[int, dict[str, Any]] = {
        s.id: {"id": s.id, "name": s.name, "statuses": {}, "total": 0, "pending": pending[s.id]} for s in sites
    }
    for site_id, status, count in statuses:
        by_status[status] = by_status.get(status, 0) + count
        by_site[site_id]["statuses"][status] = count
        by_site[site_id]["total"] += count
    by_severity = dict.fromkeys(SEVERITY_BANDS, 0)
    kev_findings = 0
    for revision_id, _, cve, count in vulnerabilities:
        score = scores.get((revision_id, cve.upper())) if cve else None
        by_severity[band(score)] += count
        if cve and cve.upper() in kev:
            kev_findings += count
    return Dashboard(
        sites=sites,
        by_status=by_status,
        by_site=list(by_site.values()),
        by_severity=by_severity,
        kev_findings=kev_findings,
        top_advisories=[
            {"tracking_id": tracking[a][0], "title": tracking[a][1], "open": n} for a, n in top if a in tracking
        ],
        newest_advisories=list_advisories(store, limit=8),
        overdue_actions=_overdue(store, candidates, names, now or datetime.now(UTC)),
        review_pending=sum(pending.values()),
    )


def _overdue(store: Store, candidates: list[Any], names: dict[int, str], now: datetime) -> list[dict[str, Any]]:
    """The candidates answering an overdue finding of their device (by advisory and vulnerability), with the
    earliest due date; priorities are computed for those few devices only."""
    due: dict[tuple[int, str], list[PriorityRow]] = {}
    for item, _, _ in candidates:
        key = (item.site_id, item.asset_id)
        if key not in due:
            query = PriorityQuery(site=names[item.site_id], asset_id=item.asset_id, overdue=True)
            due[key] = list_priorities(store, query, now=now)
    found = []
    for item, site, tracking_id in candidates:
        dates = [
            row.due_date
            for row in due[(item.site_id, item.asset_id)]
            if row.due_date is not None and row.advisory == tracking_id and row.vulnerability in item.vulnerability_keys
        ]
        if dates:
            found.append(
                {
                    **_action_dict(item, site, tracking_id),
                    "due_date": min(dates).isoformat(),
                    "days_overdue": (now.date() - min(dates)).days,
                }
            )
    return found


# --- advisories ----------------------------------------------------------------------------------------------


def advisory_site_counts(store: Store, grant: frozenset[int] | None, tracking_id: str) -> list[dict[str, Any]]:
    """Per visible site: open findings of the advisory per response status."""
    sites = visible_sites(store, grant)
    with store.sessions() as session:
        advisory_ids = [row[0].id for row in find_advisories(session, tracking_id)]
        rows = q.advisory_counts_by_site(session, [s.id for s in sites], advisory_ids) if advisory_ids else []
    by_site: dict[int, dict[str, Any]] = {}
    for site_id, name, status, count in rows:
        entry = by_site.setdefault(site_id, {"id": site_id, "name": name, "statuses": {}, "total": 0})
        entry["statuses"][status] = count
        entry["total"] += count
    return list(by_site.values())


# --- devices -------------------------------------------------------------------------------------------------


def device_history(store: Store, site_id: int, asset_id: str, limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
    """The newest history entries of the device's findings."""
    with store.sessions() as session:
        rows = q.device_events(session, site_id, asset_id, limit)
    return [
        {
            "at": iso_utc(event.at),
            "finding_id": event.finding_id,
            "advisory_id": tracking_id,
            "cve": cve,
            "kind": event.kind,
            "actor": event.actor,
            "detail": event.detail,
        }
        for event, tracking_id, cve in rows
    ]


def device_priorities(store: Store, site: SiteRef, asset_id: str, now: datetime | None = None) -> list[PriorityRow]:
    """The device's open findings, prioritised (one device: a handful of findings)."""
    return list_priorities(store, PriorityQuery(site=site.name, asset_id=asset_id), now=now)


# --- actions -------------------------------------------------------------------------------------------------


def _action_dict(item: t.ActionItem, site: str, tracking_id: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "site_id": item.site_id,
        "site": site,
        "asset_id": item.asset_id,
        "advisory_id": tracking_id,
        "category": item.category,
        "details": item.details,
        "url": item.url,
        "vulnerabilities": list(item.vulnerability_keys),
        "state": item.state,
        "assignee": item.assignee,
        "completed_by": item.completed_by,
        "completed_at": iso_utc(item.completed_at) if item.completed_at else None,
        "evidence": item.evidence,
        "void_reason": item.void_reason,
        "created_at": iso_utc(item.created_at),
    }


def actions_page(store: Store, site: SiteRef, states: Sequence[str], advisory: str | None, cursor: str | None) -> Page:
    """A page of the site's action items as stored (the actions service syncs them)."""
    after = int(cursor) if cursor and cursor.isdigit() and len(cursor) < 20 else None
    with store.sessions() as session:
        advisory_ids = [row[0].id for row in find_advisories(session, advisory)] if advisory else None
        rows = q.actions_page(session, site.id, states, advisory_ids, after, PAGE_SIZE + 1)
    items = [_action_dict(item, site.name, tracking_id) for item, tracking_id in rows[:PAGE_SIZE]]
    return Page(items, str(items[-1]["id"]) if len(rows) > PAGE_SIZE else None)


def action_detail(store: Store, site: SiteRef, item_id: int) -> dict[str, Any]:
    with store.sessions() as session:
        row = q.action_item(session, site.id, item_id)
    if row is None:
        raise NotVisible(f"no action {item_id}")
    return _action_dict(row[0], site.name, row[1])
