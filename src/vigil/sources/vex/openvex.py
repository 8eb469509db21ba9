"""OpenVEX (0.2.0, and the string forms of earlier drafts) -> VEX statements.

There is no OpenVEX schema package for Python, so the fields the specification requires are checked here: the
document's @context, @id, author, timestamp, version and statements; each statement's vulnerability name,
status and products (statements that fail are reported, the rest are read). Each product of a statement is one
statement. vigil's own products carry `@id` `urn:vigil:device:<product id>`; any product's purl qualifiers
`serial_number` and `model_number` identify the device otherwise.
"""

from __future__ import annotations

from typing import Any

from packageurl import PackageURL

from vigil.response.states import AFFECTED, FIXED, JUSTIFICATIONS, NOT_AFFECTED, UNDER_INVESTIGATION
from vigil.response.vex_model import (
    DEVICE_IRI_PREFIX,
    BadMarker,
    VexDevice,
    VexStatement,
    VexVulnerability,
    without_marker,
)
from vigil.sources.vex.records import CVE_PATTERN, SourceFile, VexFile, VexFileError, foreign_change, trusted_marker

FAMILY_OF_STATUS = {
    "affected": AFFECTED,
    "not_affected": NOT_AFFECTED,
    "fixed": FIXED,
    "under_investigation": UNDER_INVESTIGATION,
}
_REQUIRED = {"@id": str, "author": str, "timestamp": str, "version": int, "statements": list}


def read_openvex(doc: dict[str, Any], source: SourceFile) -> VexFile:
    context = doc.get("@context")
    if not isinstance(context, str) or not context.startswith("https://openvex.dev/ns"):
        raise VexFileError(f"{source.name}: /@context: not an OpenVEX document (expected https://openvex.dev/ns/...)")
    for name, kind in _REQUIRED.items():
        value = doc.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise VexFileError(f"{source.name}: /{name}: required by OpenVEX, missing or not a JSON {kind.__name__}")
    statements: list[VexStatement] = []
    problems: list[str] = []
    for index, statement in enumerate(doc["statements"]):
        _read_statement(index, statement, source, statements, problems)
    return VexFile("openvex", tuple(statements), tuple(problems))


def _read_statement(
    index: int, statement: Any, source: SourceFile, statements: list[VexStatement], problems: list[str]
) -> None:
    pointer = f"/statements/{index}"
    if not isinstance(statement, dict):
        problems.append(f"{pointer}: not a JSON object (ignored)")
        return
    name = _vulnerability_name(statement.get("vulnerability"))
    family = FAMILY_OF_STATUS.get(statement.get("status") or "")
    products = statement.get("products")
    if name is None:
        problems.append(f"{pointer}/vulnerability: no vulnerability name (ignored)")
        return
    if family is None:
        problems.append(f"{pointer}/status: {statement.get('status')!r} is not an OpenVEX status (ignored)")
        return
    if not isinstance(products, list) or not products:
        problems.append(f"{pointer}/products: no products (ignored)")
        return
    notes = statement.get("status_notes") if isinstance(statement.get("status_notes"), str) else None
    try:
        marker = trusted_marker(notes, family)
    except BadMarker as error:
        problems.append(f"{pointer}/status_notes: {error} (ignored)")
        return
    cve = name.upper() if CVE_PATTERN.match(name) else None
    for position, product in enumerate(products):
        here = f"{pointer}/products/{position}"
        device = _device(product, here)
        if device is None:
            problems.append(f"{here}: a product needs an @id or identifiers (ignored)")
            continue
        if marker is not None:
            vuln = VexVulnerability(cve, marker.vulnerability or name, marker.advisory, marker.publisher_namespace)
            statements.append(VexStatement(device, vuln, marker.change, pointer=here))
            continue
        justification = statement.get("justification")
        text = statement.get("impact_statement") if family == NOT_AFFECTED else without_marker(notes)
        change = foreign_change(
            family,
            justification if justification in JUSTIFICATIONS else None,
            text if isinstance(text, str) else None,
            source,
        )
        statements.append(VexStatement(device, VexVulnerability(cve, name), change, pointer=here))


def _vulnerability_name(value: Any) -> str | None:
    if isinstance(value, str) and value:  # drafts before 0.2.0
        return value
    if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"]:
        return str(value["name"])
    return None


def _device(product: Any, pointer: str) -> VexDevice | None:
    if isinstance(product, str):  # drafts before 0.2.0: the product is its identifier
        product = {"@id": product}
    if not isinstance(product, dict):
        return None
    iri = product.get("@id") if isinstance(product.get("@id"), str) else None
    identifiers: dict[str, Any] = product["identifiers"] if isinstance(product.get("identifiers"), dict) else {}
    purl_text = identifiers.get("purl") or (iri if iri and iri.startswith("pkg:") else None)
    if iri is None and purl_text is None:
        return None
    qualifiers: dict[str, str] = {}
    purl: PackageURL | None = None
    if isinstance(purl_text, str):
        try:
            purl = PackageURL.from_string(purl_text)
            qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
        except ValueError:
            purl = None
    product_id = iri.removeprefix(DEVICE_IRI_PREFIX) if iri else purl_text
    return VexDevice(
        product_id=product_id,
        manufacturer=purl.namespace if purl else None,
        model=purl.name if purl else None,
        version=purl.version if purl else None,
        serial_number=qualifiers.get("serial_number"),
        model_number=qualifiers.get("model_number"),
        pointer=pointer,
    )
