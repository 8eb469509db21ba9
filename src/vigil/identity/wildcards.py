"""CSAF identifier wildcards (§3.1.3.3.3: `?` one character, `*` any run, `\\` escapes either), read once and
written out as a regular expression (in memory) or a LIKE pattern (in the database)."""

from __future__ import annotations

import re
from collections.abc import Iterator

ONE, ANY = object(), object()


def has_wildcard(value: str) -> bool:
    return "?" in value or "*" in value


def tokens(value: str) -> Iterator[str | object]:
    """Literal characters, ONE and ANY, escapes resolved."""
    escaped = False
    for char in value:
        if escaped:
            yield char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "?":
            yield ONE
        elif char == "*":
            yield ANY
        else:
            yield char


def as_regex(value: str) -> re.Pattern[str]:
    return re.compile("".join("." if t is ONE else ".*" if t is ANY else re.escape(str(t)) for t in tokens(value)))


def like_literal(text: str) -> str:
    """Text matched literally by LIKE ... ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def as_like(value: str) -> str:
    """The wildcard value as a LIKE pattern with `\\` as its escape character."""
    return "".join("_" if t is ONE else "%" if t is ANY else like_literal(str(t)) for t in tokens(value))
