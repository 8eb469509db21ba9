"""Matching rules, pure (issue #4): status mapping, every relationship category, exclusions, purl/CPE, precedence."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.identity import wildcards
from vigil.identity.vendors import default_aliases
from vigil.matching.candidates import CatalogIndex
from vigil.matching.compiled import STATUS_MAP, compile_revision
from vigil.matching.engine import AssetMatcher
from vigil.matching.findings import FindingDraft
from vigil.matching.predicates import split_exclusions
from vigil.sources.csaf.document import (
    HelperRecord,
    ProductRecord,
    RelationshipRecord,
    StatusRecord,
    VulnerabilityRecord,
)
from vigil.sources.inventory.assets import AssetAssembler, AssetRecord
from vigil.sources.inventory.records import RawRow
from vigil.store.revision_header import RevisionHeader

HEADER = RevisionHeader(1, 1, "ACME-2026-001", "1", "Acme Medical", "vendor")


def _leaf(pid: str, name: str, version: str | None = None, vendor: str = "Acme Medical") -> ProductRecord:
    leaf = "product_version" if version else "product_name"
    full = f"{name} {version}" if version else name
    return ProductRecord(pid, full, "branch", leaf, vendor, None, name, version, None, [])


def _relation(pid: str, category: str, component: str, platform: str) -> tuple[ProductRecord, RelationshipRecord]:
    product = ProductRecord(
        pid, f"{component} {category} {platform}", "relationship", None, None, None, None, None, None, []
    )
    return product, RelationshipRecord(pid, category, component, platform)


def _vulnerability(ordinal: int, cve: str) -> VulnerabilityRecord:
    return VulnerabilityRecord(ordinal, cve, None, None, None, None, None, None)


def _drafts(
    products: list[ProductRecord],
    statuses: list[tuple[str, str]],
    asset: AssetRecord,
    relationships: tuple[RelationshipRecord, ...] = (),
    helpers: tuple[HelperRecord, ...] = (),
) -> list[FindingDraft]:
    """Every (status list, product id) under one CVE; the drafts the asset gets."""
    revision = compile_revision(
        HEADER,
        products,
        helpers,
        relationships,
        (),
        [_vulnerability(0, "CVE-2026-0001")],
        [StatusRecord(0, status, pid) for status, pid in statuses],
        default_aliases(),
    )
    return AssetMatcher(CatalogIndex([revision])).drafts(asset)


def _asset(device: dict[str, str], *software: tuple[str, str | None]) -> AssetRecord:
    assembler = AssetAssembler("St. Elsewhere", default_aliases())
    rows = [
        {"software_vendor": "Acme Medical", "software_name": n} | ({"software_version": v} if v else {})
        for n, v in software
    ]
    for number, extra in enumerate(rows or [{}], start=2):
        assert assembler.add(RawRow(number, {"asset_id": "A-1", **device, **extra})) is None
    [asset] = assembler.assets()
    return asset


WORKSTATION = {"manufacturer": "Acme Medical", "model": "Acme Workstation", "model_number": "WS-100"}


@pytest.mark.parametrize(("csaf_status", "status"), sorted(STATUS_MAP.items()))
def test_status_mapping(csaf_status: str, status: str) -> None:
    [draft] = _drafts([_leaf("P1", "Viewer", "2.0")], [(csaf_status, "P1")], _asset(WORKSTATION, ("Viewer", "2.0")))
    assert (draft.status, draft.csaf_status, draft.match) == (status, csaf_status, "exact")
    assert draft.vulnerability_key == draft.cve == "CVE-2026-0001"


def test_recommended_is_no_finding() -> None:
    assert (
        _drafts([_leaf("P1", "Viewer", "2.0")], [("recommended", "P1")], _asset(WORKSTATION, ("Viewer", "2.0"))) == []
    )


def test_the_strongest_match_decides_then_the_most_demanding_status() -> None:
    products = [_leaf("OLD", "Viewer", "<2.0"), _leaf("NEW", "Viewer", ">=2.0"), _leaf("ANY", "Viewer")]
    # ANY (no version: exact on name alone) says under_investigation, NEW (exact) says fixed: both exact, so the
    # more demanding status wins; OLD does not hold for 2.1 and is not among the matched products.
    [draft] = _drafts(
        products,
        [("known_affected", "OLD"), ("fixed", "NEW"), ("under_investigation", "ANY")],
        _asset(WORKSTATION, ("Viewer", "2.1")),
    )
    assert (draft.status, draft.product_ids) == ("under_investigation", ("ANY", "NEW"))
    # A version the asset does not state: the affected product can only be possible, the fixed one too.
    [unknown] = _drafts(
        products[:2], [("known_affected", "OLD"), ("fixed", "NEW")], _asset(WORKSTATION, ("Viewer", None))
    )
    assert (unknown.status, unknown.match) == ("affected", "possible")


# --- relationships: every category ---------------------------------------------------------------------------

SOFTWARE = _leaf("SW", "Imaging Suite", "5.1")
HARDWARE = _leaf("HW", "Acme Workstation")
OTHER_SOFTWARE = _leaf("OS", "Report Writer", "1.0")


@pytest.mark.parametrize("category", ["installed_on", "default_component_of", "optional_component_of"])
def test_platform_must_be_the_device(category: str) -> None:
    relation, record = _relation("R", category, "SW", "HW")
    products = [SOFTWARE, HARDWARE, OTHER_SOFTWARE, relation]
    on_it = _asset(WORKSTATION, ("Imaging Suite", "5.1"))
    [draft] = _drafts(products, [("known_affected", "R")], on_it, (record,))
    assert draft.product_ids == ("R",) and draft.match == "exact"
    assert draft.evidence["products"][0]["relationship"] == category
    elsewhere = _asset({"manufacturer": "Dell", "model": "OptiPlex"}, ("Imaging Suite", "5.1"))
    assert _drafts(products, [("known_affected", "R")], elsewhere, (record,)) == []
    # The "platform" as installed software does not make the device that platform.
    relation2, record2 = _relation("R", category, "SW", "OS")
    side_by_side = _asset(
        {"manufacturer": "Dell", "model": "OptiPlex"}, ("Imaging Suite", "5.1"), ("Report Writer", "1.0")
    )
    assert _drafts([SOFTWARE, OTHER_SOFTWARE, relation2], [("known_affected", "R")], side_by_side, (record2,)) == []


@pytest.mark.parametrize("category", ["installed_with", "external_component_of"])
def test_side_by_side_categories_need_both_products_on_one_asset(category: str) -> None:
    relation, record = _relation("R", category, "SW", "OS")
    products = [SOFTWARE, OTHER_SOFTWARE, relation]
    both = _asset({"manufacturer": "Dell", "model": "OptiPlex"}, ("Imaging Suite", "5.1"), ("Report Writer", "1.0"))
    [draft] = _drafts(products, [("known_affected", "R")], both, (record,))
    assert draft.product_ids == ("R",)
    one = _asset({"manufacturer": "Dell", "model": "OptiPlex"}, ("Imaging Suite", "5.1"))
    assert _drafts(products, [("known_affected", "R")], one, (record,)) == []


# --- exclusions ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("LOGIQ, not including LOGIQ 100 Pro", ("LOGIQ", ("logiq",), ("logiq 100 pro",))),
        ("Vivid products, not including EchoPAC", ("Vivid products", ("vivid",), ("echopac",))),
        (
            "Venue, not including Venue 40 R1-3 and Venue 50 R4-5",
            ("Venue", ("venue",), ("venue 40 r1 3", "venue 50 r4 5")),
        ),
        (
            "SIMATIC ET200SP (incl. SIPLUS variants, except IM155-6 PN ST and IM155-6 PN HF)",
            ("SIMATIC ET200SP", ("simatic et200sp",), ("im155 6 pn st", "im155 6 pn hf")),
        ),
        (
            "Invenia ABUS Scan station, not including VScan product line",
            ("Invenia ABUS Scan station", ("invenia abus scan station",), ("vscan",)),
        ),
        ("Improper Handling of Exceptional Conditions", ("Improper Handling of Exceptional Conditions", (), ())),
    ],
)
def test_exclusions_are_read_from_corpus_names(
    name: str, expected: tuple[str, tuple[str, ...], tuple[str, ...]]
) -> None:
    assert split_exclusions(name) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("LOGIQ E10", ("possible", "family")),  # a member of the line: for a person to confirm
        ("LOGIQ", ("exact", "exact")),  # the line's own name
        ("LOGIQ 100 Pro", None),  # excluded
        ("LOGIQ 100 Pro Plus", None),  # starts with the excluded member
        ("LOGIQUE 5", None),  # word for word only
    ],
)
def test_all_models_except_excludes(model: str, expected: tuple[str, str] | None) -> None:
    product = ProductRecord(
        "L",
        "GE Healthcare LOGIQ, not including LOGIQ 100 Pro: vers:all/*",
        "branch",
        "product_version_range",
        "GE Healthcare",
        None,
        "LOGIQ, not including LOGIQ 100 Pro",
        None,
        "vers:all/*",
        [],
    )
    asset = _asset({"manufacturer": "GE Healthcare", "model": model})
    drafts = _drafts([product], [("known_affected", "L")], asset)
    if expected is None:
        assert drafts == []
        return
    [draft] = drafts
    assert (draft.match, draft.evidence["products"][0]["name"]["how"]) == expected


# --- purl and CPE ----------------------------------------------------------------------------------------------


def _sbom_asset(purl: str | None, cpe: str | None, version: str = "2.14.1") -> AssetRecord:
    asset = _asset(WORKSTATION)
    from vigil.sources.inventory.assets import InstalledRecord

    component = InstalledRecord("Apache", "Apache", "log4j-core", "log4j-core", version, version, "library", purl, cpe)
    return AssetRecord(asset.site, asset.asset_id, asset.device, (component,), {}, 2, "")


@pytest.mark.parametrize(
    ("helper", "asset", "expected"),
    [
        # A purl without version: the leaf's version rule decides.
        (
            ("purl", "pkg:maven/org.apache.logging.log4j/log4j-core"),
            _sbom_asset("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", None),
            "exact",
        ),
        (
            ("purl", "pkg:maven/org.apache.logging.log4j/log4j-core"),
            _sbom_asset("pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1", None, "2.17.1"),
            None,
        ),
        # A purl pinned to a version: that version only.
        (
            ("purl", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
            _sbom_asset("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", None),
            "exact",
        ),
        (
            ("purl", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
            _sbom_asset("pkg:maven/org.apache.logging.log4j/log4j-core@2.15.0", None, "2.15.0"),
            None,
        ),
        # Another package of the same name is not it.
        (
            ("purl", "pkg:npm/log4j-core"),
            _sbom_asset("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", None),
            "name",
        ),
        # CPE 2.3 against a CPE 2.2 URI: same vendor and product.
        (("cpe", "cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*"), _sbom_asset(None, "cpe:/a:apache:log4j:2.14.1"), "exact"),
    ],
)
def test_purl_and_cpe(helper: tuple[str, str], asset: AssetRecord, expected: str | None) -> None:
    product = ProductRecord(
        "J",
        "Apache Log4j <2.15.0",
        "branch",
        "product_version_range",
        "Apache",
        None,
        "Log4j Core",
        None,
        "<2.15.0",
        [],
    )
    drafts = _drafts([product], [("known_affected", "J")], asset, helpers=(HelperRecord("J", *helper, None),))
    if expected is None:
        assert drafts == []
    elif expected == "name":
        assert drafts == []  # both state a purl and they differ: another package, whatever the name says
    else:
        [draft] = drafts
        assert draft.match == expected
        assert draft.evidence["products"][0]["identifier"]["how"] == helper[0]


# --- CSAF wildcards: the in-memory regex and the database's LIKE agree -----------------------------------------

_ALPHABET = "AB1?*\\_%"


@settings(max_examples=300, deadline=None)
@given(st.text(_ALPHABET, max_size=6), st.text("AB1_%", max_size=6))
def test_wildcard_regex_and_like_agree(pattern: str, value: str) -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute("PRAGMA case_sensitive_like = ON")
    [(like,)] = connection.execute("SELECT ? LIKE ? ESCAPE '\\'", (value, wildcards.as_like(pattern)))
    assert bool(like) == (wildcards.as_regex(pattern).fullmatch(value) is not None)
