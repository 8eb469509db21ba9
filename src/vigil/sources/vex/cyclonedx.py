"""CycloneDX 1.4-1.6 VEX (JSON) -> VEX statements.

The BOM must pass the CycloneDX schema of its specVersion: the same check the SBOM reader makes
(sources/inventory/cyclonedx.py, which explains why not the library's own validator). Each `affects` entry of a
vulnerability with an analysis is one statement. The product is the component the ref names (a bom-ref here,
or the fragment of a BOM-Link `urn:cdx:...#bom-ref`), else the ref itself as a product id. Serial and model
number come from the component's `vigil:serial_number` / `vigil:model_number` properties, else from its purl's
`serial_number` / `model_number` qualifiers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from packageurl import PackageURL

from vigil.response.states import AFFECTED, FIXED, NOT_AFFECTED, UNDER_INVESTIGATION
from vigil.response.vex_model import FROM_CYCLONEDX_JUSTIFICATION, MARKER_PROPERTY, BadMarker, VexDevice, VexStatement
from vigil.response.vex_model import VexVulnerability as Vuln
from vigil.sources.inventory.cyclonedx import SbomError, read_cyclonedx
from vigil.sources.vex.records import (
    CVE_PATTERN,
    SourceFile,
    VexFile,
    VexFileError,
    foreign_change,
    trusted_marker_json,
)

FAMILY_OF_STATE = {
    "resolved": FIXED,
    "resolved_with_pedigree": FIXED,
    "exploitable": AFFECTED,
    "in_triage": UNDER_INVESTIGATION,
    "not_affected": NOT_AFFECTED,
    "false_positive": NOT_AFFECTED,
}


def read_cyclonedx_vex(raw: bytes, doc: dict[str, Any], source: SourceFile, max_bytes: int) -> VexFile:
    try:
        read_cyclonedx(raw, source.name, max_bytes)  # schema check; the document is read below
    except SbomError as error:
        raise VexFileError(str(error)) from None
    vulnerabilities = doc.get("vulnerabilities") or []
    if not vulnerabilities:
        raise VexFileError(f"{source.name}: not a VEX: the BOM has no vulnerabilities")
    devices = dict(_components(doc))
    statements: list[VexStatement] = []
    problems: list[str] = []
    for index, vulnerability in enumerate(vulnerabilities):
        _read_vulnerability(index, vulnerability, devices, source, statements, problems)
    return VexFile("cyclonedx", tuple(statements), tuple(problems))


def _components(doc: dict[str, Any]) -> Iterator[tuple[str, VexDevice]]:
    subject = (doc.get("metadata") or {}).get("component")
    if subject:
        yield from _walk([subject], "/metadata/component", single=True)
    yield from _walk(doc.get("components") or [], "/components")


def _walk(components: list[Any], pointer: str, single: bool = False) -> Iterator[tuple[str, VexDevice]]:
    for index, component in enumerate(components):
        here = pointer if single else f"{pointer}/{index}"
        if component.get("bom-ref"):
            yield component["bom-ref"], _device(component, here)
        yield from _walk(component.get("components") or [], f"{here}/components")


def _device(component: dict[str, Any], pointer: str) -> VexDevice:
    properties = {p["name"]: p.get("value") for p in component.get("properties") or ()}
    qualifiers: dict[str, str] = {}
    if component.get("purl"):
        try:
            parsed = PackageURL.from_string(component["purl"]).qualifiers
            qualifiers = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            qualifiers = {}
    manufacturer = (component.get("manufacturer") or {}).get("name") or (component.get("supplier") or {}).get("name")
    return VexDevice(
        product_id=component["bom-ref"],
        manufacturer=manufacturer,
        model=component.get("name"),
        version=component.get("version"),
        serial_number=properties.get("vigil:serial_number") or qualifiers.get("serial_number"),
        model_number=properties.get("vigil:model_number") or qualifiers.get("model_number"),
        pointer=pointer,
    )


def _read_vulnerability(
    index: int,
    vulnerability: dict[str, Any],
    devices: dict[str, VexDevice],
    source: SourceFile,
    statements: list[VexStatement],
    problems: list[str],
) -> None:
    pointer = f"/vulnerabilities/{index}"
    name = vulnerability.get("id")
    analysis = vulnerability.get("analysis") or {}
    if not name:
        problems.append(f"{pointer}: no id: the vulnerability cannot be named (ignored)")
        return
    family = FAMILY_OF_STATE.get(analysis.get("state", ""))
    if family is None:
        problems.append(f"{pointer}/analysis: no analysis.state: nothing is stated (ignored)")
        return
    properties = [p.get("value") for p in vulnerability.get("properties") or () if p["name"] == MARKER_PROPERTY]
    try:
        marker = trusted_marker_json(properties[0] if properties else None, family)
    except BadMarker as error:
        problems.append(f"{pointer}/properties: {error} (ignored)")
        return
    cve = name.upper() if CVE_PATTERN.match(name) else None
    for position, affected in enumerate(vulnerability.get("affects") or ()):
        ref = affected["ref"]
        device = devices.get(ref) or devices.get(ref.rpartition("#")[2]) or VexDevice(product_id=ref)
        here = f"{pointer}/affects/{position}"
        if marker is not None:
            vuln = Vuln(cve, marker.vulnerability or name, marker.advisory, marker.publisher_namespace)
            statements.append(VexStatement(device, vuln, marker.change, pointer=here))
            continue
        justification = FROM_CYCLONEDX_JUSTIFICATION.get(analysis.get("justification", ""))
        change = foreign_change(family, justification, analysis.get("detail"), source)
        statements.append(VexStatement(device, Vuln(cve, name), change, pointer=here))
