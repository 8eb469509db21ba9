"""Identifier normalisation: part numbers, serials, UDI-DI, MAC and IP addresses, yes/no flags."""

from __future__ import annotations

import ipaddress
import re

_SEPARATORS = re.compile(r"[\s\-_./]+")
_HEX = re.compile(r"[0-9a-fA-F]")


def part_number(raw: str) -> str:
    """Model/part numbers compare without spaces, dashes, dots and case.

    Philips 12NC "4598 009 39471", "4598-009-39471" and "459800939471" are one number.
    """
    return _SEPARATORS.sub("", raw).upper()


def serial_number(raw: str) -> str:
    return _SEPARATORS.sub("", raw).upper()


def udi_di(raw: str) -> str:
    """A UDI-DI without its GS1 application identifier `(01)` and separators."""
    text = _SEPARATORS.sub("", raw)
    if text.startswith("(01)"):
        text = text[4:]
    return text.upper()


_MAC_COLONS = re.compile(r"[0-9a-fA-F]{2}(?:([:-])[0-9a-fA-F]{2})(?:\1[0-9a-fA-F]{2}){4}")
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")


def mac_address(raw: str) -> str | None:
    """`aa:bb:cc:dd:ee:ff`, or None when the text is not 12 hex digits in a usual notation."""
    if _MAC_COLONS.fullmatch(raw):  # the common notations, without the general path's cost
        return raw.replace("-", ":").lower()
    digits = "".join(_HEX.findall(raw))
    stripped = re.sub(r"[\s:\-.]", "", raw)
    if len(digits) != 12 or len(stripped) != 12:
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).lower()


def ip_address(raw: str) -> str | None:
    """The canonical text of an IPv4/IPv6 address, or None (CMMS exports say "DHCP", "n/a", ...)."""
    if _IPV4.fullmatch(raw):  # dotted quad without leading zeros is already canonical; ipaddress costs ~10 µs
        return raw
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


_TRUE = frozenset({"yes", "y", "true", "t", "1", "x", "ja", "oui", "si"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "nein", "non"})


def yes_no(raw: str) -> bool:
    """Parse a yes/no cell; ValueError for anything else (a safety flag must never default silently)."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{raw!r} is not yes/no")
