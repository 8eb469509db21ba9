"""Use case: which open findings to act on first, and by when — SSVC's deployer decision per finding, each
decision point with its value and source, the advisory's CVSS, EPSS and KEV, and a due date from the policy.

Reads a site's findings in one streamed query and everything the advisories say in a few batched ones (by
revision and by CVE), so a site with 100,000 open findings costs a handful of queries, not one per finding.
Same rows for the CLI, the API and reports."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from vigil.outputs.timestamps import iso_utc
from vigil.response.cvss_scores import CvssScore
from vigil.response.decision_points import (
    AssetFacts,
    KevFact,
    automatable_point,
    exploitation_point,
    exposure_point,
    impact_points,
)
from vigil.response.policy import Policy, load_policy
from vigil.response.ssvc import OUTCOMES, POINT_NAMES, DecisionPoint, deployer_outcome
from vigil.response.states import OPEN_STATUSES, RISK_ACCEPTED, UNDER_INVESTIGATION
from vigil.services.gc_pause import no_cyclic_gc
from vigil.services.priority_evidence import AdvisoryEvidence, read_evidence
from vigil.services.store import Store
from vigil.store.advisory_queries import find_advisories
from vigil.store.inventory import all_sites, site_ids
from vigil.store.priority_queries import FindingScope, kev_imported, open_findings
from vigil.store.reference_scores import epss_scores, kev_entries

__all__ = [
    "CSV_COLUMNS",
    "CvssSummary",
    "DecisionPoint",
    "PriorityQuery",
    "PriorityQueryError",
    "PriorityRow",
    "csv_row",
    "list_priorities",
]

OVERDUE_STATUSES = OPEN_STATUSES - {RISK_ACCEPTED}
"""A risk acceptance is the answer to a due date until it expires; every other open status can be overdue."""


class PriorityQueryError(LookupError):
    """An unknown site or advisory, or an unknown outcome; the message names it."""


@dataclass(frozen=True)
class PriorityQuery:
    """Which findings to prioritise (None: any)."""

    site: str | None = None
    """Site name."""
    advisory: str | None = None
    """The document's /document/tracking/id."""
    cve: str | None = None
    """One CVE id."""
    asset_id: str | None = None
    """One asset id."""
    include_resolved: bool = False
    """Findings whose response status is not open (not_affected, fixed) too."""
    outcome: str | None = None
    """Only this SSVC outcome (defer, scheduled, out_of_cycle, immediate)."""
    overdue: bool = False
    """Only findings past their due date."""


@dataclass(frozen=True)
class CvssSummary:
    """The CVSS score that stands for the finding (response/cvss_scores.py says which)."""

    version: str
    """2.0, 3.0, 3.1 or 4.0."""
    vector: str
    """The vector string."""
    base_score: float
    """Base score computed from the vector with the `cvss` library."""
    severity: str | None
    """None, Low, Medium, High or Critical."""

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "vector": self.vector,
            "base_score": self.base_score,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class PriorityRow:
    """One open finding, prioritised and explained."""

    finding_id: int
    """finding.id."""
    site: str
    """Site name."""
    asset_id: str
    """The device."""
    advisory: str
    """Tracking id of the advisory the finding comes from."""
    cve: str | None
    """The CVE, when the advisory gives one."""
    vulnerability: str
    """The vulnerability within the advisory: its CVE, else its first id, else `#ordinal`."""
    response_status: str
    """The site's status (response/states.py); a possible match pending review counts as under_investigation."""
    match: str
    """exact, probable or possible."""
    cvss: CvssSummary | None
    """The advisory's CVSS score for the device's products; None when it gives no readable vector."""
    epss: float | None
    """FIRST EPSS probability of the CVE, when an EPSS file was imported and scores it."""
    epss_percentile: float | None
    """Its percentile."""
    kev: bool
    """The CVE is in the imported CISA KEV catalog."""
    points: tuple[DecisionPoint, ...]
    """Exploitation, System Exposure, Automatable, Safety Impact, Mission Impact, Human Impact: value and source."""
    outcome: str
    """SSVC deployer outcome: defer, scheduled, out_of_cycle or immediate."""
    due_date: date | None
    """Day the response is due: opened_at (UTC day) + the policy's days for the outcome; None when it sets none."""
    overdue: bool
    """Past due_date while the status is still open (risk_accepted aside)."""
    opened_at: datetime
    """When the finding was opened."""

    def point(self, name: str) -> DecisionPoint:
        return next(p for p in self.points if p.name == name)

    def as_json(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "site": self.site,
            "asset_id": self.asset_id,
            "advisory": self.advisory,
            "cve": self.cve,
            "vulnerability": self.vulnerability,
            "response_status": self.response_status,
            "match": self.match,
            "cvss": self.cvss.as_json() if self.cvss else None,
            "epss": self.epss,
            "epss_percentile": self.epss_percentile,
            "kev": self.kev,
            "points": [p.as_json() for p in self.points],
            "outcome": self.outcome,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "overdue": self.overdue,
            "opened_at": iso_utc(self.opened_at),
        }


def list_priorities(
    store: Store,
    query: PriorityQuery,
    now: datetime | None = None,
    policy: Policy | None = None,
    limit: int | None = None,
) -> list[PriorityRow]:
    """Open findings, most urgent first: by outcome, then CVSS base score, then EPSS (then due date, site,
    asset, advisory). `limit` cuts the sorted list."""
    if query.outcome is not None and query.outcome not in OUTCOMES:
        raise PriorityQueryError(f"unknown outcome {query.outcome!r}: expected one of {', '.join(OUTCOMES)}")
    now = now or datetime.now(UTC)
    policy = policy or load_policy()
    with store.sessions() as session:
        sites, advisory_ids = _resolve(session, query)
        findings = [
            (name, row)
            for site_id, name in sites
            for row in open_findings(
                session,
                FindingScope(
                    site_id,
                    advisory_ids,
                    query.cve,
                    query.asset_id,
                    None if query.include_resolved else sorted(OPEN_STATUSES),
                ),
            )
        ]
        cves = {row.cve.upper() for _, row in findings if row.cve}
        evidence = read_evidence(session, {row.revision_id for _, row in findings}, cves)
        kev = kev_entries(session, cves)
        epss = epss_scores(session, cves)
        kev_loaded = bool(kev) or kev_imported(session)
    with no_cyclic_gc():
        rows = _prioritise(findings, evidence, kev, epss, kev_loaded, policy, now)
    if query.outcome is not None:
        rows = [r for r in rows if r.outcome == query.outcome]
    if query.overdue:
        rows = [r for r in rows if r.overdue]
    rows.sort(key=_urgency)
    return rows[:limit] if limit is not None else rows


def _resolve(session: Session, query: PriorityQuery) -> tuple[list[tuple[int, str]], list[int] | None]:
    if query.site is not None:
        found = site_ids(session, [query.site], create=False)
        if not found:
            raise PriorityQueryError(f"no site named {query.site!r}")
        sites = [(found[query.site], query.site)]
    else:
        sites = all_sites(session)
    advisory_ids: list[int] | None = None
    if query.advisory is not None:
        advisory_ids = [row[0].id for row in find_advisories(session, query.advisory)]
        if not advisory_ids:
            raise PriorityQueryError(f"no advisory with tracking id {query.advisory!r}")
    return sites, advisory_ids


def _prioritise(
    findings: Iterable[tuple[str, Any]],
    evidence: AdvisoryEvidence,
    kev: dict[str, Any],
    epss: dict[str, Any],
    kev_loaded: bool,
    policy: Policy,
    now: datetime,
) -> list[PriorityRow]:
    decided: dict[tuple[Any, ...], tuple[tuple[DecisionPoint, ...], str, CvssScore | None]] = {}
    product_lists: dict[str | None, tuple[str, ...]] = {}
    today = now.astimezone(UTC).date()
    rows = []
    for site, f in findings:
        ordinal = evidence.ordinal(f.revision_id, f.vulnerability_key)
        ref = (f.revision_id, -1 if ordinal is None else ordinal)
        products = product_lists.get(f.product_ids)
        if products is None:
            products = product_lists[f.product_ids] = tuple(sorted(json.loads(f.product_ids or "[]")))
        cve = f.cve.upper() if f.cve else None
        asset = AssetFacts(f.network_zone, f.device_category, f.patient_connected, f.life_sustaining)
        # Devices of one model share everything: decide once per distinct input.
        key = (ref, products, cve, asset)
        if key not in decided:
            decided[key] = _decide(evidence, ref, products, cve, asset, kev, kev_loaded, policy)
        points, outcome, score = decided[key]
        status = UNDER_INVESTIGATION if f.match == "possible" and f.review == "pending" else f.response_status
        days = policy.due_days.get(outcome)
        due = f.opened_at.astimezone(UTC).date() + timedelta(days=days) if days is not None else None
        scored = epss.get(cve) if cve else None
        rows.append(
            PriorityRow(
                finding_id=f.id,
                site=site,
                asset_id=f.asset_id,
                advisory=f.tracking_id,
                cve=f.cve,
                vulnerability=f.vulnerability_key,
                response_status=status,
                match=f.match,
                cvss=CvssSummary(score.version, score.vector, score.base_score, score.severity) if score else None,
                epss=scored.epss if scored else None,
                epss_percentile=scored.percentile if scored else None,
                kev=cve in kev if cve else False,
                points=points,
                outcome=outcome,
                due_date=due,
                overdue=due is not None and today > due and status in OVERDUE_STATUSES,
                opened_at=f.opened_at,
            )
        )
    return rows


def _decide(
    evidence: AdvisoryEvidence,
    ref: tuple[int, int],
    products: tuple[str, ...],
    cve: str | None,
    asset: AssetFacts,
    kev: dict[str, Any],
    kev_loaded: bool,
    policy: Policy,
) -> tuple[tuple[DecisionPoint, ...], str, CvssScore | None]:
    score = evidence.score(ref, products)
    entry = kev.get(cve) if cve else None
    listed = KevFact(entry.source, entry.date_added) if entry is not None else None
    exploitation = exploitation_point(listed, kev_loaded, evidence.exploitation(ref, cve))
    exposure = exposure_point(asset, score, policy)
    automatable = automatable_point(score)
    safety, mission, human = impact_points(asset, score, evidence.harm(ref), policy)
    outcome = deployer_outcome(exploitation.value, exposure.value, automatable.value, human.value)
    return (exploitation, exposure, automatable, safety, mission, human), outcome, score


def _urgency(row: PriorityRow) -> tuple[Any, ...]:
    return (
        -OUTCOMES.index(row.outcome),
        -(row.cvss.base_score if row.cvss else -1.0),
        -(row.epss if row.epss is not None else -1.0),
        row.due_date or date.max,
        row.site,
        row.asset_id,
        row.advisory,
        row.vulnerability,
    )


def _snake(name: str) -> str:
    return name.lower().replace(" ", "_")


CSV_COLUMNS = (
    "finding_id",
    "site",
    "asset_id",
    "advisory",
    "cve",
    "vulnerability",
    "response_status",
    "match",
    "outcome",
    "due_date",
    "overdue",
    "cvss_version",
    "cvss_base_score",
    "cvss_severity",
    "cvss_vector",
    "epss",
    "epss_percentile",
    "kev",
    *(column for name in POINT_NAMES for column in (_snake(name), f"{_snake(name)}_source")),
)
"""Columns of `vigil priorities --format csv`: the JSON fields, flat, each decision point with its source."""


def csv_row(row: PriorityRow) -> list[Any]:
    """One row in CSV_COLUMNS order."""
    cvss = row.cvss
    values: list[Any] = [
        row.finding_id,
        row.site,
        row.asset_id,
        row.advisory,
        row.cve,
        row.vulnerability,
        row.response_status,
        row.match,
        row.outcome,
        row.due_date.isoformat() if row.due_date else None,
        "yes" if row.overdue else "no",
        cvss.version if cvss else None,
        cvss.base_score if cvss else None,
        cvss.severity if cvss else None,
        cvss.vector if cvss else None,
        row.epss,
        row.epss_percentile,
        "yes" if row.kev else "no",
    ]
    for name in POINT_NAMES:
        point = row.point(name)
        values += [point.value, point.source]
    return values
