"""Header recognition: the many ways CMMS exports spell a column -> one canonical field.

The synonym table is data (`data/header_synonyms.yaml`), loaded once. A mapping file (see
`mapping.py`) overrides it for one file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import yaml

from vigil.errors import first_line
from vigil.sources.inventory.fields import ALL_FIELDS
from vigil.sources.inventory.mapping import TextLoader
from vigil.sources.inventory.records import InventoryFileError

DEFAULT_SYNONYMS = Path(__file__).parent / "data" / "header_synonyms.yaml"

_NUMBER_SIGN = re.compile(r"#|\bn[or]\.")  # "Asset #", "Serial No.", "Part Nr." all mean number
_NUMBER_WORDS = frozenset({"no", "nr", "num", "nbr"})  # ...and so does a trailing word ("Serial No")
_WORD = re.compile(r"[^\W_]+")  # letters and digits; underscores and punctuation separate
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def normalise_header(text: str) -> str:
    """The comparison key of a header: "Serial No." and "serial_number" both give "serialnumber"."""
    text = _NUMBER_SIGN.sub(" number ", unicodedata.normalize("NFKC", text).casefold())
    words = _WORD.findall(text)
    if len(words) > 1 and words[-1] in _NUMBER_WORDS:  # "No" alone is not "number"; "No Scan" keeps it
        words[-1] = "number"
    return "".join(words)


def load_synonyms(path: Path) -> dict[str, str]:
    """normalise_header(synonym) -> canonical field, from a YAML file of field -> list of headers."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=TextLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InventoryFileError(f"{path}: cannot read synonym table: {first_line(error)}") from None
    if not isinstance(data, dict):
        raise InventoryFileError(f"{path}: expected canonical field -> list of headers")
    table = {normalise_header(field): field for field in ALL_FIELDS}
    for field, headers in data.items():
        if field not in ALL_FIELDS:
            raise InventoryFileError(f"{path}: {field!r} is not a canonical field")
        if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
            raise InventoryFileError(f"{path}: {field!r} must list header strings")
        for header in headers:
            key = normalise_header(header)
            if table.get(key, field) != field:
                raise InventoryFileError(f"{path}: {header!r} is listed under both {table[key]} and {field}")
            table[key] = field
    return table


@cache
def default_synonyms() -> dict[str, str]:
    """The bundled synonym table (do not mutate)."""
    return load_synonyms(DEFAULT_SYNONYMS)


def synonym_field(header: str) -> str | None:
    """The canonical field a header means by the synonym table, or None."""
    table = default_synonyms()
    found = table.get(normalise_header(header))
    if found is None and ("(" in header or "[" in header):
        found = table.get(normalise_header(_BRACKETED.sub(" ", header)))
    return found


class HeaderMatcher:
    """Header -> field for one file: the mapping's entries first, then the synonym table."""

    def __init__(self, mapping: Mapping[str, str] | None = None) -> None:
        self._exact = dict(mapping or {})
        self._by_key = {normalise_header(header): target for header, target in self._exact.items()}

    def explicit(self, header: str) -> str | None:
        """The mapping's target for this header (a field or IGNORE), or None when it has no entry."""
        found = self._exact.get(header)
        if found is None and header:
            found = self._by_key.get(normalise_header(header))
        return found

    def field(self, header: str) -> str | None:
        """Where the column goes on its own: a field, IGNORE, or None for an extra value."""
        found = self.explicit(header)
        return found if found is not None else synonym_field(header)

    def assign(self, headers: Sequence[str]) -> list[str | None]:
        """Per column: a canonical field, IGNORE, or None (kept as an extra value).

        A field the mapping assigns is not also claimed by a synonym column; two columns that
        still land on one field are refused, naming both (a mapping file resolves it).
        """
        fields = [self.explicit(header) for header in headers]
        claimed = {target for target in fields if target}
        for index, header in enumerate(headers):
            if fields[index] is None and (found := synonym_field(header)) not in claimed:
                fields[index] = found
        first: dict[str, int] = {}
        for index, field in enumerate(fields):
            if not field:  # None or IGNORE
                continue
            if field in first:
                one, two = first[field], index
                raise InventoryFileError(
                    f"columns {_describe(headers, one)} and {_describe(headers, two)} both map to {field}; "
                    "add a mapping file that assigns or ignores one of them"
                )
            first[field] = index
        return fields


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _describe(headers: Sequence[str], index: int) -> str:
    return f"{headers[index]!r} ({column_letter(index)})"
