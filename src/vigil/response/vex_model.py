"""VEX statements, format-neutral: per (device, vulnerability) the site's response status and what it rests on.

The three writers (vex_csaf, vex_cyclonedx, vex_openvex) and the three readers (sources/vex) share these types
and the rules below, so a status written in one format reads back the same from any of them.

VEX knows four statuses; vigil's response knows seven. `affected`, `mitigated`, `remediation_scheduled` and
`risk_accepted` are all VEX "affected" (CSAF known_affected, CycloneDX exploitable, OpenVEX affected). What tells
them apart on the way back, with every field the status needs (evidence, FCO, planned date, owner, expiry), is
the *vigil marker*: one line `vigil:response {json}` (CycloneDX: the property `vigil:response` holding the same
JSON). A reader believes the marker only when its status falls under the VEX status the document states, so an
edited status is never overruled by a stale marker. docs/vex.md has the full mapping.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vigil.response.states import (
    AFFECTED,
    FIXED,
    MITIGATED,
    NOT_AFFECTED,
    REMEDIATION_SCHEDULED,
    RISK_ACCEPTED,
    UNDER_INVESTIGATION,
    StatusChange,
    change_from_detail,
)

MARKER_PREFIX = "vigil:response "
"""Start of the marker line in CSAF threat details and OpenVEX status_notes."""
MARKER_PROPERTY = "vigil:response"
"""CycloneDX property name holding the marker's JSON."""
DEVICE_IRI_PREFIX = "urn:vigil:device:"
"""OpenVEX product @id of a device: this prefix, then its product id."""
PRODUCT_ID_PREFIX = "VIGIL-"
"""Every product id vigil writes starts with it: `VIGIL-<site>-<asset id>`, both parts escaped."""

# The VEX status family of each response status (the words CSAF, CycloneDX and OpenVEX each use for it).
VEX_FAMILY = {
    UNDER_INVESTIGATION: UNDER_INVESTIGATION,
    AFFECTED: AFFECTED,
    MITIGATED: AFFECTED,
    REMEDIATION_SCHEDULED: AFFECTED,
    RISK_ACCEPTED: AFFECTED,
    NOT_AFFECTED: NOT_AFFECTED,
    FIXED: FIXED,
}
CSAF_PRODUCT_STATUS = {
    AFFECTED: "known_affected",
    NOT_AFFECTED: "known_not_affected",
    FIXED: "fixed",
    UNDER_INVESTIGATION: "under_investigation",
}
"""VEX family -> CSAF product_status list (the four the csaf_vex profile allows, test 6.1.27.7)."""
CYCLONEDX_STATE = {
    AFFECTED: "exploitable",
    NOT_AFFECTED: "not_affected",
    FIXED: "resolved",
    UNDER_INVESTIGATION: "in_triage",
}
"""VEX family -> CycloneDX analysis.state. Read back: resolved_with_pedigree is fixed too; false_positive is
not_affected (and then needs a justification like any other)."""
CYCLONEDX_RESPONSE = {
    MITIGATED: ("workaround_available",),
    REMEDIATION_SCHEDULED: ("update",),
    RISK_ACCEPTED: ("will_not_fix",),
}
"""CycloneDX analysis.response written for the affected statuses that have one (a hint; the marker decides)."""
CYCLONEDX_JUSTIFICATION = {
    "component_not_present": "requires_dependency",
    "vulnerable_code_not_present": "code_not_present",
    "vulnerable_code_not_in_execute_path": "code_not_reachable",
    "vulnerable_code_cannot_be_controlled_by_adversary": "requires_environment",
    "inline_mitigations_already_exist": "protected_by_mitigating_control",
}
"""CSAF/OpenVEX justification -> CycloneDX analysis.justification (one to one, so it reads back the same)."""
FROM_CYCLONEDX_JUSTIFICATION = {
    **{cdx: ours for ours, cdx in CYCLONEDX_JUSTIFICATION.items()},
    "requires_configuration": "vulnerable_code_cannot_be_controlled_by_adversary",
    "protected_by_compiler": "inline_mitigations_already_exist",
    "protected_at_runtime": "inline_mitigations_already_exist",
    "protected_at_perimeter": "inline_mitigations_already_exist",
}
"""CycloneDX's nine justifications -> the five of CSAF/OpenVEX, for documents vigil did not write."""
OPENVEX_STATUS = {
    AFFECTED: "affected",
    NOT_AFFECTED: "not_affected",
    FIXED: "fixed",
    UNDER_INVESTIGATION: "under_investigation",
}
"""VEX family -> OpenVEX status. OpenVEX justifications are CSAF's flag labels, word for word."""

_UNESCAPED = re.compile(r"[A-Za-z0-9.-]")
_ESCAPE = re.compile(r"_([0-9A-F]{2})")


@dataclass(frozen=True)
class VexPublisher:
    """Who issues the VEX: the hospital (CSAF publisher category `user`)."""

    name: str
    """Organisation name (CSAF publisher name, OpenVEX author, CycloneDX metadata.supplier)."""
    namespace: str
    """A URL the organisation controls (CSAF publisher namespace; prefix of the OpenVEX document @id)."""


@dataclass(frozen=True)
class VexDevice:
    """The product of a statement: one device of the site."""

    product_id: str | None
    """vigil's product id (`VIGIL-<site>-<asset>`), or the id a foreign document gave the product."""
    asset_id: str | None = None
    """The asset; None in statements read from a file until the importer resolves them."""
    manufacturer: str | None = None
    """Manufacturer as the inventory writes it."""
    model: str | None = None
    """Model as the inventory writes it."""
    version: str | None = None
    """The device's firmware, else the release of its first installed software."""
    serial_number: str | None = None
    """Serial number as the inventory (or the file) writes it."""
    model_number: str | None = None
    """Model number (Philips 12NC) as the inventory (or the file) writes it."""
    pointer: str | None = None
    """JSON pointer to where a file defines the product (readers only)."""

    @property
    def label(self) -> str:
        """How messages name it."""
        if self.asset_id:
            return f"device {self.asset_id}"
        parts = [f"product {self.product_id!r}" if self.product_id else "product"]
        if self.serial_number:
            parts.append(f"serial {self.serial_number!r}")
        if self.model_number:
            parts.append(f"model number {self.model_number!r}")
        return " ".join(parts)


@dataclass(frozen=True)
class VexVulnerability:
    """The vulnerability of a statement."""

    cve: str | None
    """Its CVE id."""
    key: str | None = None
    """The advisory's vulnerability key (finding.vulnerability_key: the CVE, else `system_name:text`, else
    `#ordinal`); None when a foreign document gives only a CVE."""
    advisory: str | None = None
    """Tracking id of the advisory the site's finding follows (from the marker when read back)."""
    publisher_namespace: str | None = None
    """That advisory's publisher namespace (tracking ids are unique only per publisher)."""
    title: str | None = None
    """The advisory's title of the vulnerability, for people."""

    @property
    def label(self) -> str:
        if self.cve:
            return self.cve
        return f"{self.advisory}:{self.key}" if self.advisory else str(self.key)


@dataclass(frozen=True)
class VexRemediation:
    """A remediation to state for an affected device: the advisory's own, or vigil's for the status."""

    category: str
    """CSAF remediation category: mitigation, no_fix_planned, none_available, vendor_fix or workaround."""
    details: str
    """What to do, in words."""
    url: str | None = None
    """Where it is described."""
    date: datetime | None = None
    """When it is (or was) done: the planned date of a scheduled remediation."""


@dataclass(frozen=True)
class VexStatement:
    """One device's status for one vulnerability."""

    device: VexDevice
    """The product."""
    vulnerability: VexVulnerability
    """The vulnerability."""
    change: StatusChange
    """The response status with everything it rests on (the same object a person's status change is)."""
    remediations: tuple[VexRemediation, ...] = ()
    """The advisory's remediations for the device's matched products (writers only)."""
    first_issued: datetime | None = None
    """When the finding was opened."""
    last_updated: datetime | None = None
    """When its status was last set."""
    pointer: str | None = None
    """JSON pointer to the statement in the file it was read from (readers only)."""

    @property
    def status(self) -> str:
        return self.change.status

    @property
    def family(self) -> str:
        """The VEX status: under_investigation, affected, not_affected or fixed."""
        return VEX_FAMILY[self.change.status]


@dataclass(frozen=True)
class VexDocument:
    """What one export writes."""

    site: str
    """The site whose devices the statements are about."""
    advisory: str | None
    """The tracking id the export was limited to, if any."""
    publisher: VexPublisher
    """Who issues it."""
    tracking_id: str
    """Deterministic per site, advisory and day: `VIGIL-VEX-<site>[-<advisory>]-<YYYYMMDD>`."""
    generated_at: datetime
    """When it was written (UTC)."""
    tool_version: str
    """vigil's version, for the CSAF generator / CycloneDX tool / OpenVEX tooling fields."""
    statements: tuple[VexStatement, ...]
    """Every statement, in a stable order (device, then vulnerability)."""


# --- product ids -------------------------------------------------------------------------------------------------


def escape_part(text: str) -> str:
    """Letters, digits, `.` and `-` stay; every other UTF-8 byte becomes `_HH`, so the escaping is invertible."""
    out = []
    for char in text:
        if _UNESCAPED.fullmatch(char):
            out.append(char)
        else:
            out.extend(f"_{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def unescape_part(text: str) -> str | None:
    """The inverse of escape_part; None when `text` is not something escape_part writes."""
    raw = bytearray()
    index = 0
    while index < len(text):
        escaped = _ESCAPE.match(text, index)
        if escaped:
            raw.append(int(escaped.group(1), 16))
            index = escaped.end()
        elif _UNESCAPED.fullmatch(text[index]):
            raw.extend(text[index].encode("ascii"))
            index += 1
        else:
            return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return decoded if escape_part(decoded) == text else None


def product_id(site: str, asset_id: str) -> str:
    """The stable product id of a device: `VIGIL-<site>-<asset id>` (St. Elsewhere, A1: `VIGIL-St._20Elsewhere-A1`)."""
    return f"{PRODUCT_ID_PREFIX}{escape_part(site)}-{escape_part(asset_id)}"


def asset_of_product_id(site: str, value: str) -> str | None:
    """The asset id a product id of this site names, or None (another site's, or not vigil's)."""
    prefix = f"{PRODUCT_ID_PREFIX}{escape_part(site)}-"
    if not value.startswith(prefix) or len(value) == len(prefix):
        return None
    return unescape_part(value[len(prefix) :])


# --- the status detail, and the marker that carries it --------------------------------------------------------


@dataclass(frozen=True)
class VexMarker:
    """What the vigil marker of a statement says."""

    change: StatusChange
    """The exact response status and its detail."""
    advisory: str | None
    """Tracking id of the advisory whose finding the statement was written from."""
    publisher_namespace: str | None
    """Its publisher namespace."""
    vulnerability: str | None
    """The finding's vulnerability key."""


class BadMarker(ValueError):
    """A `vigil:response` marker that does not parse; the message says why."""


def marker_json(statement: VexStatement) -> str:
    """The marker's JSON: compact, sorted keys, so equal statements give equal text."""
    payload: dict[str, Any] = {"status": statement.change.status, "detail": statement.change.detail()}
    vulnerability = statement.vulnerability
    if vulnerability.advisory:
        payload["advisory"] = vulnerability.advisory
        payload["publisher_namespace"] = vulnerability.publisher_namespace
    if vulnerability.key:
        payload["vulnerability"] = vulnerability.key
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def marker_line(statement: VexStatement) -> str:
    return MARKER_PREFIX + marker_json(statement)


def parse_marker_json(text: str) -> VexMarker:
    """Read a marker's JSON; BadMarker says what is wrong with it."""
    try:
        payload = json.loads(text)
        if not isinstance(payload, dict):
            raise TypeError("not a JSON object")
        change = change_from_detail(payload.get("status", ""), payload.get("detail"))
        fields = [payload.get(name) for name in ("advisory", "publisher_namespace", "vulnerability")]
        if any(value is not None and not isinstance(value, str) for value in fields):
            raise TypeError("advisory, publisher_namespace and vulnerability must be strings")
    except (ValueError, TypeError) as error:
        raise BadMarker(f"unreadable vigil marker: {error}") from None
    return VexMarker(change, fields[0], fields[1], fields[2])


def find_marker(text: str | None) -> VexMarker | None:
    """The marker on a line of `text` (CSAF threat details, OpenVEX status_notes), if there is one."""
    for line in (text or "").splitlines():
        if line.startswith(MARKER_PREFIX):
            return parse_marker_json(line[len(MARKER_PREFIX) :])
    return None


def without_marker(text: str | None) -> str | None:
    """The human part of a text that may end in a marker line."""
    kept = [line for line in (text or "").splitlines() if not line.startswith(MARKER_PREFIX)]
    joined = "\n".join(kept).strip()
    return joined or None


# --- words for people ------------------------------------------------------------------------------------------


def status_sentence(statement: VexStatement, site: str) -> str:
    """One sentence on what the site knows of the device (CSAF impact threat, OpenVEX status_notes,
    CycloneDX analysis.detail)."""
    change = statement.change
    if change.status == UNDER_INVESTIGATION:
        text = f"{site} is investigating whether the device is affected."
    elif change.status == AFFECTED:
        text = "The device is affected; no remediation has been applied yet."
    elif change.status == MITIGATED:
        text = f"The device is affected; mitigated: {evidence_summary(change)}."
    elif change.status == REMEDIATION_SCHEDULED:
        text = f"The device is affected; {scheduled_summary(change)}."
    elif change.status == RISK_ACCEPTED:
        text = f"The device is affected; {acceptance_summary(change)}."
    elif change.status == NOT_AFFECTED:
        text = f"The device is not affected: {(change.justification or 'no justification').replace('_', ' ')}."
    else:
        text = f"The device is fixed: {evidence_summary(change)}."
    return f"{text} {change.comment}" if change.comment else text


def evidence_summary(change: StatusChange) -> str:
    if not change.evidence:
        return "no evidence recorded"
    return "; ".join(item.value if item.kind == "text" else f"{item.kind} {item.value}" for item in change.evidence)


def scheduled_summary(change: StatusChange) -> str:
    parts = [f"remediation scheduled for {change.planned_date.isoformat() if change.planned_date else 'a date'}"]
    if change.fco_number:
        parts.append(f"field change order {change.fco_number}")
    if change.vendor_contact:
        parts.append(f"vendor contact {change.vendor_contact}")
    return ", ".join(parts)


def acceptance_summary(change: StatusChange) -> str:
    until = change.expires_at.isoformat() if change.expires_at else "an expiry date"
    return f"risk accepted by {change.owner} until {until}: {change.reason}"


def vigil_remediation(statement: VexStatement) -> VexRemediation | None:
    """vigil's own remediation for an affected status: what the site did or decided (CSAF remediation, CycloneDX
    recommendation/workaround, OpenVEX action_statement)."""
    change = statement.change
    if change.status == MITIGATED:
        return VexRemediation("mitigation", f"Mitigated on this device: {evidence_summary(change)}.")
    if change.status == REMEDIATION_SCHEDULED:
        planned = datetime.combine(change.planned_date, datetime.min.time(), UTC) if change.planned_date else None
        return VexRemediation("vendor_fix", f"Scheduled on this device: {scheduled_summary(change)}.", date=planned)
    if change.status == RISK_ACCEPTED:
        return VexRemediation("no_fix_planned", f"No fix planned for this device: {acceptance_summary(change)}.")
    if change.status == AFFECTED and not statement.remediations:
        return VexRemediation("none_available", "No remediation is known yet for this device.")
    return None


def remediation_text(remediation: VexRemediation) -> str:
    """A remediation as one text: its details, then its URL."""
    return f"{remediation.details} ({remediation.url})" if remediation.url else remediation.details


def action_statement(statement: VexStatement) -> str:
    """Every action remediation of an affected statement as one text (OpenVEX action_statement, CycloneDX
    recommendation)."""
    return " ".join(remediation_text(r) for r in action_remediations(statement))


def action_remediations(statement: VexStatement) -> tuple[VexRemediation, ...]:
    """The advisory's remediations, then vigil's own: the action statement of an affected device."""
    own = vigil_remediation(statement)
    return (*statement.remediations, own) if own else statement.remediations
