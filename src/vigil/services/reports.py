"""Use case: a site's response report (per-site totals, per-advisory rows, overdue items, risk acceptances
near expiry, evidence) as one frozen model, rendered as HTML, PDF, CSV or XLSX; each generation is audited.

The model is built from one database snapshot and an explicit reference time (`as_of`), so the same database
and the same `--as-of` date give the same report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from vigil.outputs.timestamps import iso_utc
from vigil.response.policy import Policy, load_policy
from vigil.response.states import (
    AFFECTED,
    FIXED,
    MITIGATED,
    NOT_AFFECTED,
    REMEDIATION_SCHEDULED,
    RESPONSE_STATUSES,
    RISK_ACCEPTED,
    UNDER_INVESTIGATION,
)
from vigil.services.actions import sync_actions
from vigil.services.priorities import PriorityQuery, PriorityQueryError, PriorityRow, list_priorities
from vigil.services.store import Store
from vigil.store import report_queries as q
from vigil.store.advisory_queries import find_advisories
from vigil.store.audit import append
from vigil.store.db import transaction
from vigil.store.inventory import site_ids

REPORT_FORMATS = ("html", "pdf", "csv", "xlsx")
"""What `vigil report --format` accepts."""
DEFAULT_EXPIRING_WITHIN = 30
"""Days ahead a risk acceptance counts as near expiry."""


class ReportError(LookupError):
    """An unknown site or advisory, or a bad parameter; the message names it."""


@dataclass(frozen=True)
class ReportQuery:
    """What to report on, as people type it."""

    site: str
    """Site name."""
    advisory: str | None = None
    """Only this advisory (its /document/tracking/id); None: every advisory with findings at the site."""
    expiring_within: int = DEFAULT_EXPIRING_WITHIN
    """Risk acceptances ending within this many days of `as_of` are listed."""
    as_of: date | None = None
    """Reference date (00:00 UTC) for overdue and expiry; None: now. Also the report's timestamp, so a given
    database and date always give the same report."""


@dataclass(frozen=True)
class StatusTotal:
    """A site's reported findings in one response status."""

    response_status: str
    """One of RESPONSE_STATUSES."""
    findings: int
    """Findings (device x advisory x vulnerability)."""
    devices: int
    """Distinct devices with at least one finding in this status."""


@dataclass(frozen=True)
class AdvisoryRow:
    """One advisory at the site: how many devices are in which response status."""

    tracking_id: str
    """/document/tracking/id."""
    title: str
    """/document/title of the current revision (untrusted text)."""
    publisher: str
    """/document/publisher/name."""
    tracking_version: str
    """/document/tracking/version of the current revision."""
    cves: tuple[str, ...]
    """CVEs of the advisory that concern the site's devices."""
    devices: int
    """Distinct devices with a reported finding of this advisory."""
    affected: int
    """Devices with a finding in `affected`."""
    mitigated: int
    """Devices with a finding in `mitigated`."""
    remediation_scheduled: int
    """Devices with a finding in `remediation_scheduled`."""
    fixed: int
    """Devices with a finding in `fixed`."""
    risk_accepted: int
    """Devices with a finding in `risk_accepted`."""
    not_affected: int
    """Devices with a finding in `not_affected`."""
    under_investigation: int
    """Devices with a finding in `under_investigation`."""
    open_actions: int
    """Open action items of the advisory at the site."""
    superseded: int
    """Devices whose findings of this advisory a vendor's own advisory prevails over (not counted above)."""

    def by_status(self) -> tuple[tuple[str, int], ...]:
        """(response status, devices) in ADVISORY_STATUS_COLUMNS order: the columns every format shows."""
        return tuple((status, getattr(self, status)) for status in ADVISORY_STATUS_COLUMNS)


ADVISORY_STATUS_COLUMNS = (
    AFFECTED,
    MITIGATED,
    REMEDIATION_SCHEDULED,
    FIXED,
    RISK_ACCEPTED,
    NOT_AFFECTED,
    UNDER_INVESTIGATION,
)
"""The per-status device columns of AdvisoryRow, in the order reports show them (most urgent first)."""


@dataclass(frozen=True)
class OverdueItem:
    """An open finding past the due date prioritisation gave it."""

    finding_id: int
    """finding.id."""
    asset_id: str
    """The device."""
    tracking_id: str
    """The advisory."""
    cve: str | None
    """The vulnerability's CVE."""
    response_status: str
    """Its current response status."""
    outcome: str
    """The prioritisation outcome (SSVC decision) that set the due date."""
    due_date: date
    """When it was due."""
    days_overdue: int
    """Whole days between the due date and `as_of`."""


@dataclass(frozen=True)
class OverdueAction:
    """An open action item whose finding is overdue."""

    action_id: int
    """action_item.id."""
    asset_id: str
    """The device."""
    tracking_id: str
    """The advisory."""
    category: str
    """CSAF remediation category."""
    details: str
    """The advisory's remediation text (untrusted)."""
    assignee: str | None
    """Who carries it out."""
    due_date: date
    """The earliest due date of the overdue findings it answers."""
    days_overdue: int
    """Whole days between that date and `as_of`."""


@dataclass(frozen=True)
class RiskAcceptance:
    """A risk acceptance ending within the report's window (or already lapsed, not yet reopened)."""

    finding_id: int
    """finding.id."""
    asset_id: str
    """The device."""
    tracking_id: str
    """The advisory."""
    cve: str | None
    """The vulnerability's CVE."""
    owner: str
    """Who accepted the risk."""
    reason: str
    """Why."""
    expires_at: datetime
    """When the acceptance ends."""
    days_left: int
    """Whole days from `as_of` to the expiry; negative once lapsed."""


@dataclass(frozen=True)
class EvidenceItem:
    """One piece of evidence behind a status (response/states.py Evidence)."""

    kind: str
    """text, file or verification."""
    value: str
    """The text, the file's path or URL, or the verification result's id (untrusted)."""
    sha256: str | None
    """Digest of the referenced file, when it was readable."""


@dataclass(frozen=True)
class EvidenceEntry:
    """What a mitigated, remediation_scheduled, fixed or risk_accepted finding rests on."""

    finding_id: int
    """finding.id."""
    asset_id: str
    """The device."""
    tracking_id: str
    """The advisory."""
    cve: str | None
    """The vulnerability's CVE."""
    response_status: str
    """mitigated, remediation_scheduled, fixed or risk_accepted."""
    response_source: str
    """Who set it: device (a person), decision (a decide-once rule), action, matcher, expiry or initial."""
    comment: str | None
    """Why, in the actor's words."""
    fco_number: str | None
    """Field change order of a scheduled remediation."""
    planned_date: str | None
    """Service visit date of a scheduled remediation (ISO date)."""
    vendor_contact: str | None
    """Who at the manufacturer schedules it."""
    owner: str | None
    """Who accepted the risk."""
    reason: str | None
    """Why the risk is accepted."""
    expires_at: str | None
    """End of a risk acceptance (ISO timestamp)."""
    items: tuple[EvidenceItem, ...]
    """Evidence given with the status."""
    stated_by: str | None
    """Who set the status (a person's name, a rule's, or `vigil` for automatic changes)."""
    stated_at: str | None
    """When (ISO timestamp)."""


@dataclass(frozen=True)
class Report:
    """Everything a report shows, in the order it shows it."""

    site: str
    """Site name."""
    advisory: str | None
    """The advisory filter, when the report is about one advisory."""
    generated_at: datetime
    """The report's reference time: `as_of` at 00:00 UTC, or the time it was built."""
    expiring_within: int
    """Window of the risk acceptance list, in days."""
    devices: int
    """Distinct devices with at least one reported finding."""
    totals: tuple[StatusTotal, ...]
    """One per response status, in life-cycle order (zeros included)."""
    advisories: tuple[AdvisoryRow, ...]
    """One per advisory with reported findings (or the one asked for), by tracking id."""
    overdue: tuple[OverdueItem, ...]
    """Overdue findings, most overdue first."""
    overdue_actions: tuple[OverdueAction, ...]
    """Open action items whose findings are overdue, most overdue first."""
    expiring: tuple[RiskAcceptance, ...]
    """Risk acceptances ending within the window, soonest first."""
    evidence: tuple[EvidenceEntry, ...]
    """Evidence of every mitigated, remediation_scheduled, fixed and risk_accepted finding."""
    policy: str
    """The prioritisation policy the due dates come from (`built-in policy` or `policy FILE`)."""

    @property
    def as_of(self) -> date:
        return self.generated_at.date()


@dataclass(frozen=True)
class _Scope:
    site_id: int
    advisory_ids: list[int] | None


def _scope(store: Store, query: ReportQuery) -> _Scope:
    if query.expiring_within < 0:
        raise ReportError(f"--expiring-within must be zero or more days, not {query.expiring_within}")
    with store.sessions() as session:
        found = site_ids(session, [query.site], create=False)
        if not found:
            raise ReportError(f"no site named {query.site!r}")
        advisory_ids: list[int] | None = None
        if query.advisory is not None:
            advisory_ids = [row[0].id for row in find_advisories(session, query.advisory)]
            if not advisory_ids:
                raise ReportError(f"no advisory with tracking id {query.advisory!r}")
    return _Scope(found[query.site], advisory_ids)


def reference_time(as_of: date | None, now: datetime | None = None) -> datetime:
    """`as_of` at 00:00 UTC, else `now` (default: the current time)."""
    if as_of is not None:
        return datetime.combine(as_of, time(), tzinfo=UTC)
    return now if now is not None else datetime.now(UTC)


def build_report(store: Store, query: ReportQuery, now: datetime | None = None, policy: Policy | None = None) -> Report:
    """The report model; ReportError for an unknown site or advisory. `policy` sets the due dates (default: the
    built-in policy, or the file VIGIL_POLICY names)."""
    scope = _scope(store, query)
    policy = policy or load_policy()
    wall_clock = now if now is not None else datetime.now(UTC)
    at = reference_time(query.as_of, wall_clock)
    until = at + timedelta(days=query.expiring_within)
    # Action items follow findings lazily (services/actions.py): bring them up to date, as every reader does.
    with transaction(store.sessions) as session:
        sync_actions(session, scope.site_id, wall_clock, scope.advisory_ids)
    overdue = _overdue_findings(store, query, at, policy)
    with store.sessions() as session:
        q.begin_snapshot(session)
        site_counts = q.site_status_counts(session, scope.site_id, scope.advisory_ids)
        devices = q.site_device_total(session, scope.site_id, scope.advisory_ids)
        rows = _advisory_rows(session, scope)
        expiring = q.expiring_risk_acceptances(session, scope.site_id, until, scope.advisory_ids)
        stated = q.stated_findings(session, scope.site_id, scope.advisory_ids)
        actions = q.open_actions(session, scope.site_id, sorted({row.advisory for row in overdue}))
    by_status = {count.response_status: count for count in site_counts}
    totals = tuple(_total(status, by_status.get(status)) for status in RESPONSE_STATUSES)
    return Report(
        site=query.site,
        advisory=query.advisory,
        generated_at=at,
        expiring_within=query.expiring_within,
        devices=devices,
        totals=totals,
        advisories=rows,
        overdue=tuple(sorted((_overdue_item(row, at) for row in overdue), key=_most_overdue_first)),
        overdue_actions=tuple(sorted(_overdue_actions(actions, overdue, at), key=_most_overdue_first)),
        expiring=tuple(_acceptance(row, at) for row in expiring),
        evidence=tuple(_evidence(row) for row in stated),
        policy=policy.source,
    )


def _most_overdue_first(item: OverdueItem | OverdueAction) -> tuple[int, str, str]:
    return (-item.days_overdue, item.asset_id, item.tracking_id)


def _total(status: str, count: q.SiteStatusCount | None) -> StatusTotal:
    return StatusTotal(status, count.findings, count.devices) if count else StatusTotal(status, 0, 0)


def _advisory_rows(session: Session, scope: _Scope) -> tuple[AdvisoryRow, ...]:
    counts: dict[int, dict[str, int]] = {}
    for count in q.advisory_status_counts(session, scope.site_id, scope.advisory_ids):
        counts.setdefault(count.advisory_id, {})[count.response_status] = count.devices
    totals = q.advisory_device_totals(session, scope.site_id, scope.advisory_ids)
    actions = q.open_action_counts(session, scope.site_id, scope.advisory_ids)
    cves = q.advisory_cves(session, scope.site_id, scope.advisory_ids)
    superseded = q.superseded_device_counts(session, scope.site_id, scope.advisory_ids)
    wanted = sorted(set(counts) | set(actions) | set(superseded) | set(scope.advisory_ids or ()))
    headers = q.advisory_headers(session, wanted)
    rows = []
    for advisory_id in wanted:
        header = headers.get(advisory_id)
        if header is None:  # an advisory without a current revision has nothing to show
            continue
        per_status = counts.get(advisory_id, {})
        rows.append(
            AdvisoryRow(
                tracking_id=header.tracking_id,
                title=header.title,
                publisher=header.publisher,
                tracking_version=header.tracking_version,
                cves=tuple(cves.get(advisory_id, ())),
                devices=totals.get(advisory_id, 0),
                affected=per_status.get(AFFECTED, 0),
                mitigated=per_status.get(MITIGATED, 0),
                remediation_scheduled=per_status.get(REMEDIATION_SCHEDULED, 0),
                fixed=per_status.get(FIXED, 0),
                risk_accepted=per_status.get(RISK_ACCEPTED, 0),
                not_affected=per_status.get(NOT_AFFECTED, 0),
                under_investigation=per_status.get(UNDER_INVESTIGATION, 0),
                open_actions=actions.get(advisory_id, 0),
                superseded=superseded.get(advisory_id, 0),
            )
        )
    return tuple(sorted(rows, key=lambda row: (row.tracking_id, row.publisher)))


def _whole_days(later: datetime, earlier: datetime) -> int:
    return (later.date() - earlier.date()).days


def _acceptance(row: q.StatedFinding, at: datetime) -> RiskAcceptance:
    detail = row.response_detail
    expires = row.risk_expires_at
    assert expires is not None  # the query selects acceptances with an expiry
    return RiskAcceptance(
        finding_id=row.finding_id,
        asset_id=row.asset_id,
        tracking_id=row.tracking_id,
        cve=row.cve,
        owner=str(detail.get("owner") or ""),
        reason=str(detail.get("reason") or ""),
        expires_at=expires,
        days_left=_whole_days(expires, at),
    )


def _text(detail: dict[str, Any], key: str) -> str | None:
    value = detail.get(key)
    return None if value is None or value == "" else str(value)


def _timestamp(detail: dict[str, Any], key: str) -> str | None:
    """An ISO timestamp of the detail JSON in vigil's UTC `Z` form; other text as it is."""
    value = _text(detail, key)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return iso_utc(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def _evidence(row: q.StatedFinding) -> EvidenceEntry:
    detail = row.response_detail
    items = tuple(
        EvidenceItem(str(item.get("kind", "")), str(item.get("value", "")), _text(item, "sha256"))
        for item in detail.get("evidence") or ()
        if isinstance(item, dict)
    )
    return EvidenceEntry(
        finding_id=row.finding_id,
        asset_id=row.asset_id,
        tracking_id=row.tracking_id,
        cve=row.cve,
        response_status=row.response_status,
        response_source=row.response_source,
        comment=_text(detail, "comment"),
        fco_number=_text(detail, "fco_number"),
        planned_date=_text(detail, "planned_date"),
        vendor_contact=_text(detail, "vendor_contact"),
        owner=_text(detail, "owner"),
        reason=_text(detail, "reason"),
        expires_at=_timestamp(detail, "expires_at"),
        items=items,
        stated_by=_text(detail, "actor"),
        stated_at=_timestamp(detail, "at"),
    )


def _overdue_findings(store: Store, query: ReportQuery, at: datetime, policy: Policy) -> tuple[PriorityRow, ...]:
    """Prioritisation's overdue findings (its own read: it streams the site's open findings)."""
    wanted = PriorityQuery(site=query.site, advisory=query.advisory, overdue=True)
    try:
        return tuple(row for row in list_priorities(store, wanted, now=at, policy=policy) if row.due_date)
    except PriorityQueryError as error:  # the site or advisory vanished since _scope looked
        raise ReportError(str(error)) from None


def _overdue_item(row: PriorityRow, at: datetime) -> OverdueItem:
    assert row.due_date is not None  # _overdue_findings keeps rows with a due date
    return OverdueItem(
        finding_id=row.finding_id,
        asset_id=row.asset_id,
        tracking_id=row.advisory,
        cve=row.cve,
        response_status=row.response_status,
        outcome=row.outcome,
        due_date=row.due_date,
        days_overdue=(at.date() - row.due_date).days,
    )


def _overdue_actions(
    actions: list[q.OpenAction], overdue: tuple[PriorityRow, ...], at: datetime
) -> list[OverdueAction]:
    """Open action items answering an overdue finding of their device (by vulnerability: CVE, else key), each
    due when the earliest of those findings was."""
    due: dict[tuple[str, str, str], date] = {}
    for row in overdue:
        assert row.due_date is not None
        key = (row.asset_id, row.advisory, row.vulnerability)
        due[key] = min(row.due_date, due.get(key, row.due_date))
    found = []
    for action in actions:
        dates = [
            due[key]
            for vulnerability in action.vulnerability_keys
            if (key := (action.asset_id, action.tracking_id, vulnerability)) in due
        ]
        if dates:
            found.append(
                OverdueAction(
                    action_id=action.action_id,
                    asset_id=action.asset_id,
                    tracking_id=action.tracking_id,
                    category=action.category,
                    details=action.details,
                    assignee=action.assignee,
                    due_date=min(dates),
                    days_overdue=(at.date() - min(dates)).days,
                )
            )
    return found


Renderer = Callable[[Report], bytes]


def _renderer(fmt: str) -> Renderer:
    # Imported on use: WeasyPrint loads pango when imported, which CSV users should not need.
    if fmt == "html":
        from vigil.outputs.report_html import render_html

        return lambda report: render_html(report).encode("utf-8")
    if fmt == "pdf":
        from vigil.outputs.report_pdf import render_pdf

        return render_pdf
    if fmt == "csv":
        from vigil.outputs.report_tabular import render_csv

        return lambda report: render_csv(report).encode("utf-8")
    if fmt == "xlsx":
        from vigil.outputs.report_tabular import render_xlsx

        return render_xlsx
    raise ReportError(f"unknown report format {fmt!r}: expected one of {', '.join(REPORT_FORMATS)}")


def generate_report(
    store: Store,
    query: ReportQuery,
    fmt: str,
    actor: str,
    now: datetime | None = None,
    policy: Policy | None = None,
) -> tuple[Report, bytes]:
    """Build and render a report, and record its generation in the site's audit chain (`report.generate`)."""
    render = _renderer(fmt)
    wall_clock = now if now is not None else datetime.now(UTC)
    report = build_report(store, query, wall_clock, policy)
    content = render(report)
    detail = _audit_detail(report, fmt, query)
    with transaction(store.sessions) as session:
        site_id = site_ids(session, [report.site], create=False)[report.site]
        subject = f"{fmt} report" + (f" of {report.advisory}" if report.advisory else "")
        append(session, site_id, actor, "report.generate", subject, detail, wall_clock)
    return report, content


def _audit_detail(report: Report, fmt: str, query: ReportQuery) -> dict[str, Any]:
    return {
        "format": fmt,
        "advisory": report.advisory,
        "as_of": query.as_of.isoformat() if query.as_of else None,
        "expiring_within": report.expiring_within,
        "devices": report.devices,
        "advisories": len(report.advisories),
        "totals": {total.response_status: total.findings for total in report.totals},
        "overdue": len(report.overdue),
        "expiring": len(report.expiring),
        "evidence": len(report.evidence),
        "policy": report.policy,
    }
