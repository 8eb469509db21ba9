"""A report as CSV or XLSX, for people who filter and pivot: the same sections as the HTML, as tables.

CSV: one file, one block per section: a line holding only `[section name]`, the header row, the data rows,
then an empty line. (Chosen over one flat row per finding because a report's per-advisory and per-site
aggregates are not findings; `vigil findings --format csv` is the flat listing.) XLSX: one sheet per section.
Every cell goes through spreadsheet.neutralise: untrusted text never becomes a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from vigil.outputs.spreadsheet import neutralise
from vigil.outputs.timestamps import iso_utc

if TYPE_CHECKING:
    from vigil.services.reports import EvidenceEntry, Report

ADVISORY_COLUMNS = ("tracking_id", "title", "publisher", "tracking_version", "cves", "devices")
EVIDENCE_COLUMNS = (
    "finding_id",
    "asset_id",
    "tracking_id",
    "cve",
    "response_status",
    "response_source",
    "comment",
    "fco_number",
    "planned_date",
    "vendor_contact",
    "owner",
    "reason",
    "expires_at",
    "evidence",
    "stated_by",
    "stated_at",
)


@dataclass(frozen=True)
class Section:
    """One table of a report."""

    name: str
    """CSV block name and XLSX sheet title."""
    header: tuple[str, ...]
    """Column names (the model's field names)."""
    rows: tuple[tuple[Any, ...], ...]
    """Cells: str, int, date or None."""


def sections(report: Report) -> list[Section]:
    """The report's tables, in the order the HTML shows them."""
    status_columns = tuple(status for status, _ in report.advisories[0].by_status()) if report.advisories else ()
    return [
        Section(
            "report",
            ("field", "value"),
            (
                ("site", report.site),
                ("advisory", report.advisory),
                ("as_of", report.as_of),
                ("generated_at", iso_utc(report.generated_at)),
                ("expiring_within_days", report.expiring_within),
                ("devices", report.devices),
                ("policy", report.policy),
            ),
        ),
        Section(
            "totals",
            ("response_status", "findings", "devices"),
            tuple((total.response_status, total.findings, total.devices) for total in report.totals),
        ),
        Section(
            "advisories",
            (*ADVISORY_COLUMNS, *status_columns, "open_actions", "superseded"),
            tuple(
                (
                    row.tracking_id,
                    row.title,
                    row.publisher,
                    row.tracking_version,
                    " ".join(row.cves),
                    row.devices,
                    *(devices for _, devices in row.by_status()),
                    row.open_actions,
                    row.superseded,
                )
                for row in report.advisories
            ),
        ),
        Section(
            "overdue",
            ("finding_id", "asset_id", "tracking_id", "cve", "response_status", "outcome", "due_date", "days_overdue"),
            tuple(
                (
                    o.finding_id,
                    o.asset_id,
                    o.tracking_id,
                    o.cve,
                    o.response_status,
                    o.outcome,
                    o.due_date,
                    o.days_overdue,
                )
                for o in report.overdue
            ),
        ),
        Section(
            "overdue_actions",
            ("action_id", "asset_id", "tracking_id", "category", "details", "assignee", "due_date", "days_overdue"),
            tuple(
                (a.action_id, a.asset_id, a.tracking_id, a.category, a.details, a.assignee, a.due_date, a.days_overdue)
                for a in report.overdue_actions
            ),
        ),
        Section(
            "expiring_risk_acceptances",
            ("finding_id", "asset_id", "tracking_id", "cve", "owner", "reason", "expires_at", "days_left"),
            tuple(
                (r.finding_id, r.asset_id, r.tracking_id, r.cve, r.owner, r.reason, iso_utc(r.expires_at), r.days_left)
                for r in report.expiring
            ),
        ),
        Section("evidence", EVIDENCE_COLUMNS, tuple(_evidence_row(entry) for entry in report.evidence)),
    ]


def _evidence_row(entry: EvidenceEntry) -> tuple[Any, ...]:
    items = " | ".join(
        f"{item.kind}: {item.value}" + (f" (sha256 {item.sha256})" if item.sha256 else "") for item in entry.items
    )
    return (
        entry.finding_id,
        entry.asset_id,
        entry.tracking_id,
        entry.cve,
        entry.response_status,
        entry.response_source,
        entry.comment,
        entry.fco_number,
        entry.planned_date,
        entry.vendor_contact,
        entry.owner,
        entry.reason,
        entry.expires_at,
        items or None,
        entry.stated_by,
        entry.stated_at,
    )


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def render_csv(report: Report) -> str:
    """All sections in one CSV text (blocks separated by an empty line)."""
    handle = io.StringIO()
    writer = csv.writer(handle)
    for number, section in enumerate(sections(report)):
        if number:
            writer.writerow([])
        writer.writerow([f"[{section.name}]"])
        writer.writerow(section.header)
        writer.writerows([_csv_cell(value) for value in row] for row in section.rows)
    return handle.getvalue()


def render_xlsx(report: Report) -> bytes:
    """One sheet per section, header row frozen, columns sized to their content (within reason)."""
    workbook = Workbook(write_only=True)
    for section in sections(report):
        sheet = workbook.create_sheet(section.name[:31])
        sheet.freeze_panes = "A2"
        for index, width in enumerate(_widths(section), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.append(list(section.header))
        for row in section.rows:
            # openpyxl writes any string starting with "=" as a formula; neutralise() prevents that too.
            sheet.append([neutralise(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _widths(section: Section) -> Sequence[int]:
    widths = [len(name) for name in section.header]
    for row in section.rows[:200]:  # a sample is enough to size columns
        for index, value in enumerate(row):
            widths[index] = max(widths[index], len(str(value)) if value is not None else 0)
    return [min(max(width, 6) + 2, 60) for width in widths]
