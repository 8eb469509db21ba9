"""FIRST's EPSS scores as FIRST publishes them: `epss_scores-YYYY-MM-DD.csv.gz` (or uncompressed), a leading
comment line `#model_version:v2025.03.14,score_date:2026-11-20T12:55:00Z`, then `cve,epss,percentile`.

The comment line is optional (older files and hand-made extracts lack it). A row whose CVE id is not one or whose
epss/percentile is not a probability between 0 and 1 is rejected alone; a file without cve and epss columns is
refused.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from vigil.sources.reference_files import (
    ReferenceFileError,
    RejectedRow,
    check_cve,
    decode_text,
    is_iso_date,
    read_bytes,
)

REQUIRED = ("cve", "epss", "percentile")


@dataclass(frozen=True)
class EpssRecord:
    """One CVE's score."""

    cve: str
    """The CVE id, upper case."""
    epss: float
    """Probability of exploitation activity in the next 30 days (0..1)."""
    percentile: float
    """Share of all scored CVEs with a lower or equal score (0..1)."""


@dataclass(frozen=True)
class EpssFile:
    """What an EPSS file held."""

    model_version: str | None
    """From the comment line, e.g. v2025.03.14."""
    score_date: str | None
    """YYYY-MM-DD of the scores, from the comment line."""
    scores: tuple[EpssRecord, ...]
    """Every valid row, one per CVE."""
    rejected: tuple[RejectedRow, ...]
    """Every refused row, in file order."""

    @property
    def label(self) -> str:
        """How points cite it: `FIRST EPSS v2025.03.14 2026-11-20`."""
        parts = ["FIRST EPSS", self.model_version or "", self.score_date or ""]
        return " ".join(part for part in parts if part)


def read_epss(path: Path) -> EpssFile:
    """Parse an EPSS CSV (gzip allowed). Raises ReferenceFileError for an unreadable file."""
    lines = decode_text(read_bytes(path)).splitlines(keepends=True)
    model_version, score_date = None, None
    skipped = 0
    while skipped < len(lines) and lines[skipped].startswith("#"):
        found = _comment(lines[skipped])
        model_version = found.get("model_version", model_version)
        score_date = found.get("score_date", score_date)
        skipped += 1
    reader = csv.DictReader(io.StringIO("".join(lines[skipped:]), newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ReferenceFileError(
            f"no {', '.join(missing)} column (header: {', '.join(header)[:200] or 'empty'}); "
            "expected FIRST's cve,epss,percentile"
        )
    scores: dict[str, EpssRecord] = {}
    first_row: dict[str, int] = {}
    rejected: list[RejectedRow] = []
    try:
        # Row numbers as a text editor shows them: comment lines and the header count.
        for number, row in enumerate(reader, start=skipped + 2):
            record = _record(number, row)
            if isinstance(record, RejectedRow):
                rejected.append(record)
            elif record.cve in scores:
                reason = f"{record.cve} already given in row {first_row[record.cve]}"
                rejected.append(RejectedRow(number, "cve", reason))
            else:
                scores[record.cve] = record
                first_row[record.cve] = number
    except csv.Error as error:
        raise ReferenceFileError(f"not readable as CSV near line {reader.line_num + skipped}: {error}") from None
    return EpssFile(model_version, score_date, tuple(scores.values()), tuple(rejected))


def _comment(line: str) -> dict[str, str]:
    """`#model_version:v2023.03.01,score_date:2023-03-07T00:00:00+0000` -> its two values (date cut to the day)."""
    found: dict[str, str] = {}
    for part in line.lstrip("#").strip().split(","):
        key, _, value = part.partition(":")
        key, value = key.strip(), value.strip()
        if key == "model_version" and value:
            found[key] = value[:60]
        elif key == "score_date" and is_iso_date(value[:10]):
            found[key] = value[:10]
    return found


def _record(number: int, row: dict[str, str | None]) -> EpssRecord | RejectedRow:
    problem = check_cve(row.get("cve"))
    if problem:
        return RejectedRow(number, "cve", problem)
    values: list[float] = []
    for name in ("epss", "percentile"):
        text = (row.get(name) or "").strip()
        try:
            value = float(text)
        except ValueError:
            return RejectedRow(number, name, f"{text[:40]!r} is not a number" if text else "missing")
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            return RejectedRow(number, name, f"{text[:40]} is not a probability between 0 and 1")
        values.append(value)
    return EpssRecord(str(row["cve"]).strip().upper(), values[0], values[1])
