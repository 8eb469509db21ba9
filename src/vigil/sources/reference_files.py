"""What the KEV and EPSS readers share: reading a (possibly gzip-compressed) file within a size bound, CVE ids,
and the one-line rejection of a row.

Both files are reference data a person downloads and imports: a file that cannot be read at all raises
ReferenceFileError; a bad row becomes a RejectedRow and the good rows still land.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

MAX_FILE_BYTES = 256 * 1024 * 1024
"""Bound on a file after decompression: EPSS's full daily file is ≈ 10 MB, KEV's ≈ 2 MB; a gzip bomb stops here."""

CVE_ID = re.compile(r"CVE-\d{4}-\d{4,}")
"""A CVE id as MITRE assigns them (four or more digits after the year)."""

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1024 * 1024


class ReferenceFileError(Exception):
    """The whole file cannot be read (missing, too large, not JSON/CSV, no cveID column); one-line message."""


@dataclass(frozen=True)
class RejectedRow:
    """One row of a reference file that was not imported, and why."""

    row: int
    """The row as a person finds it: the line number in a CSV (header = 1), the 1-based entry in a JSON list."""
    field: str
    """The field that is wrong (its name as the file spells it)."""
    reason: str
    """What is wrong with it, in one line."""

    def line(self, file: str, unit: str = "row") -> str:
        """`FILE: row 7: cveID: 'CVE-21-1' is not a CVE id`."""
        return f"{file}: {unit} {self.row}: {self.field}: {self.reason}"


def read_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it is gzip (by its magic bytes, whatever its name says)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(2)
            handle.seek(0)
            if head == _GZIP_MAGIC:
                return _gunzip(handle.read(MAX_FILE_BYTES + 1))
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ReferenceFileError(f"cannot read: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ReferenceFileError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return data


def _gunzip(compressed: bytes) -> bytes:
    # Decompress in bounded steps: the compressed size says nothing about the inflated one.
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    parts: list[bytes] = []
    size = 0
    try:
        data = inflater.decompress(compressed, _CHUNK)
        while data:
            size += len(data)
            if size > MAX_FILE_BYTES:
                raise ReferenceFileError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB once decompressed")
            parts.append(data)
            data = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
    except (zlib.error, gzip.BadGzipFile) as error:
        raise ReferenceFileError(f"not a readable gzip file: {error}") from None
    if not inflater.eof:
        raise ReferenceFileError("gzip file is truncated")
    return b"".join(parts)


def decode_text(data: bytes) -> str:
    """UTF-8 text (a byte-order mark is dropped, as spreadsheet programs write one)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReferenceFileError(f"not UTF-8 text (byte {error.start})") from None


def check_cve(value: object) -> str | None:
    """The reason `value` is not a CVE id (any letter case), or None when it is one."""
    if not isinstance(value, str) or not value.strip():
        return "missing"
    if not CVE_ID.fullmatch(value.strip().upper()):
        return f"{value.strip()[:60]!r} is not a CVE id (CVE-YYYY-NNNN)"
    return None


def is_iso_date(value: str) -> bool:
    """True for a calendar date written YYYY-MM-DD."""
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10
