"""A CSAF 2.0 VEX document (profile `csaf_vex`, §4.5) from VEX statements.

Products are the site's devices: branches vendor -> product_name (model) -> product_version (release), one
product per device with vigil's product id and the device's serial and model numbers as identification helper.
A device with no known release, or one whose inventory text reads like a range ("5.x", "prior to 2.0", which
CSAF test 6.1.31 refuses in a product_version), hangs directly under its own product_name branch (a branch
carries sub-branches or a product, never both); its product name still says the release.

Per vulnerability (one per CVE; a vulnerability without CVE keeps its advisory's key in `ids`):
- product_status: the VEX status of each device (6.1.27.7 allows only the four VEX lists);
- flags: the justification label of each not_affected device (what 6.1.27.9 asks for);
- threats: one `impact` statement per device, with the status in words and the vigil marker line;
- remediations: for affected devices the advisory's own, then vigil's (6.1.27.10 asks one per device).
Equal remediations of several devices are written once with all their product ids.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from vigil.outputs.timestamps import iso_utc
from vigil.response.states import AFFECTED, NOT_AFFECTED
from vigil.response.vex_model import (
    CSAF_PRODUCT_STATUS,
    VexDevice,
    VexDocument,
    VexRemediation,
    VexStatement,
    action_remediations,
    marker_line,
    status_sentence,
)

# What CSAF test 6.1.31 reads as a version range in a product_version name.
_RANGE_LIKE = re.compile(
    r"^[<>]|\b(?:prior\s+to|before|and\s+earlier|and\s+later|through)\b|^\s*all\s*$|\.[xX*](?:\b|$)", re.I
)
UNKNOWN_VENDOR = "Unknown manufacturer"
UNKNOWN_MODEL = "Unknown model"


def csaf_vex(document: VexDocument) -> dict[str, Any]:
    """The CSAF document as JSON-ready data."""
    return {
        "document": _document(document),
        "product_tree": {"branches": _branches(document.statements)},
        "vulnerabilities": [
            _vulnerability(group, document.site) for group in _by_vulnerability(document.statements).values()
        ],
    }


def _document(document: VexDocument) -> dict[str, Any]:
    when = iso_utc(document.generated_at)
    scope = f" for advisory {document.advisory}" if document.advisory else ""
    return {
        "category": "csaf_vex",
        "csaf_version": "2.0",
        "lang": "en",
        "title": f"VEX of {document.site}{scope}",
        "publisher": {"category": "user", "name": document.publisher.name, "namespace": document.publisher.namespace},
        # Which devices of a hospital are affected is sensitive: share on a need-to-know basis by default.
        "distribution": {"tlp": {"label": "AMBER"}},
        "notes": [
            {
                "category": "summary",
                "title": "About this document",
                "text": (
                    f"The response status of every device of {document.site}{scope} for each vulnerability vigil "
                    "matched to it, as recorded by the site. Products are devices, identified by serial and model "
                    "number. Lines starting with `vigil:response` carry the exact status for re-import."
                ),
            }
        ],
        "tracking": {
            "id": document.tracking_id,
            "status": "final",
            "version": "1",
            "initial_release_date": when,
            "current_release_date": when,
            "revision_history": [{"date": when, "number": "1", "summary": "Exported by vigil."}],
            "generator": {"date": when, "engine": {"name": "vigil", "version": document.tool_version}},
        },
    }


# --- product tree ----------------------------------------------------------------------------------------------


def _branches(statements: tuple[VexStatement, ...]) -> list[dict[str, Any]]:
    devices = {s.device.product_id: s.device for s in statements}
    tree: dict[str, dict[str, list[VexDevice]]] = defaultdict(lambda: defaultdict(list))
    for device in sorted(devices.values(), key=lambda d: str(d.product_id)):
        tree[device.manufacturer or UNKNOWN_VENDOR][device.model or UNKNOWN_MODEL].append(device)
    vendors = []
    for vendor, models in sorted(tree.items()):
        model_branches: list[dict[str, Any]] = []
        for model, members in sorted(models.items()):
            versioned = [d for d in members if d.version and not _RANGE_LIKE.search(d.version)]
            stated = {d.product_id for d in versioned}
            if versioned:
                model_branches.append(
                    {
                        "category": "product_name",
                        "name": model,
                        "branches": [
                            {"category": "product_version", "name": d.version, "product": _product(d)}
                            for d in versioned
                        ],
                    }
                )
            model_branches.extend(
                {"category": "product_name", "name": model, "product": _product(d)}
                for d in members
                if d.product_id not in stated
            )
        vendors.append({"category": "vendor", "name": vendor, "branches": model_branches})
    return vendors


def _product(device: VexDevice) -> dict[str, Any]:
    words = [device.manufacturer, device.model, device.version, f"(asset {device.asset_id})"]
    product: dict[str, Any] = {"name": " ".join(w for w in words if w), "product_id": device.product_id}
    helper: dict[str, Any] = {}
    if device.serial_number:
        helper["serial_numbers"] = [device.serial_number]
    if device.model_number:
        helper["model_numbers"] = [device.model_number]
    if helper:
        product["product_identification_helper"] = helper
    return product


# --- vulnerabilities -------------------------------------------------------------------------------------------


def _by_vulnerability(statements: tuple[VexStatement, ...]) -> dict[tuple[str, ...], list[VexStatement]]:
    groups: dict[tuple[str, ...], list[VexStatement]] = {}
    for statement in statements:
        v = statement.vulnerability
        key = (v.cve,) if v.cve else (str(v.advisory), str(v.key))
        groups.setdefault(key, []).append(statement)
    return dict(sorted(groups.items()))


def _vulnerability(statements: list[VexStatement], site: str) -> dict[str, Any]:
    first = statements[0].vulnerability
    entry: dict[str, Any] = {}
    if first.cve:
        entry["cve"] = first.cve
    else:
        entry["ids"] = [{"system_name": str(first.advisory), "text": str(first.key)}]
    sources = sorted({str(s.vulnerability.advisory) for s in statements if s.vulnerability.advisory})
    title = next((s.vulnerability.title for s in statements if s.vulnerability.title), None) or first.label
    published = f" Published in {', '.join(sources)}." if sources else ""
    entry["notes"] = [{"category": "description", "title": "Vulnerability", "text": f"{title}.{published}"}]

    status: dict[str, list[str]] = defaultdict(list)
    flags: dict[str, list[str]] = defaultdict(list)
    remediations: dict[VexRemediation, list[str]] = {}
    for statement in statements:
        pid = str(statement.device.product_id)
        status[CSAF_PRODUCT_STATUS[statement.family]].append(pid)
        if statement.status == NOT_AFFECTED and statement.change.justification:
            flags[statement.change.justification].append(pid)
        if statement.family == AFFECTED:
            for remediation in action_remediations(statement):
                remediations.setdefault(remediation, []).append(pid)
    entry["product_status"] = {name: sorted(set(pids)) for name, pids in sorted(status.items())}
    if flags:
        entry["flags"] = [{"label": label, "product_ids": sorted(set(pids))} for label, pids in sorted(flags.items())]
    entry["threats"] = [
        {
            "category": "impact",
            "details": f"{status_sentence(s, site)}\n{marker_line(s)}",
            "product_ids": [str(s.device.product_id)],
        }
        for s in statements
    ]
    if remediations:
        entry["remediations"] = [_remediation(r, sorted(set(pids))) for r, pids in remediations.items()]
    return entry


def _remediation(remediation: VexRemediation, product_ids: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"category": remediation.category, "details": remediation.details}
    if remediation.date is not None:
        data["date"] = iso_utc(remediation.date)
    if remediation.url:
        data["url"] = remediation.url
    data["product_ids"] = product_ids
    return data
