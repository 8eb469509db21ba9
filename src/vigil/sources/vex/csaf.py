"""CSAF 2.0 VEX (`csaf_vex`) -> VEX statements.

The document must pass the CSAF 2.0 JSON schema (checked by the `csaf` package, as advisories are); failed
mandatory tests are tolerated (what they catch, such as an undefined product id, surfaces as an unknown
product). Each product of the four VEX product_status lists is one statement. A product's serial and model
number come from its identification helper; its manufacturer, model and release from its branch path.
The justification of a known_not_affected product is the flag that covers it (directly or through a product
group); the statement's words are its impact threat, whose `vigil:response` line, when present and consistent,
gives the exact status.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vigil.response.states import AFFECTED, FIXED, JUSTIFICATIONS, NOT_AFFECTED, UNDER_INVESTIGATION
from vigil.response.vex_model import BadMarker, VexDevice, VexStatement, VexVulnerability, without_marker
from vigil.sources.csaf.errors import RejectedDocument
from vigil.sources.csaf.validate import check
from vigil.sources.vex.records import SourceFile, VexFile, VexFileError, foreign_change, trusted_marker

FAMILY_OF_LIST = {
    "known_affected": AFFECTED,
    "known_not_affected": NOT_AFFECTED,
    "fixed": FIXED,
    "under_investigation": UNDER_INVESTIGATION,
}
_BRANCH_FIELDS = {"vendor": "manufacturer", "product_name": "model", "product_version": "version"}


def read_csaf_vex(doc: dict[str, Any], source: SourceFile) -> VexFile:
    _check(doc, source.name)
    devices = dict(_devices(doc.get("product_tree") or {}))
    groups = _groups(doc.get("product_tree") or {})
    statements: list[VexStatement] = []
    problems: list[str] = []
    for index, vulnerability in enumerate(doc.get("vulnerabilities") or ()):
        _read_vulnerability(index, vulnerability, devices, groups, source, statements, problems)
    return VexFile("csaf", tuple(statements), tuple(problems))


def _check(doc: dict[str, Any], name: str) -> None:
    document: dict[str, Any] = doc["document"] if isinstance(doc.get("document"), dict) else {}
    version = document.get("csaf_version")
    if version != "2.0":
        raise VexFileError(f"{name}: CSAF {version} VEX is not supported (only CSAF 2.0 csaf_vex documents)")
    try:
        check(doc, "2.0")
    except RejectedDocument as error:
        raise VexFileError(f"{name}: {error}") from None
    if document.get("category") != "csaf_vex":
        raise VexFileError(
            f"{name}: not a VEX document: category {document.get('category')!r}, expected 'csaf_vex' "
            "(advisories are imported with `vigil advisories import`)"
        )


def _devices(tree: dict[str, Any]) -> Iterator[tuple[str, VexDevice]]:
    yield from _branch_devices(tree.get("branches") or [], "/product_tree/branches", {})
    for index, product in enumerate(tree.get("full_product_names") or ()):
        yield _device(product, f"/product_tree/full_product_names/{index}", {})
    for index, relationship in enumerate(tree.get("relationships") or ()):
        yield _device(relationship["full_product_name"], f"/product_tree/relationships/{index}/full_product_name", {})


def _branch_devices(branches: list[Any], pointer: str, path: dict[str, str]) -> Iterator[tuple[str, VexDevice]]:
    for index, branch in enumerate(branches):
        here = dict(path)
        if branch["category"] in _BRANCH_FIELDS:
            here[_BRANCH_FIELDS[branch["category"]]] = branch["name"]
        if "product" in branch:
            yield _device(branch["product"], f"{pointer}/{index}/product", here)
        else:
            yield from _branch_devices(branch.get("branches") or [], f"{pointer}/{index}/branches", here)


def _device(product: dict[str, Any], pointer: str, path: dict[str, str]) -> tuple[str, VexDevice]:
    helper = product.get("product_identification_helper") or {}
    serials, models = helper.get("serial_numbers") or [None], helper.get("model_numbers") or [None]
    device = VexDevice(
        product_id=product["product_id"],
        manufacturer=path.get("manufacturer"),
        model=path.get("model"),
        version=path.get("version"),
        serial_number=serials[0],
        model_number=models[0],
        pointer=pointer,
    )
    return product["product_id"], device


def _groups(tree: dict[str, Any]) -> dict[str, list[str]]:
    return {group["group_id"]: list(group["product_ids"]) for group in tree.get("product_groups") or ()}


def _covered(entry: dict[str, Any], groups: dict[str, list[str]]) -> set[str]:
    ids = set(entry.get("product_ids") or ())
    for group_id in entry.get("group_ids") or ():
        ids.update(groups.get(group_id, ()))
    return ids


def _read_vulnerability(
    index: int,
    vulnerability: dict[str, Any],
    devices: dict[str, VexDevice],
    groups: dict[str, list[str]],
    source: SourceFile,
    statements: list[VexStatement],
    problems: list[str],
) -> None:
    cve = vulnerability.get("cve")
    ids = vulnerability.get("ids") or []
    key = cve or (f"{ids[0]['system_name']}:{ids[0]['text']}" if ids else None)
    if key is None:
        problems.append(f"/vulnerabilities/{index}: no cve and no ids: the vulnerability cannot be named (ignored)")
        return
    flags = {pid: flag["label"] for flag in vulnerability.get("flags") or () for pid in _covered(flag, groups)}
    impacts = {
        pid: threat["details"]
        for threat in vulnerability.get("threats") or ()
        if threat["category"] == "impact"
        for pid in _covered(threat, groups)
    }
    for name, product_ids in (vulnerability.get("product_status") or {}).items():
        family = FAMILY_OF_LIST.get(name)
        if family is None:
            problems.append(f"/vulnerabilities/{index}/product_status/{name}: not a VEX status (ignored)")
            continue
        for position, pid in enumerate(product_ids):
            pointer = f"/vulnerabilities/{index}/product_status/{name}/{position}"
            text = impacts.get(pid)
            try:
                marker = trusted_marker(text, family)
            except BadMarker as error:
                problems.append(f"{pointer}: {error} (ignored)")
                continue
            device = devices.get(pid) or VexDevice(product_id=pid)
            if marker is not None:
                vuln = VexVulnerability(cve, marker.vulnerability or key, marker.advisory, marker.publisher_namespace)
                statements.append(VexStatement(device, vuln, marker.change, pointer=pointer))
                continue
            justification = flags.get(pid) if flags.get(pid) in JUSTIFICATIONS else None
            change = foreign_change(family, justification, without_marker(text), source)
            statements.append(VexStatement(device, VexVulnerability(cve, key), change, pointer=pointer))
