"""Package URLs and CPEs reduced to what two of them must share to name the same package.

A purl's key is `pkg:type/namespace/name` (packageurl-python parses and canonicalises it); a CPE's key is
`part:vendor:product` of a CPE 2.3 formatted string or a CPE 2.2 URI. Keys are lower-cased: CPE matching is
case-insensitive, and of the purl types vigil sees, the few with case-sensitive names never differ in case
alone. The version stays separate: the advisory's version rule decides it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from packageurl import PackageURL


@dataclass(frozen=True, slots=True)
class PackageId:
    """A purl or CPE split into the part that names the package and its version."""

    key: str
    """`pkg:type/namespace/name` or `cpe:part:vendor:product`, lower-cased."""
    version: str | None
    """The version it names; None for none, `*` (ANY) or `-` (NA)."""


def parse_purl(text: str) -> PackageId | None:
    """The purl's key and version; None when it is not a purl."""
    try:
        purl = PackageURL.from_string(text.strip())
    except ValueError:
        return None
    namespace = f"{purl.namespace}/" if purl.namespace else ""
    return PackageId(f"pkg:{purl.type}/{namespace}{purl.name}".lower(), purl.version or None)


def parse_cpe(text: str) -> PackageId | None:
    """The CPE's key and version; None when it is neither a CPE 2.3 formatted string nor a 2.2 URI."""
    text = text.strip()
    lowered = text.lower()
    if lowered.startswith("cpe:2.3:"):
        fields = _split_formatted(text[len("cpe:2.3:") :])
    elif lowered.startswith("cpe:/"):
        fields = [unquote(field) for field in text[len("cpe:/") :].split(":")]
    else:
        return None
    if len(fields) < 3 or not all(fields[:3]) or fields[0].lower() not in ("a", "h", "o", "*"):
        return None
    version = fields[3] if len(fields) > 3 else ""
    key = "cpe:" + ":".join(_unescape(field).lower() for field in fields[:3])
    return PackageId(key, None if version in ("", "*", "-") else _unescape(version))


def _split_formatted(body: str) -> list[str]:
    """CPE 2.3 fields split on unescaped colons (a `\\:` is part of a value)."""
    fields: list[str] = []
    current: list[str] = []
    escaped = False
    for char in body:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


def _unescape(value: str) -> str:
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped or char != "\\":
            out.append(char)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def purl_key(text: str | None) -> str | None:
    """The purl's key, for the inventory column; None for no or a broken purl."""
    parsed = parse_purl(text) if text else None
    return parsed.key if parsed else None


def cpe_key(text: str | None) -> str | None:
    """The CPE's key, for the inventory column; None for no or a broken CPE."""
    parsed = parse_cpe(text) if text else None
    return parsed.key if parsed else None
