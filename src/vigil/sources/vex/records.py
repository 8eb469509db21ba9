"""What every VEX reader shares: the result type, the refusal, loading JSON, and the status of a statement
vigil did not write (no marker, or one the document's own status contradicts)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

from vigil.response.states import FIXED, NOT_AFFECTED, Evidence, StatusChange
from vigil.response.vex_model import VEX_FAMILY, VexMarker, VexStatement, find_marker

FORMATS = ("csaf", "cyclonedx", "openvex")
CVE_PATTERN = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_UTF8_BOM = b"\xef\xbb\xbf"


class VexFileError(Exception):
    """The file cannot be read as VEX at all; the message is one line, `<source>: <reason>`."""


@dataclass(frozen=True)
class VexFile:
    """The statements of one VEX file, in file order."""

    format: str
    """csaf, cyclonedx or openvex."""
    statements: tuple[VexStatement, ...]
    """One per (product, vulnerability) the file states."""
    problems: tuple[str, ...]
    """Parts that could not be read, one line each: `<JSON pointer>: <reason>`; they are not applied."""


@dataclass(frozen=True)
class SourceFile:
    """The file being read: its name for messages and its digest for evidence."""

    name: str
    """The path as the user gave it."""
    sha256: str
    """SHA-256 of its bytes."""


def load_json(raw: bytes, source: str, max_bytes: int) -> dict[str, Any]:
    """The file's top-level JSON object, or VexFileError."""
    if len(raw) > max_bytes:
        raise VexFileError(f"{source}: file is {len(raw):,} bytes, over the {max_bytes:,}-byte limit")
    try:
        value = orjson.loads(raw.removeprefix(_UTF8_BOM))
    except orjson.JSONDecodeError as error:
        raise VexFileError(
            f"{source}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    if not isinstance(value, dict):
        raise VexFileError(f"{source}: not a VEX document: the top level is not a JSON object")
    return value


def source_file(raw: bytes, name: str) -> SourceFile:
    return SourceFile(name, hashlib.sha256(raw).hexdigest())


def detect_format(doc: dict[str, Any]) -> str | None:
    """csaf, cyclonedx or openvex by the document's own markers; None when it is none of them."""
    document = doc.get("document")
    if isinstance(document, dict) and "csaf_version" in document:
        return "csaf"
    if doc.get("bomFormat") == "CycloneDX":
        return "cyclonedx"
    context = doc.get("@context")
    if isinstance(context, str) and context.startswith("https://openvex.dev/ns"):
        return "openvex"
    return None


def trusted_marker(text: str | None, family: str) -> VexMarker | None:
    """The marker in `text` when its status falls under the VEX status the document states (else the document's
    own words win: someone edited the status after vigil wrote it). BadMarker propagates."""
    marker = find_marker(text)
    if marker is None or VEX_FAMILY[marker.change.status] != family:
        return None
    return marker


def trusted_marker_json(text: str | None, family: str) -> VexMarker | None:
    """As trusted_marker, for a marker's bare JSON (the CycloneDX property)."""
    if text is None:
        return None
    return trusted_marker(f"vigil:response {text}", family)


def foreign_change(family: str, justification: str | None, text: str | None, source: SourceFile) -> StatusChange:
    """The status of a statement without a (trusted) marker: the VEX status itself, never one of vigil's finer
    affected statuses (those need an owner, an FCO or evidence no foreign document gives in a form to trust).
    `fixed` names the VEX file as its evidence; `not_affected` keeps the file's justification (without one the
    change is refused when applied, as any not_affected without a justification is)."""
    comment = text.strip() if text and text.strip() else None
    if family == FIXED:
        return StatusChange(FIXED, comment=comment, evidence=(Evidence("file", source.name, source.sha256),))
    if family == NOT_AFFECTED:
        return StatusChange(NOT_AFFECTED, comment=comment, justification=justification)
    return StatusChange(family, comment=comment)
