"""One-line error text, shared by every layer (depends on nothing of ours)."""

from __future__ import annotations


def first_line(error: BaseException) -> str:
    """The first line of an exception's message, or its type name when the message is empty.

    vigil promises one line per refusal; library messages run to several (pysequoia appends a
    backtrace) or are empty.
    """
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
