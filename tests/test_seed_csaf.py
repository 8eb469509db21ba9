"""The founding Philips advisory, transcribed precisely into CSAF 2.0 (demo/README.md)."""

from __future__ import annotations

import json
from itertools import product
from typing import Any

import pytest

from conftest import ROOT, Cli
from vigil.sources.csaf.validate import check

SEED_PRECISE = ROOT / "demo" / "vendor-advisories" / "philips-2021-01-14-interventional-ipmi.json"
TRACKING_ID = "PHILIPS-2021-01-14-IPMI"
TWELVE_NCS = ["4598 009 39471", "4598 009 39481", "4598 009 70861", "4598 009 98531"]
SOFTWARE = [
    ("Interventional Workspot", "1.3.2"),
    ("Interventional Workspot", "1.4.0"),
    ("Interventional Workspot", "1.4.1"),
    ("Interventional Workspot", "1.4.3"),
    ("Interventional Workspot", "1.4.5"),
    ("Coronary Tools/Dynamic Coronary Roadmap/Stentboost Live", "1.0"),
    ("ViewForum", "6.3V1L10"),
]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SEED_PRECISE.read_text(encoding="utf-8"))
    return loaded


def _leaves(branches: list[dict[str, Any]], path: tuple[tuple[str, str], ...] = ()) -> list[tuple[tuple, dict]]:
    found: list[tuple[tuple, dict]] = []
    for branch in branches:
        here = (*path, (branch["category"], branch["name"]))
        if "product" in branch:
            found.append((here, branch["product"]))
        found.extend(_leaves(branch.get("branches", []), here))
    return found


def _hardware(doc: dict[str, Any]) -> dict[str, str]:
    """model number -> product id of the leaves that carry model numbers."""
    result = {}
    for _path, prod in _leaves(doc["product_tree"]["branches"]):
        for number in prod.get("product_identification_helper", {}).get("model_numbers", []):
            result[number] = prod["product_id"]
    return result


def _software(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(product_name, product_version) -> product id of the version leaves."""
    result = {}
    for path, prod in _leaves(doc["product_tree"]["branches"]):
        categories = dict(path)
        if "product_version" in categories:
            result[(categories["product_name"], categories["product_version"])] = prod["product_id"]
    return result


def test_passes_schema_and_mandatory_tests(doc: dict[str, Any]) -> None:
    assert check(doc, "2.0") == ()


def test_header_is_the_vendor(doc: dict[str, Any]) -> None:
    document = doc["document"]
    assert document["category"] == "csaf_security_advisory"
    assert document["publisher"] == {"category": "vendor", "name": "Philips", "namespace": "https://www.philips.com"}
    tracking = document["tracking"]
    assert (tracking["id"], tracking["version"], tracking["status"]) == (TRACKING_ID, "1", "final")
    assert tracking["initial_release_date"].startswith("2021-01-14")
    assert tracking["current_release_date"].startswith("2021-01-14")
    assert [r["number"] for r in tracking["revision_history"]] == ["1"]


def test_four_workstations_with_their_12nc(doc: dict[str, Any]) -> None:
    leaves = _leaves(doc["product_tree"]["branches"])
    hardware = [(path, p) for path, p in leaves if "product_identification_helper" in p]
    assert len(hardware) == 4
    assert [p["product_identification_helper"] for _, p in hardware] == [{"model_numbers": [n]} for n in TWELVE_NCS]
    for path, _ in hardware:
        assert path[0] == ("vendor", "Philips")
        assert [c for c, _ in path] == ["vendor", "product_family", "product_name"]  # a 12NC is not a version


def test_seven_software_releases(doc: dict[str, Any]) -> None:
    leaves = _leaves(doc["product_tree"]["branches"])
    software = [p for path, p in leaves if path[-1][0] == "product_version"]
    assert len(software) == 7
    assert sorted(_software(doc)) == sorted(SOFTWARE)
    assert len(leaves) == 11


def test_28_installed_on_relationships_cover_every_pair(doc: dict[str, Any]) -> None:
    relationships = doc["product_tree"]["relationships"]
    assert len(relationships) == 28
    assert {r["category"] for r in relationships} == {"installed_on"}
    pairs = {(r["product_reference"], r["relates_to_product_reference"]) for r in relationships}
    assert pairs == set(product(_software(doc).values(), _hardware(doc).values()))
    named = {r["full_product_name"]["name"] for r in relationships}
    assert "Interventional Workspot 1.4.5 installed on Haswell workstation 4598 009 39471" in named


def test_only_the_combinations_are_affected(doc: dict[str, Any]) -> None:
    combinations = [r["full_product_name"]["product_id"] for r in doc["product_tree"]["relationships"]]
    [vuln] = doc["vulnerabilities"]
    assert vuln["cve"] == "CVE-2020-27298"
    assert vuln["cwe"]["id"] == "CWE-78"
    assert vuln["product_status"] == {"known_affected": combinations}
    [score] = vuln["scores"]
    assert score["cvss_v3"]["vectorString"] == "CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    assert (score["cvss_v3"]["baseScore"], score["cvss_v3"]["baseSeverity"]) == (6.5, "MEDIUM")
    assert score["products"] == combinations


def test_remediations_mitigation_and_vendor_fix(doc: dict[str, Any]) -> None:
    combinations = {r["full_product_name"]["product_id"] for r in doc["product_tree"]["relationships"]}
    remediations = {r["category"]: r for r in doc["vulnerabilities"][0]["remediations"]}
    assert set(remediations) == {"mitigation", "vendor_fix"}
    assert "IPMI password" in remediations["mitigation"]["details"]
    assert "FCO72200452" in remediations["vendor_fix"]["details"]
    assert "1-800-722-9377" in remediations["vendor_fix"]["details"]
    for remediation in remediations.values():
        assert set(remediation["product_ids"]) == combinations


def test_imports_and_shows_through_the_cli(cli: Cli) -> None:
    imported = cli("advisories", "import", "--quiet", str(SEED_PRECISE))
    assert imported.code == 0, imported.stderr
    assert imported.stdout.splitlines()[0] == "imported 1, unchanged 0, rejected 0"

    shown = cli("advisories", "show", TRACKING_ID, "--format", "json")
    assert shown.code == 0, shown.stderr
    advisory = json.loads(shown.stdout)
    assert advisory["publisher_category"] == "vendor"
    assert advisory["quality_flags"] == []
    assert len(advisory["relationships"]) == 28
    assert {r["category"] for r in advisory["relationships"]} == {"installed_on"}
    model_numbers = sorted(
        h["value"] for p in advisory["products"] for h in p["identification_helpers"] if h["kind"] == "model_number"
    )
    assert model_numbers == TWELVE_NCS
    [vuln] = advisory["vulnerabilities"]
    assert sorted(r["category"] for r in vuln["remediations"]) == ["mitigation", "vendor_fix"]
