"""An OpenVEX 0.2.0 document from VEX statements (plain JSON-LD: no Python library implements OpenVEX).

One statement per (device, vulnerability). The product's `@id` is `urn:vigil:device:<product id>` and its
identifiers carry a generic purl with the model and serial number as qualifiers (OpenVEX identifiers are purl
and CPE only). not_affected has the justification (OpenVEX's labels are CSAF's) and an impact_statement;
affected has the action_statement (the advisory's remediations, then vigil's own); status_notes says the status
in words and ends with the vigil marker line.
"""

from __future__ import annotations

from typing import Any

from vigil.outputs.timestamps import iso_utc
from vigil.outputs.vex_cyclonedx import device_purl
from vigil.response.states import AFFECTED, NOT_AFFECTED
from vigil.response.vex_model import (
    DEVICE_IRI_PREFIX,
    OPENVEX_STATUS,
    VexDevice,
    VexDocument,
    VexStatement,
    action_statement,
    marker_line,
    status_sentence,
)

CONTEXT = "https://openvex.dev/ns/v0.2.0"


def openvex(document: VexDocument) -> dict[str, Any]:
    """The OpenVEX document as JSON-ready data."""
    return {
        "@context": CONTEXT,
        "@id": f"{document.publisher.namespace.rstrip('/')}/vex/{document.tracking_id}",
        "author": document.publisher.name,
        "role": "Healthcare delivery organisation (device operator)",
        "timestamp": iso_utc(document.generated_at),
        "version": 1,
        "tooling": f"vigil {document.tool_version}",
        "statements": [_statement(s, document.site) for s in document.statements],
    }


def device_iri(device: VexDevice) -> str:
    return f"{DEVICE_IRI_PREFIX}{device.product_id}"


def _statement(statement: VexStatement, site: str) -> dict[str, Any]:
    vulnerability = statement.vulnerability
    name = vulnerability.cve or str(vulnerability.key)
    vuln: dict[str, Any] = {"name": name}
    if vulnerability.title:
        vuln["description"] = vulnerability.title
    if not vulnerability.cve and vulnerability.advisory:
        vuln["aliases"] = [f"{vulnerability.advisory}:{vulnerability.key}"]
    device = statement.device
    data: dict[str, Any] = {
        "vulnerability": vuln,
        "products": [{"@id": device_iri(device), "identifiers": {"purl": device_purl(device).to_string()}}],
        "status": OPENVEX_STATUS[statement.family],
    }
    if statement.first_issued is not None:
        data["timestamp"] = iso_utc(statement.first_issued)
    if statement.last_updated is not None:
        data["last_updated"] = iso_utc(statement.last_updated)
    data["status_notes"] = f"{status_sentence(statement, site)}\n{marker_line(statement)}"
    if statement.status == NOT_AFFECTED:
        if statement.change.justification:
            data["justification"] = statement.change.justification
        data["impact_statement"] = status_sentence(statement, site)
    if statement.family == AFFECTED:
        data["action_statement"] = action_statement(statement)
        if statement.last_updated is not None:
            data["action_statement_timestamp"] = iso_utc(statement.last_updated)
    return data
