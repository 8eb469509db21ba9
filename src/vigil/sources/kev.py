"""CISA's Known Exploited Vulnerabilities catalog, as CISA publishes it: the JSON feed
(`known_exploited_vulnerabilities.json`: `catalogVersion`, `dateReleased`, `vulnerabilities[]`) or its CSV
export (`known_exploited_vulnerabilities.csv`: one row per CVE, no catalog version). Either may be gzip-compressed.

Field names are CISA's (cveID, vendorProject, product, vulnerabilityName, dateAdded, dueDate,
knownRansomwareCampaignUse). A row without a valid cveID, or with a date that is not YYYY-MM-DD, is rejected
alone; a file that is not a catalog at all (bad JSON, no `vulnerabilities` list, no cveID column) is refused.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from vigil.sources.reference_files import (
    ReferenceFileError,
    RejectedRow,
    check_cve,
    decode_text,
    is_iso_date,
    read_bytes,
)

CVE_FIELD = "cveID"
_TEXT_FIELDS = {
    "vendorProject": "vendor_project",
    "product": "product",
    "vulnerabilityName": "vulnerability_name",
    "knownRansomwareCampaignUse": "known_ransomware",
}
_DATE_FIELDS = {"dateAdded": "date_added", "dueDate": "due_date"}
_RANSOMWARE_WIDTH = 20  # kev_entry.known_ransomware; CISA writes "Known" or "Unknown"


@dataclass(frozen=True)
class KevRecord:
    """One catalog entry, in vigil's column names."""

    cve: str
    """The CVE id, upper case."""
    vendor_project: str | None
    """CISA's vendorProject."""
    product: str | None
    """CISA's product."""
    vulnerability_name: str | None
    """CISA's vulnerabilityName."""
    date_added: str | None
    """dateAdded (YYYY-MM-DD): when CISA listed it, i.e. since when exploitation is known."""
    due_date: str | None
    """dueDate (YYYY-MM-DD): the remediation deadline BOD 22-01 sets for US federal agencies."""
    known_ransomware: str | None
    """knownRansomwareCampaignUse: Known or Unknown."""


@dataclass(frozen=True)
class KevCatalog:
    """What a KEV file held: its entries, the rows refused, and the catalog's own version when it states one."""

    format: str
    """json or csv."""
    version: str | None
    """catalogVersion (JSON only), e.g. 2026.11.20."""
    released: str | None
    """dateReleased (JSON only)."""
    entries: tuple[KevRecord, ...]
    """Every valid entry, one per CVE."""
    rejected: tuple[RejectedRow, ...]
    """Every refused row, in file order."""

    @property
    def label(self) -> str:
        """How points cite it: `CISA KEV 2026.11.20`, or `CISA KEV (CSV export)` when the file states no version."""
        return f"CISA KEV {self.version}" if self.version else f"CISA KEV ({self.format.upper()} export)"


def read_kev(path: Path) -> KevCatalog:
    """Parse a KEV file (JSON or CSV, by content; gzip allowed). Raises ReferenceFileError for an unreadable file."""
    text = decode_text(read_bytes(path))
    if text.lstrip().startswith(("{", "[")):
        return _from_json(text)
    return _from_csv(text)


def _from_json(text: str) -> KevCatalog:
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise ReferenceFileError(f"not valid JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("vulnerabilities"), list):
        raise ReferenceFileError("not a KEV catalog: no `vulnerabilities` list at the top level")
    version = document.get("catalogVersion")
    released = document.get("dateReleased")
    entries, rejected = _records(enumerate(document["vulnerabilities"], start=1))
    return KevCatalog(
        "json",
        str(version) if version is not None else None,
        str(released) if released is not None else None,
        entries,
        rejected,
    )


def _from_csv(text: str) -> KevCatalog:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as error:
        raise ReferenceFileError(f"not readable as CSV: {error}") from None
    if CVE_FIELD not in header:
        raise ReferenceFileError(f"no {CVE_FIELD} column (header: {', '.join(header)[:200] or 'empty'})")
    try:
        # Row numbers as a spreadsheet shows them: the header is row 1.
        entries, rejected = _records(enumerate(reader, start=2))
    except csv.Error as error:
        raise ReferenceFileError(f"not readable as CSV near line {reader.line_num}: {error}") from None
    return KevCatalog("csv", None, None, entries, rejected)


def _records(rows: Iterable[tuple[int, Any]]) -> tuple[tuple[KevRecord, ...], tuple[RejectedRow, ...]]:
    entries: dict[str, KevRecord] = {}
    first_row: dict[str, int] = {}
    rejected: list[RejectedRow] = []
    for number, row in rows:
        record = _record(number, row)
        if isinstance(record, RejectedRow):
            rejected.append(record)
        elif record.cve in entries:
            reason = f"{record.cve} already given in row {first_row[record.cve]}"
            rejected.append(RejectedRow(number, CVE_FIELD, reason))
        else:
            entries[record.cve] = record
            first_row[record.cve] = number
    return tuple(entries.values()), tuple(rejected)


def _record(number: int, row: Any) -> KevRecord | RejectedRow:
    if not isinstance(row, Mapping):
        return RejectedRow(number, "entry", f"expected an object, got {type(row).__name__}")
    problem = check_cve(row.get(CVE_FIELD))
    if problem:
        return RejectedRow(number, CVE_FIELD, problem)
    values: dict[str, str | None] = {}
    for name, column in (_TEXT_FIELDS | _DATE_FIELDS).items():
        value = row.get(name)
        if value is not None and not isinstance(value, str):
            return RejectedRow(number, name, f"expected text, got {type(value).__name__}")
        values[column] = (value.strip() or None) if value is not None else None
    for name, column in _DATE_FIELDS.items():
        value = values[column]
        if value is not None and not is_iso_date(value):
            return RejectedRow(number, name, f"{value[:40]!r} is not a date (YYYY-MM-DD)")
    ransomware = values["known_ransomware"]
    return KevRecord(
        cve=str(row[CVE_FIELD]).strip().upper(),
        vendor_project=values["vendor_project"],
        product=values["product"],
        vulnerability_name=values["vulnerability_name"],
        date_added=values["date_added"],
        due_date=values["due_date"],
        known_ransomware=ransomware[:_RANSOMWARE_WIDTH] if ransomware else None,
    )
