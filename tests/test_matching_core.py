"""The matching core (issue #4), pure: CSAF products compiled into predicates, evaluated against assets.

The seed is the worked example: Philips' precise document (hardware by 12NC, software releases,
`installed_on` relationships) against CISA's lossy copy (software only, packed version list).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from vigil.identity.vendors import default_aliases
from vigil.matching import Match, ProductPredicate, compile_products, match_product
from vigil.matching.predicates import compile_identifier, packed_names
from vigil.sources.csaf.document import HelperRecord, extract
from vigil.sources.inventory.assets import AssetAssembler, AssetRecord
from vigil.sources.inventory.records import RawRow

ROOT = Path(__file__).resolve().parents[1]
PRECISE = ROOT / "demo" / "vendor-advisories" / "philips-2021-01-14-interventional-ipmi.json"
CISA = ROOT / "demo" / "advisories" / "icsma-21-019-01.json"

LISTED_WORKSTATION = {"manufacturer": "Philips", "model": "Allura Xper workstation", "model_number": "4598-009-39471"}
OTHER_WORKSTATION = LISTED_WORKSTATION | {"model_number": "4598 009 12345"}


@cache
def _predicates(path: Path) -> dict[str, ProductPredicate]:
    doc = extract(json.loads(path.read_text(encoding="utf-8")))
    return compile_products(doc.products, doc.helpers, doc.relationships, doc.group_members, default_aliases())


def _asset(device: dict[str, str], *software: tuple[str | None, str, str | None]) -> AssetRecord:
    """One asset: the device columns, and one row per installed (vendor, name, version)."""
    assembler = AssetAssembler("St. Elsewhere", default_aliases())
    rows = [
        {"software_name": name} | _some(software_vendor=vendor, software_version=version)
        for vendor, name, version in software
    ]
    for number, extra in enumerate(rows or [{}], start=2):
        assert assembler.add(RawRow(number, {"asset_id": "A-1", **device, **extra})) is None
    [asset] = assembler.assets()
    return asset


def _some(**values: str | None) -> dict[str, str]:
    return {key: value for key, value in values.items() if value is not None}


def _matching(path: Path, asset: AssetRecord) -> dict[str, Match]:
    predicates = _predicates(path)
    found = {pid: match_product(pred, asset, predicates) for pid, pred in predicates.items()}
    return {pid: match for pid, match in found.items() if match is not None}


def _relationships(matches: dict[str, Match]) -> dict[str, Match]:
    return {pid: m for pid, m in matches.items() if "relationship" in m.evidence}


# --- compilation ---------------------------------------------------------------------------------------------


def test_precise_seed_compiles_hardware_software_and_relationships() -> None:
    predicates = _predicates(PRECISE)
    assert len(predicates) == 4 + 7 + 28
    hardware = predicates["CSAFPID-0001"]
    assert hardware.vendor == "Philips"
    assert hardware.version_rule is None  # a product_name leaf: every version
    assert [(i.kind, i.value, i.pattern) for i in hardware.identifiers] == [("model_number", "459800939471", None)]
    workspot = predicates["CSAFPID-0009"]
    assert workspot.names == ("Interventional Workspot",)
    assert workspot.version_rule is not None
    assert (workspot.version_rule.notation, workspot.version_rule.versions) == ("exact", ("1.4.5",))
    relation = predicates["CSAFPID-0012"]
    assert (relation.relationship, relation.component_id, relation.platform_id) == (
        "installed_on",
        "CSAFPID-0005",
        "CSAFPID-0001",
    )
    assert sum(p.relationship == "installed_on" for p in predicates.values()) == 28


def test_cisa_copy_compiles_the_packed_version_list() -> None:
    rule = _predicates(CISA)["CSAFPID-0001"].version_rule
    assert rule is not None
    assert (rule.notation, rule.versions) == ("list", ("1.3.2", "1.4.0", "1.4.1", "1.4.3", "1.4.5"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "Coronary Tools/Dynamic Coronary Roadmap/Stentboost Live",
            (
                "Coronary Tools/Dynamic Coronary Roadmap/Stentboost Live",
                "Coronary Tools",
                "Dynamic Coronary Roadmap",
                "Stentboost Live",
            ),
        ),
        ("ViewForum/IntelliSpace", ("ViewForum/IntelliSpace", "ViewForum", "IntelliSpace")),
        ("TCP/IP", ("TCP/IP",)),
        ("Client/Server", ("Client/Server",)),
        ("IntelliVue MX40/MX50", ("IntelliVue MX40/MX50",)),
        ("Windows 10/11", ("Windows 10/11",)),
        ("Coronary Tools/", ("Coronary Tools/",)),
        # From the CISA corpus: a slash inside one name stays.
        (
            "SIMATIC S7-300 CPU 315-2 PN/DP (6ES7315-2EH14-0AB0)",
            ("SIMATIC S7-300 CPU 315-2 PN/DP (6ES7315-2EH14-0AB0)",),
        ),
        ("MiniMed Paradigm 522K/722K pumps", ("MiniMed Paradigm 522K/722K pumps",)),
        ("Precision Source/Measure Units", ("Precision Source/Measure Units",)),
        ("Creo Elements/Direct Modeling", ("Creo Elements/Direct Modeling",)),
        ("SITOP UPS1600 10 A Ethernet/ PROFINET", ("SITOP UPS1600 10 A Ethernet/ PROFINET",)),
        # ... and plain packs split.
        (
            "SCADA Expert Vijeo Citect / CitectSCADA",
            ("SCADA Expert Vijeo Citect / CitectSCADA", "SCADA Expert Vijeo Citect", "CitectSCADA"),
        ),
        ("Vijeo Historian/CitectHistorian", ("Vijeo Historian/CitectHistorian", "Vijeo Historian", "CitectHistorian")),
        (
            "Creo Elements/Direct Model Manager / Drawing Manager",
            (
                "Creo Elements/Direct Model Manager / Drawing Manager",
                "Creo Elements/Direct Model Manager",
                "Drawing Manager",
            ),
        ),
        ("  ViewForum  ", ("ViewForum",)),
        ("", ()),
    ],
)
def test_packed_names_split_only_into_product_like_parts(name: str, expected: tuple[str, ...]) -> None:
    assert packed_names(name) == expected


def test_model_number_wildcard() -> None:
    identifier = compile_identifier(HelperRecord("P", "model_number", "4598 009 3947?", None))
    assert identifier is not None
    assert identifier.pattern is not None
    assert identifier.matches("459800939471")
    assert identifier.matches("459800939479")
    assert not identifier.matches("45980093947")  # `?` is exactly one character
    assert not identifier.matches("4598009394712")
    assert not identifier.matches("459800939481")
    star = compile_identifier(HelperRecord("P", "sku", "4598-009-*", None))
    assert star is not None and star.matches("459800912345") and star.matches("4598009")
    literal = compile_identifier(HelperRecord("P", "model_number", r"AB\?1", None))
    assert literal is not None and literal.matches("AB?1") and not literal.matches("ABX1")


def test_model_number_wildcard_matches_the_device() -> None:
    helper = HelperRecord("HW", "model_number", "4598 009 3947?", None)
    product = extract(_doc_with_one_hardware_product())
    predicates = compile_products(product.products, [helper], [], [], default_aliases())
    match = match_product(predicates["HW"], _asset(LISTED_WORKSTATION), predicates)
    assert match is not None
    assert (match.level, match.side) == ("exact", "device")
    assert match.evidence["identifier"]["how"] == "wildcard"
    assert match_product(predicates["HW"], _asset(OTHER_WORKSTATION), predicates) is None


def test_udi_di_from_x_generic_uris() -> None:
    helper = HelperRecord("P", "x_generic_uri", "urn:gs1:udi-di:(01)00884838012345", {"namespace": "https://gs1.org"})
    identifier = compile_identifier(helper)
    assert identifier is not None
    assert (identifier.field, identifier.value) == ("udi_di", "00884838012345")
    other = HelperRecord("P", "x_generic_uri", "https://example.com/product/7", {"namespace": "https://example.com"})
    assert compile_identifier(other) is None


def _doc_with_one_hardware_product() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(PRECISE.read_text(encoding="utf-8"))
    doc["product_tree"] = {
        "branches": [
            {
                "category": "vendor",
                "name": "Philips",
                "branches": [
                    {
                        "category": "product_name",
                        "name": "Workstation",
                        "product": {"name": "Workstation", "product_id": "HW"},
                    }
                ],
            }
        ]
    }
    doc["vulnerabilities"] = []
    return doc


# --- the precise seed ----------------------------------------------------------------------------------------


def test_listed_workstation_running_listed_release_matches_the_relationship() -> None:
    asset = _asset(LISTED_WORKSTATION, ("Philips", "Interventional Workspot", "R1.4.5"))
    matches = _relationships(_matching(PRECISE, asset))
    # 1.4.5 installed on 4598 009 39471 is CSAFPID-0028 (releases x workstations, in document order).
    assert set(matches) == {"CSAFPID-0028"}
    match = matches["CSAFPID-0028"]
    assert (match.level, match.side) == ("exact", "installed")
    evidence = match.evidence
    assert evidence["relationship"] == "installed_on"
    assert evidence["platform"]["identifier"] == {
        "asset_field": "model_number",
        "asset_value": "4598-009-39471",
        "product_field": "model_number",
        "product_value": "4598 009 39471",
        "how": "identical",
    }
    assert evidence["component"]["name"]["how"] == "exact"
    assert evidence["component"]["version"] == {
        "asset_field": "version",
        "asset_value": "R1.4.5",
        "rule": "1.4.5",
        "notation": "exact",
        "result": True,
    }


def test_listed_release_on_another_workstation_matches_no_relationship() -> None:
    asset = _asset(OTHER_WORKSTATION, ("Philips", "Interventional Workspot", "R1.4.5"))
    matches = _matching(PRECISE, asset)
    assert _relationships(matches) == {}
    assert set(matches) == {"CSAFPID-0009"}  # the software leaf alone, which no status lists


def test_listed_workstation_running_unlisted_release_matches_nothing_but_the_hardware() -> None:
    asset = _asset(LISTED_WORKSTATION, ("Philips", "Interventional Workspot", "1.4.2"))
    assert set(_matching(PRECISE, asset)) == {"CSAFPID-0001"}


def test_manufacturer_spelling_variant_still_matches() -> None:
    device = LISTED_WORKSTATION | {"manufacturer": "PHILIPS MEDICAL SYSTEMS"}
    asset = _asset(device, ("Philips Healthcare", "interventional  workspot", "1.4.5.0"))
    [(pid, match)] = _relationships(_matching(PRECISE, asset)).items()
    assert pid == "CSAFPID-0028"
    assert match.level == "probable"  # the software's vendor is an alias
    assert match.evidence["platform"]["vendor"]["how"] == "alias"
    assert match.evidence["platform"]["identifier"]["how"] == "identical"
    assert match.evidence["component"]["vendor"]["how"] == "alias"
    assert match.evidence["component"]["name"]["how"] == "exact"  # case and spacing aside


def test_normalised_name_is_probable() -> None:
    asset = _asset(LISTED_WORKSTATION, ("Philips", "Interventional-WorkSpot", "1.4.5"))
    match = _matching(PRECISE, asset)["CSAFPID-0028"]
    assert match.level == "probable"
    assert match.evidence["component"]["name"]["how"] == "normalised"


def test_another_manufacturers_product_of_the_same_name_does_not_match() -> None:
    asset = _asset(LISTED_WORKSTATION, ("Siemens", "Interventional Workspot", "1.4.5"))
    assert _relationships(_matching(PRECISE, asset)) == {}


def test_viewforum_vendor_notation() -> None:
    matches = _matching(PRECISE, _asset(LISTED_WORKSTATION, ("Philips", "ViewForum", "6.3V1L10")))
    assert matches["CSAFPID-0011"].level == "exact"
    assert matches["CSAFPID-0011"].evidence["version"]["result"] is True
    older = _matching(PRECISE, _asset(LISTED_WORKSTATION, ("Philips", "ViewForum", "6.3V1L9")))
    assert "CSAFPID-0011" not in older


@pytest.mark.parametrize("name", ["Stentboost Live", "Coronary Tools/Dynamic Coronary Roadmap/Stentboost Live"])
def test_packed_name_matches_each_part_and_the_packed_form(name: str) -> None:
    match = _matching(PRECISE, _asset(LISTED_WORKSTATION, ("Philips", name, "1.0")))["CSAFPID-0010"]
    assert (match.level, match.side) == ("exact", "installed")
    assert match.evidence["name"]["product_value"] == name


def test_missing_installed_version_is_possible() -> None:
    asset = _asset(LISTED_WORKSTATION, ("Philips", "Interventional Workspot", None))
    matches = _matching(PRECISE, asset)
    software = {pid: m for pid, m in matches.items() if pid in {f"CSAFPID-000{n}" for n in range(5, 10)}}
    assert set(software) == {"CSAFPID-0005", "CSAFPID-0006", "CSAFPID-0007", "CSAFPID-0008", "CSAFPID-0009"}
    assert {m.level for m in software.values()} == {"possible"}
    assert software["CSAFPID-0009"].evidence["version"]["result"] is None
    # Each release on the listed workstation: possible, the weaker of exact hardware and possible software.
    related = _relationships(matches)
    assert len(related) == 5
    assert {m.level for m in related.values()} == {"possible"}


def test_installed_product_without_vendor_is_probable_at_most() -> None:
    match = _matching(PRECISE, _asset(LISTED_WORKSTATION, (None, "Interventional Workspot", "1.4.5")))["CSAFPID-0028"]
    assert match.level == "probable"
    assert match.evidence["component"]["vendor"]["how"] == "absent"


def test_hardware_must_be_the_device_not_an_installed_product() -> None:
    # "installed on" a workstation means the asset is that workstation: a software row naming it is not enough.
    asset = _asset(
        OTHER_WORKSTATION,
        ("Philips", "Interventional Workspot", "1.4.5"),
        ("Philips", "Haswell workstation 4598 009 39471", None),
    )
    assert _relationships(_matching(PRECISE, asset)) == {}


def test_model_number_contradicting_the_listed_ones_overrides_the_model_name() -> None:
    named = {"manufacturer": "Philips", "model": "Haswell workstation 4598 009 39471"}
    assert set(_matching(PRECISE, _asset(named))) == {"CSAFPID-0001"}  # by name: no model number to check
    match = _matching(PRECISE, _asset(named))["CSAFPID-0001"]
    assert (match.level, match.evidence["name"]["how"]) == ("exact", "exact")
    assert _matching(PRECISE, _asset(named | {"model_number": "4598 009 12345"})) == {}


def test_device_without_software_matches_only_hardware() -> None:
    assert set(_matching(PRECISE, _asset(LISTED_WORKSTATION))) == {"CSAFPID-0001"}
    assert _matching(PRECISE, _asset(OTHER_WORKSTATION)) == {}


# --- CISA's copy: the over-reach ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "device", [LISTED_WORKSTATION, OTHER_WORKSTATION, {"manufacturer": "Dell", "model": "OptiPlex"}]
)
def test_cisa_copy_matches_workspot_on_any_workstation(device: dict[str, str]) -> None:
    # Documented behaviour, not a wish: CISA's copy dropped the hardware, so every WorkSpot 1.4.5 matches.
    # The cross-document rule (vendor scope wins) is what narrows this; it is not the matcher's job.
    matches = _matching(CISA, _asset(device, ("Philips", "Interventional WorkSpot", "R1.4.5")))
    assert set(matches) == {"CSAFPID-0001"}
    match = matches["CSAFPID-0001"]
    assert (match.level, match.side) == ("exact", "installed")
    assert match.evidence["version"]["notation"] == "list"


def test_cisa_copy_unlisted_release_does_not_match() -> None:
    assert _matching(CISA, _asset(LISTED_WORKSTATION, ("Philips", "Interventional Workspot", "1.4.2"))) == {}


# --- relationships, unit level -------------------------------------------------------------------------------


def test_dangling_or_cyclic_relationships_match_nothing() -> None:
    predicates = dict(_predicates(PRECISE))
    base = predicates["CSAFPID-0028"]
    dangling = ProductPredicate(
        "X", "relationship", "x", None, None, (), {}, None, (), (), "installed_on", "CSAFPID-0009", "NOPE"
    )
    cyclic = ProductPredicate("C", "relationship", "c", None, None, (), {}, None, (), (), "installed_with", "C", "C")
    predicates |= {"X": dangling, "C": cyclic}
    asset = _asset(LISTED_WORKSTATION, ("Philips", "Interventional Workspot", "1.4.5"))
    assert match_product(dangling, asset, predicates) is None
    assert match_product(cyclic, asset, predicates) is None
    assert match_product(base, asset, predicates) is not None


def test_installed_with_relates_two_installed_products() -> None:
    predicates = dict(_predicates(PRECISE))
    together = ProductPredicate(
        "W", "relationship", "w", None, None, (), {}, None, (), (), "installed_with", "CSAFPID-0009", "CSAFPID-0011"
    )
    predicates["W"] = together
    both = _asset(
        OTHER_WORKSTATION, ("Philips", "Interventional Workspot", "1.4.5"), ("Philips", "ViewForum", "6.3V1L10")
    )
    one = _asset(OTHER_WORKSTATION, ("Philips", "Interventional Workspot", "1.4.5"))
    match = match_product(together, both, predicates)
    assert match is not None and match.level == "exact"
    assert match_product(together, one, predicates) is None
