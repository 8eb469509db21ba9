"""CSAF 2.1 documents import, and extraction reads 2.1 fields; extraction of the 2.0 seed advisory in detail."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import SEED_CSAF, TEST_DATA, Cli
from vigil.services.advisory_import import import_candidates
from vigil.services.advisory_read import show_advisory
from vigil.services.store import Store
from vigil.sources.csaf.document import extract
from vigil.sources.csaf.files import discover
from vigil.sources.csaf.validate import check

CSAF_21 = TEST_DATA / "csaf-2.1"
EXAMPLES = {
    "bsi-2022-0001.json": "BSI-2022-0001",
    "sec-vex-2022-0001.json": "SEC-VEX-2022-0001",
    "2022-evd-uc-04-001.json": "2022-EVD-UC-04-001",
}
# A CVSS 4.0 vector whose base score is well known (FIRST calculator: 9.3, Critical).
CVSS4_VECTOR = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
# 2.1 `purls`: one product, one package; entries may differ only in qualifiers (test 6.1.42).
PURLS = [
    "pkg:github/csaf-tools/cvrf-csaf-converter@1.0.0-rc2",
    "pkg:github/csaf-tools/cvrf-csaf-converter@1.0.0-rc2?download_url=https://github.com/csaf-tools",
]


def _load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((CSAF_21 / name).read_bytes())
    return doc


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_are_schema_valid_csaf_21(name: str) -> None:
    doc = _load(name)
    assert doc["document"]["csaf_version"] == "2.1"
    assert check(doc, "2.1") == ()


def test_examples_import_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    batch = tmp_path / "csaf-2.1"
    shutil.copytree(CSAF_21, batch)
    result = cli("advisories", "import", "--quiet", str(batch))
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "imported 3, unchanged 0, rejected 0"

    listed = {row["tracking_id"]: row for row in json.loads(cli("advisories", "list", "--format", "json").stdout)}
    assert sorted(listed) == sorted(EXAMPLES.values())
    assert {row["csaf_version"] for row in listed.values()} == {"2.1"}
    assert listed["SEC-VEX-2022-0001"]["cves"] == ["CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105"]

    bsi = json.loads(cli("advisories", "show", "BSI-2022-0001", "--format", "json").stdout)
    assert (bsi["csaf_version"], bsi["tlp"], bsi["aggregate_severity"]) == ("2.1", "CLEAR", "Moderate")
    vuln = bsi["vulnerabilities"][0]
    assert vuln["cwe"] == {"id": "CWE-611", "name": "Improper Restriction of XML External Entity Reference"}
    [score] = vuln["scores"]
    assert (score["cvss_version"], score["base_score"], score["stated_base_score"]) == ("3.1", 6.1, 6.1)
    assert score["product_ids"] == [f"CSAFPID-000{n}" for n in range(1, 6)]
    assert vuln["product_status"]["first_fixed"] == ["CSAFPID-0006"]
    assert [p["product_version"] for p in bsi["products"]] == [
        "1.0.0-alpha",
        "1.0.0-dev1",
        "1.0.0-dev2",
        "1.0.0-dev3",
        "1.0.0-rc1",
        "1.0.0-rc2",
    ]
    assert {p["vendor"] for p in bsi["products"]} == {"CSAF Tools"}

    vex = json.loads(cli("advisories", "show", "SEC-VEX-2022-0001", "--format", "json").stdout)
    assert vex["category"] == "csaf_vex"
    for vuln in vex["vulnerabilities"]:
        assert vuln["product_status"] == {"known_not_affected": ["CSAFPID-0001"]}
        assert vuln["flags"] == [{"label": "component_not_present", "product_ids": ["CSAFPID-0001"], "group_ids": []}]
        assert [th["category"] for th in vuln["threats"]] == ["impact"]
    assert vex["products"][0]["product_version_range"] == "<=1.14.0"


@pytest.fixture
def enriched() -> dict[str, Any]:
    """bsi-2022-0001 with the 2.1 fields the official examples lack: cvss_v4, purls, disclosure_date."""
    doc = copy.deepcopy(_load("bsi-2022-0001.json"))
    vuln = doc["vulnerabilities"][0]
    vuln["disclosure_date"] = "2022-03-17T13:03:42.105Z"
    vuln["metrics"].append(
        {
            "content": {
                "cvss_v4": {
                    "version": "4.0",
                    "vectorString": CVSS4_VECTOR,
                    "baseScore": 9.3,
                    "baseSeverity": "CRITICAL",
                }
            },
            "products": ["CSAFPID-0005"],
        }
    )
    leaf = doc["product_tree"]["branches"][0]["branches"][0]["branches"][5]["product"]
    leaf["product_identification_helper"]["purls"] = PURLS
    return doc


def test_enriched_21_document_is_still_valid(enriched: dict[str, Any]) -> None:
    assert check(enriched, "2.1") == ()


def test_extract_reads_21_fields(enriched: dict[str, Any]) -> None:
    result = extract(enriched)
    assert result.header.csaf_version == "2.1"
    assert result.header.tlp_label == "CLEAR"

    [vuln] = result.vulnerabilities
    assert (vuln.cve, vuln.cwe_id) == ("CVE-2022-27193", "CWE-611")
    assert vuln.release_date == datetime(2022, 3, 17, 13, 3, 42, 105000, tzinfo=UTC)  # from disclosure_date
    assert vuln.ids == [{"system_name": "Github Issue", "text": "csaf-tools/CVRF-CSAF-Converter#78"}]

    by_version = {s.cvss_version: s for s in result.scores}
    assert sorted(by_version) == ["3.1", "4.0"]
    v4 = by_version["4.0"]
    assert (v4.vector, v4.base_score, v4.base_severity, v4.stated_base_score) == (CVSS4_VECTOR, 9.3, "Critical", 9.3)
    assert (v4.product_ids, v4.error) == (["CSAFPID-0005"], None)
    v3 = by_version["3.1"]
    assert (v3.base_score, v3.base_severity, v3.error) == (6.1, "Medium", None)

    helpers: dict[tuple[str, str], list[str]] = {}
    for h in result.helpers:
        helpers.setdefault((h.product_id, h.kind), []).append(h.value)
    assert helpers[("CSAFPID-0006", "purl")] == PURLS
    assert helpers[("CSAFPID-0006", "cpe")] == ["cpe:/a:csaf-tools:cvrf-csaf-converter:1.0.0-rc2"]

    [fix] = result.remediations
    assert fix.category == "vendor_fix"
    assert fix.date == datetime(2022, 3, 14, 12, 10, 55, tzinfo=UTC)  # +01:00 normalised to UTC
    assert fix.url == "https://github.com/csaf-tools/CVRF-CSAF-Converter/releases/tag/1.0.0-rc2"
    statuses = {(s.status, s.product_id) for s in result.statuses}
    assert ("first_fixed", "CSAFPID-0006") in statuses
    assert ("known_affected", "CSAFPID-0001") in statuses


def test_extract_vex_flags_threats_and_version_ranges() -> None:
    result = extract(_load("sec-vex-2022-0001.json"))
    [product] = result.products
    assert (product.vendor, product.product_name, product.product_version_range) == (
        "Secvisogram",
        "Secvisogram",
        "<=1.14.0",
    )
    assert product.leaf_category == "product_version_range"
    assert [(f.vulnerability_ordinal, f.label, f.product_ids) for f in result.flags] == [
        (n, "component_not_present", ["CSAFPID-0001"]) for n in range(3)
    ]
    assert all(f.date == datetime(2022, 5, 27, 10, 0, tzinfo=UTC) for f in result.flags)
    assert [t.category for t in result.threats] == ["impact"] * 3

    ranges = extract(_load("2022-evd-uc-04-001.json")).products
    assert [(p.product_version, p.product_version_range) for p in ranges] == [
        ("2.4", None),
        ("2.6", None),
        (None, "vers:generic/>=2.9|<=4.1"),
    ]


# --- the 2.0 seed advisory ------------------------------------------------------------------------


def test_extract_seed_advisory() -> None:
    result = extract(json.loads(SEED_CSAF.read_bytes()))
    header = result.header
    assert (header.tracking_id, header.tracking_version, header.tracking_status) == ("ICSMA-21-019-01", "1", "final")
    assert (header.publisher_name, header.publisher_namespace, header.publisher_category) == (
        "CISA",
        "https://www.cisa.gov/",
        "coordinator",
    )
    assert (header.csaf_version, header.category, header.lang, header.tlp_label) == (
        "2.0",
        "csaf_security_advisory",
        "en-US",
        "WHITE",
    )
    assert header.title == "Philips Interventional Workstations"
    assert header.initial_release_date == header.current_release_date == datetime(2021, 1, 19, tzinfo=UTC)

    assert [(p.product_id, p.vendor, p.product_name, p.product_version, p.origin) for p in result.products] == [
        ("CSAFPID-0001", "Philips", "Interventional Workspot", "(Release 1.3.2 1.4.0 1.4.1 1.4.3 1.4.5)", "branch"),
        ("CSAFPID-0002", "Philips", "ViewForum", "6.3V1L10", "branch"),
        (
            "CSAFPID-0003",
            "Philips",
            "Coronary Tools/Dynamic Coronary Roadmap/Stentboost Live",
            "1.0",
            "branch",
        ),
    ]
    assert result.products[1].branch_path == [
        {"category": "vendor", "name": "Philips"},
        {"category": "product_name", "name": "ViewForum"},
        {"category": "product_version", "name": "6.3V1L10"},
    ]
    assert all(p.leaf_category == "product_version" and p.product_version_range is None for p in result.products)

    [vuln] = result.vulnerabilities
    assert (vuln.cve, vuln.cwe_id) == ("CVE-2020-27298", "CWE-78")
    assert "OS Command Injection" in (vuln.cwe_name or "")
    [score] = result.scores
    assert (score.cvss_version, score.vector, score.base_score, score.base_severity) == (
        "3.0",
        "CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        6.5,
        "Medium",
    )
    assert score.product_ids == ["CSAFPID-0001", "CSAFPID-0002", "CSAFPID-0003"]
    assert [(s.status, s.product_id) for s in result.statuses] == [
        ("known_affected", "CSAFPID-0001"),
        ("known_affected", "CSAFPID-0002"),
        ("known_affected", "CSAFPID-0003"),
    ]
    assert [r.category for r in result.remediations] == ["vendor_fix"] * 3
    assert [r.ordinal for r in result.remediations] == [0, 1, 2]
    assert all(r.product_ids == ["CSAFPID-0001", "CSAFPID-0002", "CSAFPID-0003"] for r in result.remediations)
    assert [r.url for r in result.remediations] == [
        None,
        "https://www.usa.philips.com/healthcare/solutions/customer-service-solutions",
        "https://www.philips.com/productsecurity",
    ]

    document_notes = [n for n in result.notes if n.vulnerability_ordinal is None]
    assert len(document_notes) == 10
    assert ("legal_disclaimer", "Legal Notice") in {(n.category, n.title) for n in document_notes}
    assert [(n.category, n.title) for n in result.notes if n.vulnerability_ordinal == 0] == [
        ("summary", "Vulnerability Summary")
    ]
    assert sum(r.category == "self" for r in result.references) == 2
    assert (0, "http://web.nvd.nist.gov/view/vuln/detail?vulnId=CVE-2020-27298") in {
        (r.vulnerability_ordinal, r.url) for r in result.references
    }
    assert (result.helpers, result.relationships, result.group_members, result.threats, result.flags) == (
        [],
        [],
        [],
        [],
        [],
    )


def test_enriched_21_document_is_stored_with_its_21_fields(
    store: Store, enriched: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "bsi-2022-0001-enriched.json"
    path.write_text(json.dumps(enriched))
    summary = import_candidates(store, discover([path], store.settings.max_document_bytes), workers=1)
    assert (summary.imported, summary.rejected) == (1, 0)

    shown = show_advisory(store, "BSI-2022-0001")
    [vuln] = shown["vulnerabilities"]
    assert vuln["release_date"] == "2022-03-17T13:03:42.105000Z"
    assert sorted((s["cvss_version"], s["base_score"], s["base_severity"]) for s in vuln["scores"]) == [
        ("3.1", 6.1, "Medium"),
        ("4.0", 9.3, "Critical"),
    ]
    fixed = next(p for p in shown["products"] if p["product_id"] == "CSAFPID-0006")
    assert [h["value"] for h in fixed["identification_helpers"] if h["kind"] == "purl"] == PURLS
    assert shown["quality_flags"] == []
