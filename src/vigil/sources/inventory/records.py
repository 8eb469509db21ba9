"""Records that cross from inventory readers to the importer."""

from __future__ import annotations

from dataclasses import dataclass, field


class InventoryFileError(Exception):
    """The whole file cannot be read (empty, no asset_id column, not a spreadsheet); one-line message."""


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row of an inventory file, mapped onto canonical field names, values as written."""

    row_number: int
    """1-based row number in the file as a person sees it (the header is row 1)."""
    values: dict[str, str]
    """Canonical field -> raw cell text (stripped of surrounding whitespace; empty cells omitted)."""
    extra: dict[str, str] = field(default_factory=dict)
    """Columns that map to no canonical field, by their original header: kept, never lost."""
    error: str | None = None
    """Set when the row itself cannot be used (e.g. a cell over the size limit): `column: reason`."""


@dataclass(frozen=True, slots=True)
class TableHeader:
    """How a file's header was understood."""

    columns: tuple[str, ...]
    """The header cells, in order; a blank one is named "column F" and a repeated one "Notes (F)", as in `extra`."""
    mapped: dict[str, str]
    """Original header -> canonical field, for the columns that map to one."""
    unmapped: tuple[str, ...]
    """Original headers kept as extra values."""
    ignored: tuple[str, ...] = ()
    """Original headers a mapping file says to ignore: neither mapped nor kept."""
    encoding: str | None = None
    """What a CSV file was decoded as (`utf-8`, `utf-8-sig`, `utf-16`, `cp1252`); None for a workbook."""
    sheet: str | None = None
    """The worksheet read, for a workbook."""
    header_row: int = 1
    """Row number of the header; title rows above it are skipped."""
