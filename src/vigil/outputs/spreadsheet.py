"""CSV and XLSX writers that never let a cell become a formula (CWE-1236, OWASP "CSV injection").

Inventory and advisory text is untrusted: a cell such as `=HYPERLINK("http://evil", "x")` is stored
raw, but every spreadsheet vigil writes prefixes it with `'`, which spreadsheet programs show as
text and do not evaluate.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from openpyxl import Workbook

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The cell as text that no spreadsheet evaluates; non-strings pass through."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def write_csv(handle: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a CSV with neutralised cells; returns the number of data rows."""
    writer = csv.writer(handle)
    writer.writerow([neutralise(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([neutralise("" if v is None else v) for v in row])
        count += 1
    return count


def write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> int:
    """Write a one-sheet XLSX with neutralised cells (write-only mode: memory stays flat)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append([neutralise(h) for h in header])
    count = 0
    for row in rows:
        # openpyxl treats any string starting with "=" as a formula; neutralise() prevents that too.
        sheet.append([neutralise(v) for v in row])
        count += 1
    workbook.save(path)
    return count
