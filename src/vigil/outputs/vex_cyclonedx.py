"""A CycloneDX 1.6 VEX (a BOM of the site's devices with one vulnerability entry per statement), built with
cyclonedx-python-lib so the library's serializer decides the JSON shape.

Components are devices (`type: device`), bom-ref = vigil's product id, with a generic purl whose qualifiers carry
the model and serial number, and the same as properties `vigil:model_number` / `vigil:serial_number`. Each
statement is one vulnerability (CycloneDX analysis is per vulnerability entry, not per affected component) whose
`affects` names the device: analysis.state from the VEX status, justification mapped to CycloneDX's enum,
analysis.response as a hint for the affected statuses, and the property `vigil:response` with the marker JSON.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.impact_analysis import ImpactAnalysisJustification, ImpactAnalysisResponse, ImpactAnalysisState
from cyclonedx.model.tool import ToolRepository
from cyclonedx.model.vulnerability import BomTarget, Vulnerability, VulnerabilityAnalysis, VulnerabilitySource
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from vigil.response.states import AFFECTED, MITIGATED
from vigil.response.vex_model import (
    CYCLONEDX_JUSTIFICATION,
    CYCLONEDX_RESPONSE,
    CYCLONEDX_STATE,
    MARKER_PROPERTY,
    VexDevice,
    VexDocument,
    VexStatement,
    action_remediations,
    action_statement,
    marker_json,
    status_sentence,
)

SERIAL_PROPERTY = "vigil:serial_number"
MODEL_NUMBER_PROPERTY = "vigil:model_number"
ASSET_PROPERTY = "vigil:asset_id"


def cyclonedx_vex(document: VexDocument) -> str:
    """The BOM as CycloneDX 1.6 JSON text."""
    devices = {s.device.product_id: s.device for s in document.statements}
    bom = Bom(
        # Deterministic, like the CSAF tracking id: the same site, scope and day give the same serial number.
        serial_number=uuid5(NAMESPACE_URL, f"{document.publisher.namespace}/vex/{document.tracking_id}"),
        metadata=BomMetaData(
            timestamp=document.generated_at,
            supplier=OrganizationalEntity(name=document.publisher.name, urls=[XsUri(document.publisher.namespace)]),
            tools=ToolRepository(
                components=[Component(type=ComponentType.APPLICATION, name="vigil", version=document.tool_version)]
            ),
            properties=[Property(name="vigil:site", value=document.site)]
            + ([Property(name="vigil:advisory", value=document.advisory)] if document.advisory else []),
        ),
        components=[_component(device) for device in devices.values()],
        vulnerabilities=[_vulnerability(s, document.site) for s in document.statements],
    )
    return JsonV1Dot6(bom).output_as_string(indent=2)


def device_purl(device: VexDevice) -> PackageURL:
    """`pkg:generic/<manufacturer>/<model>@<release>?model_number=...&serial_number=...` (OpenVEX uses it too)."""
    qualifiers = {}
    if device.model_number:
        qualifiers["model_number"] = device.model_number
    if device.serial_number:
        qualifiers["serial_number"] = device.serial_number
    return PackageURL(
        type="generic",
        namespace=device.manufacturer or None,
        name=device.model or str(device.asset_id),
        version=device.version or None,
        qualifiers=qualifiers or None,
    )


def _component(device: VexDevice) -> Component:
    properties = [Property(name=ASSET_PROPERTY, value=str(device.asset_id))]
    if device.model_number:
        properties.append(Property(name=MODEL_NUMBER_PROPERTY, value=device.model_number))
    if device.serial_number:
        properties.append(Property(name=SERIAL_PROPERTY, value=device.serial_number))
    return Component(
        type=ComponentType.DEVICE,
        bom_ref=str(device.product_id),
        name=device.model or str(device.asset_id),
        version=device.version,
        manufacturer=OrganizationalEntity(name=device.manufacturer) if device.manufacturer else None,
        purl=device_purl(device),
        properties=properties,
    )


def _vulnerability(statement: VexStatement, site: str) -> Vulnerability:
    change = statement.change
    justification = CYCLONEDX_JUSTIFICATION.get(change.justification or "")
    vulnerability = statement.vulnerability
    actions = action_remediations(statement) if statement.family == AFFECTED else ()
    return Vulnerability(
        bom_ref=f"{statement.device.product_id}/{vulnerability.label}",
        id=vulnerability.cve or vulnerability.key,
        source=VulnerabilitySource(name=vulnerability.advisory) if vulnerability.advisory else None,
        description=vulnerability.title,
        recommendation=action_statement(statement) if actions else None,
        workaround=next((r.details for r in actions if r.category == "mitigation"), None)
        if change.status == MITIGATED
        else None,
        analysis=VulnerabilityAnalysis(
            state=ImpactAnalysisState(CYCLONEDX_STATE[statement.family]),
            justification=ImpactAnalysisJustification(justification) if justification else None,
            responses=[ImpactAnalysisResponse(r) for r in CYCLONEDX_RESPONSE.get(change.status, ())],
            detail=status_sentence(statement, site),
            first_issued=statement.first_issued,
            last_updated=statement.last_updated,
        ),
        affects=[BomTarget(ref=str(statement.device.product_id))],
        properties=[Property(name=MARKER_PROPERTY, value=marker_json(statement))],
    )
