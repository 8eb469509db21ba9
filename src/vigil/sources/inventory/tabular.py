"""Real-world inventory files (CSV in the common dialects, XLSX/XLSM) -> RawRows under canonical names.

The header is the first row with a cell that means `asset_id` (title rows above it are skipped);
its cells map to fields through the mapping file, then the synonym table. Values come back as
written, stripped: formula-looking text (`=HYPERLINK(...)`, `+1`, `@SUM`) is data here and is
neutralised on export, not import.

Unmapped columns land in `RawRow.extra` under their header; a blank header becomes "column F"
and a repeated one "Notes (F)", in `TableHeader.columns` too. In a workbook a value right of the
last header column is kept as "column H"; in CSV it makes the row an error (a stray delimiter).

CSV is streamed (a million rows is the benchmark): one byte pass settles the encoding and rules
out over-long lines, the delimiter is whichever of `,` `;` tab yields a recognisable header, and a
regular row then costs a few C-level iterator calls. Workbooks are read in openpyxl's read-only
mode with cached formula values, i.e. what a person sees in the sheet (a formula never calculated
by a spreadsheet program reads as empty).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO, cast

import openpyxl
from openpyxl.utils.cell import range_boundaries

from vigil.errors import first_line
from vigil.sources.inventory.mapping import check_mapping
from vigil.sources.inventory.records import InventoryFileError, RawRow, TableHeader
from vigil.sources.inventory.synonyms import HeaderMatcher, column_letter

MAX_CELL_CHARS = 65_536
"""Longest cell accepted; a longer one makes its row an error (no device field is anywhere near)."""
MAX_HEADER_SCAN = 50
"""Non-blank rows searched for the header before the file is refused."""
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
DELIMITERS = (",", ";", "\t")
_SNIFF_CHARS = 1 << 20
_CHUNK = 1 << 20
_NOT_TEXT = (
    (b"PK\x03\x04", "a ZIP archive (an XLSX workbook? name it .xlsx)"),
    (b"\xd0\xcf\x11\xe0", "a legacy Excel .xls workbook; save it as .xlsx or CSV"),
)
_MERGE_CELL = re.compile(rb'<(?:[\w.-]+:)?mergeCell\b[^>]*?\sref="([A-Za-z]+[0-9]+:[A-Za-z]+[0-9]+)"')

# The csv module's default 128 KiB field limit would abort the whole file on one long cell;
# lift it and enforce MAX_CELL_CHARS per row instead. (2**31 - 1: the limit is a C long on Windows.)
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))

Picker = Any  # operator.itemgetter or a lambda: row -> tuple of the chosen cells


@dataclass(frozen=True, slots=True)
class _Layout:
    """A header resolved into the column indexes each row is read by."""

    header: TableHeader
    """What is reported."""
    names: tuple[str, ...]
    """Per column, its name in messages and `extra`: the header, "column F" if blank, "X (F)" if repeated."""
    value_columns: tuple[int, ...]
    """Indexes of mapped columns..."""
    value_fields: tuple[str, ...]
    """...and their canonical fields."""
    extra_columns: tuple[int, ...]
    """Indexes of unmapped columns (kept as extra values)."""


def open_table(
    path: Path, mapping: Mapping[str, str] | None = None, sheet: str | None = None
) -> tuple[TableHeader, Iterator[RawRow]]:
    """The file's header and its data rows; InventoryFileError (one line) if the file is unusable.

    Messages leave the path out (callers prefix it); a workbook's name the sheet: "sheet 'X': ...".

    `mapping` is original header -> canonical field or IGNORE (see `mapping.load_mapping`); `sheet`
    picks a workbook's sheet by name (default: the first). Rows come lazily: iterate to the end, or
    `close()` the iterator, to release the file.
    """
    if mapping:
        check_mapping(mapping, "mapping")
    matcher = HeaderMatcher(mapping)
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        table = _workbook_table(path, matcher, sheet)
    elif sheet is not None:
        raise InventoryFileError("a sheet name applies to .xlsx/.xlsm workbooks, not to CSV")
    else:
        table = _csv_table(path, matcher)
    # The generator runs up to the header here, so file-level errors surface now, and its
    # `with` block is entered: closing or collecting the iterator closes the file.
    header = next(table)
    assert isinstance(header, TableHeader)
    return header, cast(Iterator[RawRow], table)


# --- CSV ---------------------------------------------------------------------------------------


def _csv_table(path: Path, matcher: HeaderMatcher) -> Iterator[TableHeader | RawRow]:
    encoding, check_cells = _inspect_bytes(path)
    try:
        handle = path.open(encoding=encoding, newline="")
    except OSError as error:
        raise InventoryFileError(f"cannot read: {error.strerror or error}") from None
    with handle:
        delimiter, header_row = _sniff(handle.read(_SNIFF_CHARS), matcher)
        handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter)
        for _ in range(header_row - 1):
            next(reader)
        layout = _layout(next(reader), matcher, "", encoding=encoding, header_row=header_row)
        yield layout.header

        # The hot loop. A regular row costs a length test, a line-count test and the dicts, built
        # by C iterators (strip, drop empty, zip with the field names); anything odd goes to
        # _row_from_cells. A cell over the limit needs a physical line over the limit (ruled out
        # by the byte scan in any sane file) or a record spanning lines: reader.line_num then runs
        # ahead of the row number.
        width = len(layout.names)
        fields = layout.value_fields
        pick = _picker(layout.value_columns)
        direct = layout.value_columns == tuple(range(len(fields)))  # mapped columns lead: zip stops after them
        extra_names = tuple(layout.names[i] for i in layout.extra_columns)
        pick_extra = _picker(layout.extra_columns) if extra_names else None
        extra_pairs = tuple(zip(extra_names, layout.extra_columns, strict=True))
        few_extras = len(extra_pairs) <= 4  # a comprehension beats the iterator chain's setup cost
        strip, nonempty, limit = str.strip, itemgetter(1), MAX_CELL_CHARS
        lines_ahead = reader.line_num - header_row
        number = header_row
        try:
            for number, row in enumerate(reader, header_row + 1):
                if (
                    len(row) != width
                    or reader.line_num != number + lines_ahead
                    or (check_cells and max(map(len, row)) > limit)
                ):
                    lines_ahead = reader.line_num - number
                    odd = _row_from_cells(row, number, layout, beyond_is_error=True)
                    if odd is not None:
                        yield odd
                    continue
                values = dict(filter(nonempty, zip(fields, map(strip, row if direct else pick(row)), strict=False)))
                if pick_extra is None:
                    if values:
                        yield RawRow(number, values)
                    continue
                extra = (
                    {name: text for name, i in extra_pairs if (text := row[i].strip())}
                    if few_extras
                    else dict(filter(nonempty, zip(extra_names, map(strip, pick_extra(row)), strict=True)))
                )
                if values or extra:
                    yield RawRow(number, values, extra)
        except csv.Error as error:
            raise InventoryFileError(f"row {number + 1}: {error}") from None


def _inspect_bytes(path: Path) -> tuple[str, bool]:
    """(encoding, whether a line may be over MAX_CELL_CHARS), reading the file once in chunks.

    UTF-8 with or without BOM; UTF-16 with a BOM (Excel's "Unicode Text"); else Windows-1252: a
    strict UTF-8 failure means a Windows export. A line's bytes bound its characters from above.
    """
    try:
        with path.open("rb") as file:
            head = file.read(4)
            for magic, what in _NOT_TEXT:
                if head.startswith(magic):
                    raise InventoryFileError(f"not CSV text but {what}")
            if head.startswith(codecs.BOM_UTF8):
                candidates: tuple[str, ...] = ("utf-8-sig",)
            elif head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                candidates = ("utf-16",)
            else:
                candidates = ("utf-8", "cp1252")
            problem = ""
            for encoding in candidates:
                file.seek(0)
                problem, long_lines = _scan(file, encoding)
                if not problem:
                    return encoding, long_lines
    except OSError as error:
        raise InventoryFileError(f"cannot read: {error.strerror or error}") from None
    if candidates == ("utf-8-sig",):
        raise InventoryFileError(f"starts with a UTF-8 byte order mark but {problem}")
    raise InventoryFileError(f"not UTF-8 or Windows-1252 text: {problem}")


def _scan(file: BinaryIO, encoding: str) -> tuple[str, bool]:
    """(why the bytes do not decode or "", whether a line may be longer than MAX_CELL_CHARS); streamed.

    Long lines are ruled out cheaply: when every aligned block of half the limit holds a newline,
    no line reaches the limit. (UTF-16 is not split into lines here: every row is then checked.)
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    block = MAX_CELL_CHARS // 2  # divides _CHUNK, so blocks never straddle chunks
    long_lines = encoding == "utf-16"
    offset = 0
    try:
        while chunk := file.read(_CHUNK):
            if encoding != "utf-16":
                if b"\0" in chunk:
                    raise InventoryFileError("contains NUL bytes: not a text file (or UTF-16 without a BOM)")
                if not long_lines:
                    long_lines = any(chunk.find(b"\n", at, at + block) < 0 for at in range(0, len(chunk), block))
            if encoding == "utf-16" or decoder.getstate()[0] or not chunk.isascii():
                decoder.decode(chunk)  # (ASCII is valid UTF-8 and cp1252 unless a sequence is pending)
            offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        bad = error.object[error.start]
        return f"byte 0x{bad:02x} at offset {offset + error.start:,} is invalid in {encoding}", True
    return "", long_lines


def _sniff(sample: str, matcher: HeaderMatcher) -> tuple[str, int]:
    """(delimiter, header row number): the delimiter whose header maps the most columns."""
    best: tuple[int, int, int] | None = None  # (mapped columns, columns, -preference)
    choice = (DELIMITERS[0], 1)
    shown: list[str] | None = None
    for preference, delimiter in enumerate(DELIMITERS):
        rows = ([cell.strip() for cell in row] for row in csv.reader(io.StringIO(sample), delimiter=delimiter))
        try:
            number, cells = _scan_for_header(enumerate(rows, 1), matcher)
        except csv.Error:
            continue
        if cells is None:  # nothing but delimiters and blanks
            raise InventoryFileError("empty file")
        if number is None:
            if shown is None or sum(map(bool, cells)) > sum(map(bool, shown)):
                shown = cells
            continue
        mapped = sum(1 for cell in cells if cell and matcher.field(cell))
        rank = (mapped, len(cells), -preference)
        if best is None or rank > best:
            best, choice = rank, (delimiter, number)
    if best is None:
        raise _no_asset_id("", shown or [])
    return choice


# --- XLSX --------------------------------------------------------------------------------------


MAX_WORKBOOK_UNZIPPED = 2 * 1024**3
"""An XLSX is a ZIP: refuse one that would inflate past this (a 1,048,576-row sheet is ~200 MB)."""


def _check_inflated_size(path: Path) -> None:
    """Refuse a ZIP bomb before openpyxl inflates it; the sizes come from the ZIP directory."""
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (OSError, zipfile.BadZipFile) as error:
        raise InventoryFileError(f"not a readable XLSX workbook: {first_line(error)}") from None
    if inflated > MAX_WORKBOOK_UNZIPPED:
        raise InventoryFileError(
            f"workbook inflates to {inflated:,} bytes, over the {MAX_WORKBOOK_UNZIPPED:,}-byte limit"
        )


def _workbook_table(path: Path, matcher: HeaderMatcher, sheet: str | None) -> Iterator[TableHeader | RawRow]:
    _check_inflated_size(path)
    try:
        with warnings.catch_warnings():  # "extension is not supported" chatter about features we never read
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except OSError as error:
        raise InventoryFileError(f"cannot read: {error.strerror or error}") from None
    except Exception as error:  # openpyxl raises InvalidFileException, BadZipFile, KeyError, ValueError...
        reason = first_line(error)
        raise InventoryFileError(f"not a readable XLSX workbook: {reason}") from None
    sheet_rows = None
    try:
        worksheet = _worksheet(book, sheet)
        where = f"sheet {worksheet.title!r}: "
        worksheet.reset_dimensions()  # the stored dimension can be wrong; trust the cells
        sheet_rows = worksheet.iter_rows(min_row=1, min_col=1, values_only=True)
        rows = ((number, [_cell_text(value) for value in values]) for number, values in enumerate(sheet_rows, 1))
        header_row, cells = _scan_for_header(rows, matcher)
        if header_row is None or cells is None:
            if cells is None:
                raise InventoryFileError(f"{where}empty sheet")
            raise _no_asset_id(where, cells)
        layout = _layout(cells, matcher, where, sheet=worksheet.title, header_row=header_row)
        yield layout.header
        filler = _MergeFiller.below(_merged_ranges(worksheet), header_row)
        for number, cells in rows:  # the same iterator: carries on below the header
            if filler is not None:
                filler.fill(number, cells)
            row = _row_from_cells(cells, number, layout, beyond_is_error=False)
            if row is not None:
                yield row
    finally:
        if sheet_rows is not None:
            sheet_rows.close()  # it holds the sheet's zip member open, and with it the file
        book.close()


def _worksheet(book: Any, sheet: str | None) -> Any:
    worksheets = book.worksheets  # chartsheets excluded
    if sheet is None:
        if not worksheets:
            raise InventoryFileError("the workbook has no worksheet")
        return worksheets[0]
    by_name = {ws.title: ws for ws in worksheets}
    found = by_name.get(sheet)
    if found is None:  # Excel treats sheet names case-insensitively
        folded = [ws for title, ws in by_name.items() if title.casefold() == sheet.casefold()]
        found = folded[0] if len(folded) == 1 else None
    if found is None:
        names = ", ".join(repr(name) for name in book.sheetnames)
        raise InventoryFileError(f"no worksheet named {sheet!r} (sheets: {names})")
    return found


def _cell_text(value: object) -> str:
    """A cell as a person reads it: 459800939471 not 4.598e11, dates ISO, booleans yes/no."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return format(value, ".15g")  # Excel's own precision: 0.1 + 0.2 shows as 0.3
    if isinstance(value, datetime):
        if value.time() == time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


def _merged_ranges(worksheet: Any) -> list[tuple[int, int, int, int]]:
    """(min_col, min_row, max_col, max_row) of each merged range, 1-based.

    openpyxl's read-only mode does not expose merges, and they are listed after the cell data;
    a byte scan of the sheet XML for `<mergeCell ref=...>` costs a fraction of the parse itself.
    """
    ranges: list[tuple[int, int, int, int]] = []
    with worksheet._get_source() as xml:
        carry = b""
        while True:
            chunk = xml.read(_CHUNK)
            data = carry + chunk
            if not chunk:
                cut = len(data)
            else:
                cut = data.rfind(b"<")  # an element may straddle the chunk boundary
                cut = cut if cut >= 0 else len(data)
            if b"mergeCell" in data:
                ranges.extend(range_boundaries(m.group(1).decode()) for m in _MERGE_CELL.finditer(data, 0, cut))
            carry = data[cut:] if len(data) - cut < 4096 else b""  # a longer element is no mergeCell
            if not chunk:
                return ranges


class _MergeFiller:
    """Copies each merged range's top-left value into the rest of the range, row by row."""

    def __init__(self, ranges: Iterable[tuple[int, int, int, int]]) -> None:
        self._starts: dict[int, list[tuple[int, int, int]]] = {}  # top row -> (first col, last col, bottom row)
        for min_col, min_row, max_col, max_row in ranges:
            self._starts.setdefault(min_row, []).append((min_col - 1, max_col - 1, max_row))
        self._active: list[tuple[int, int, int, str]] = []  # (first col, last col, bottom row, value)

    @classmethod
    def below(cls, ranges: list[tuple[int, int, int, int]], header_row: int) -> _MergeFiller | None:
        """A filler for the ranges starting under the header (a merged header or title is not data)."""
        data_ranges = [r for r in ranges if r[1] > header_row]
        return cls(data_ranges) if data_ranges else None

    def fill(self, number: int, cells: list[str]) -> None:
        for first, last, bottom in self._starts.pop(number, ()):
            value = cells[first] if first < len(cells) else ""
            if value:
                self._active.append((first, last, bottom, value))
        if not self._active:
            return
        self._active = [span for span in self._active if span[2] >= number]
        for first, last, _, value in self._active:
            if len(cells) <= last:
                cells.extend([""] * (last + 1 - len(cells)))
            cells[first : last + 1] = [value] * (last + 1 - first)


# --- shared ------------------------------------------------------------------------------------


def _scan_for_header(
    rows: Iterator[tuple[int, list[str]]], matcher: HeaderMatcher
) -> tuple[int | None, list[str] | None]:
    """(row number, cells) of the first row with a cell meaning asset_id, consuming rows up to it.

    Without one: (None, the row that looked like the header) for the error message, or (None, None)
    when every row is blank. A row with three or more cells ends the search: it is the table's
    first row, so a data cell that happens to read "Tag" lower down is never taken for a header.
    """
    shown: list[str] | None = None
    scanned = 0
    for number, cells in rows:
        filled = sum(1 for cell in cells if cell)
        if not filled:
            continue
        if any(matcher.field(cell) == "asset_id" for cell in cells if cell):
            return number, cells
        if shown is None or filled >= 3:
            shown = cells
        scanned += 1
        if filled >= 3 or scanned >= MAX_HEADER_SCAN:
            break
    return None, shown


def _layout(
    raw: Sequence[str], matcher: HeaderMatcher, context: str, *, encoding: str | None = None, **where: Any
) -> _Layout:
    cells = [cell.strip() for cell in raw]
    while cells and not cells[-1]:  # trailing blank header cells are not columns
        cells.pop()
    try:
        fields = matcher.assign(cells)
    except InventoryFileError as error:
        raise InventoryFileError(f"{context}{error}") from None
    if "asset_id" not in fields:
        raise _no_asset_id(context, cells)
    seen: set[str] = set()
    names: list[str] = []
    for index, cell in enumerate(cells):
        name = cell or f"column {column_letter(index)}"
        names.append(f"{name} ({column_letter(index)})" if name in seen else name)
        seen.add(name)
    value_columns = tuple(i for i, field in enumerate(fields) if field)
    extra_columns = tuple(i for i, field in enumerate(fields) if field is None)
    header = TableHeader(
        columns=tuple(names),  # = the header cells, but unique and non-blank: `extra` uses the same names
        mapped={names[i]: cast(str, fields[i]) for i in value_columns},
        unmapped=tuple(names[i] for i in extra_columns),
        ignored=tuple(names[i] for i, field in enumerate(fields) if field == ""),
        encoding=encoding,
        **where,
    )
    return _Layout(
        header, tuple(names), value_columns, tuple(cast(str, fields[i]) for i in value_columns), extra_columns
    )


def _row_from_cells(cells: Sequence[str], number: int, layout: _Layout, *, beyond_is_error: bool) -> RawRow | None:
    """Any row, however irregular: short rows padded, long cells and (in CSV) cells past the header flagged."""
    names = layout.names
    width = len(names)
    error = None
    for index, cell in enumerate(cells):
        if len(cell) > MAX_CELL_CHARS:
            name = names[index] if index < width else f"column {column_letter(index)}"
            error = f"{name}: cell is {len(cell):,} characters, over the {MAX_CELL_CHARS:,} limit"
            break
    texts = [cell.strip() for cell in cells]  # an over-long cell is kept: the rejects file shows the row whole
    extra = {names[i]: texts[i] for i in layout.extra_columns if i < len(texts) and texts[i]}
    beyond = [i for i in range(width, len(texts)) if texts[i]]
    if beyond and beyond_is_error:
        # In CSV a value past the header is usually a stray delimiter that shifted the row.
        if error is None:
            error = (
                f"column {column_letter(beyond[0])}: value beyond the last header column "
                f"(the row has {len(cells)} cells, the header {width})"
            )
    else:  # a workbook's columns are explicit: a note to the right of the table is kept
        extra.update((f"column {column_letter(i)}", texts[i]) for i in beyond)
    values = {
        field: texts[i] for i, field in zip(layout.value_columns, layout.value_fields, strict=True) if i < len(texts)
    }
    values = {field: text for field, text in values.items() if text}
    if not values and not extra and error is None:
        return None  # blank row
    return RawRow(number, values, extra, error)


def _picker(columns: tuple[int, ...]) -> Picker:
    """row -> tuple of the cells at `columns` (itemgetter returns a bare cell for one index)."""
    if len(columns) == 1:
        only = columns[0]
        return lambda row: (row[only],)
    return itemgetter(*columns)


def _no_asset_id(context: str, cells: Sequence[str]) -> InventoryFileError:
    """`context` prefixes the message: "" for CSV, "sheet 'Devices': " for a workbook."""
    shown = [cell if len(cell) <= 40 else cell[:37] + "..." for cell in cells if cell][:30]
    headers = ", ".join(shown) or "none"
    return InventoryFileError(f"{context}no asset_id column (headers: {headers}); add a mapping file")
