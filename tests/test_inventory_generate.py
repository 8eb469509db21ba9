"""Synthetic inventories: deterministic, canonical, realistic, drawn from the store or the bundled catalog."""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import DEMO_ADVISORIES
from vigil.services.advisory_import import import_candidates
from vigil.services.inventory_generate import bundled_spec, generate_inventory, load_catalog
from vigil.services.store import Store
from vigil.sources.csaf.files import discover
from vigil.sources.inventory.catalog import AdvisoryProduct, build_catalog
from vigil.sources.inventory.fields import CANONICAL_HEADER, DEVICE_FIELDS, OPTIONAL_FIELDS
from vigil.sources.inventory.version_guess import guess_versions

HASWELL_12NC = {"459800939471", "459800939481", "459800970861", "459800998531"}
SEED_SOFTWARE = {"Interventional Workspot", "Coronary Tools/Dynamic Coronary Roadmap/Stentboost Live", "ViewForum"}
WORKSPOT_AFFECTED = {"1.3.2", "1.4.0", "1.4.1", "1.4.3", "1.4.5"}


def _generate(assets: int, seed: int, rows: int | None = None) -> str:
    out = io.StringIO()
    generate_inventory(None, assets, seed, out, rows=rows)
    return out.getvalue()


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _bare(version: str) -> str:
    """`Release 1.4.5`, `v1.4.5`, `R1.4.5` -> `1.4.5`."""
    return re.sub(r"^(Release |v|R)(?=\d)", "", version)


@pytest.fixture(scope="module")
def sample() -> list[dict[str, str]]:
    return _rows(_generate(3000, 11))


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first = _generate(2000, 5)
    assert _generate(2000, 5) == first
    assert _generate(2000, 6) != first
    path = tmp_path / "inventory.csv"
    stats = generate_inventory(None, 2000, 5, path)
    assert path.read_bytes() == first.encode()
    assert stats.rows == first.count("\n") - 1
    assert not list(tmp_path.glob(".*partial"))


def test_header_is_the_canonical_one_then_the_optional_columns() -> None:
    header = _generate(0, 1).splitlines()
    assert header == [",".join(CANONICAL_HEADER + OPTIONAL_FIELDS)]


def test_counts_and_one_row_per_asset_product(sample: list[dict[str, str]]) -> None:
    stats = generate_inventory(None, 3000, 11, io.StringIO())
    by_asset: dict[str, list[dict[str, str]]] = defaultdict(list)
    order: list[str] = []
    for row in sample:
        if row["asset_id"] not in by_asset:
            order.append(row["asset_id"])
        by_asset[row["asset_id"]].append(row)
    assert stats.assets == len(by_asset) == 3000
    assert stats.rows == len(sample) > 3000
    assert stats.sites == len({r["site"] for r in sample}) >= 5
    assert [r["asset_id"] for r in sample] == [a for a in order for _ in by_asset[a]]  # an asset's rows are adjacent
    for rows in by_asset.values():
        for field in (*DEVICE_FIELDS, "site"):
            assert len({r[field] for r in rows}) == 1, (rows[0]["asset_id"], field)
        if len(rows) > 1:
            assert all(r["software_name"] for r in rows)
            assert len({r["software_name"] for r in rows}) == len(rows)
    alone = [rows[0] for rows in by_asset.values() if not rows[0]["software_name"]]
    assert alone and all(not r["software_vendor"] and not r["software_version"] for r in alone)


def test_a_row_count_replaces_the_asset_count_and_cuts_the_same_stream() -> None:
    full = _generate(1000, 3)
    cut = _generate(1, 3, rows=777)
    assert len(_rows(cut)) == 777
    assert full.startswith(cut)
    assert len(_rows(_generate(1, 3, rows=1500))) == 1500


def test_the_seed_hardware_and_software_combination_appears(sample: list[dict[str, str]]) -> None:
    workstations: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in sample:
        if row["software_name"] in SEED_SOFTWARE:
            workstations[row["asset_id"]].append(row)
    assert workstations
    assert all(2 <= len(rows) <= 3 for rows in workstations.values())
    affected = [
        rows[0]["asset_id"]
        for rows in workstations.values()
        if re.sub(r"[ -]", "", rows[0]["model_number"]) in HASWELL_12NC
        and any(
            r["software_name"] == "Interventional Workspot" and _bare(r["software_version"]) in WORKSPOT_AFFECTED
            for r in rows
        )
    ]
    assert affected
    # ... and the near misses that must not match: other 12NCs, later releases.
    numbers = {re.sub(r"[ -]", "", rows[0]["model_number"]) for rows in workstations.values()}
    assert "459800912345" in numbers
    versions = {_bare(r["software_version"]) for r in sample if r["software_name"] == "Interventional Workspot"}
    assert {"1.4.5", "1.5.0"} <= versions


def test_spellings_are_messy(sample: list[dict[str, str]]) -> None:
    makers = {r["manufacturer"] for r in sample} | {r["software_vendor"] for r in sample}
    for group in (
        {"Philips", "PHILIPS MEDICAL SYSTEMS", "Philips Medical Systems Nederland B.V.", "Philips Healthcare"},
        {"GE Healthcare", "GE HealthCare"},
        {"BD", "Becton Dickinson", "CareFusion"},
        {"Hill-Rom", "Hillrom", "Welch Allyn"},
        {"Baxter", "Baxter Healthcare"},
    ):
        assert group <= makers, group - makers
    twelve_nc = {r["model_number"] for r in sample if r["model_number"].replace(" ", "").startswith("4598")}
    assert {"4598 009 39471", "459800939471", "4598-009-39471"} & twelve_nc
    assert any(" " in n for n in twelve_nc) and any("-" in n for n in twelve_nc) and any(n.isdigit() for n in twelve_nc)
    versions = [r["software_version"] or r["firmware_version"] for r in sample]
    for prefix in ("v1.", "R1.", "Release 1.", "1."):
        assert any(v.startswith(prefix) for v in versions), prefix


def test_clinical_attributes_follow_the_category(sample: list[dict[str, str]]) -> None:
    by_category: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in sample:
        by_category[row["device_category"]].append(row)
        for flag in ("patient_connected", "life_sustaining", "do_not_scan"):
            assert row[flag] in ("yes", "no")
        if row["ip_address"]:
            assert ipaddress.ip_address(row["ip_address"]).is_private
            assert row["network_zone"] in ("clinical", "imaging", "biomed", "guest", "isolated")
            assert int(row["mac_address"][:2], 16) & 0b10  # locally administered
        else:
            assert not row["mac_address"] and not row["network_zone"]
    expected = {"infusion pump", "patient monitor", "ventilator", "imaging workstation", "PACS server", "ultrasound"}
    assert expected | {"lab analyser"} <= set(by_category)
    assert all(r["life_sustaining"] == "yes" == r["patient_connected"] for r in by_category["ventilator"])
    assert all(r["patient_connected"] == "yes" for r in by_category["infusion pump"])
    assert all(r["life_sustaining"] == "no" for c, rows in by_category.items() if c != "ventilator" for r in rows)
    assert {r["do_not_scan"] for r in by_category["ventilator"]} == {"yes", "no"}
    workstations = [r for r in by_category["imaging workstation"] if r["ip_address"]]
    assert workstations and all(ipaddress.ip_address(r["bmc_address"]).is_private for r in workstations)
    assert not any(r["bmc_address"] for r in by_category["infusion pump"])


def test_catalog_from_a_store_with_the_demo_advisories(store: Store) -> None:
    summary = import_candidates(store, discover([DEMO_ADVISORIES], store.settings.max_document_bytes), workers=1)
    assert summary.imported == 36
    from_store = load_catalog(store)
    bundled = load_catalog(None)
    assert from_store.source.startswith("store: ") and "36 advisories" in from_store.source
    # Every bundled entry was read from these advisories, so each store product found its hints.
    assert from_store.categories == bundled.categories
    out = io.StringIO()
    stats = generate_inventory(store, 500, 2, out)
    assert stats.catalog == from_store.source
    assert out.getvalue() == _generate(500, 2)


def test_an_empty_store_falls_back_to_the_bundled_catalog(store: Store) -> None:
    assert load_catalog(store).source == "bundled demo catalog"
    out = io.StringIO()
    assert generate_inventory(store, 50, 1, out).catalog == "bundled demo catalog"
    assert out.getvalue() == _generate(50, 1)


def test_store_products_without_hints_are_placed_by_name() -> None:
    products = [
        AdvisoryProduct("ICSMA-99-001-01", "Acme Medical", "Acme Infusion Pump 9000", None, "< 2.4.1"),
        AdvisoryProduct("ICSMA-99-001-01", "Acme Medical", "Acme PACS", "7.x", None, ()),
        AdvisoryProduct("ICSMA-99-002-01", "Philips", "Widget Server", None, "<= 3.2", ("12345",)),
    ]
    catalog = build_catalog(bundled_spec(), products, "test")
    items = {c.name: c.items for c in catalog.categories}
    (pump,) = [i for i in items["infusion pump"] if "Acme" in i.label]
    assert (pump.firmware.affected, pump.firmware.unaffected) == (("2.4.0",), ("2.4.1", "2.5.0"))
    assert pump.models[0].manufacturers == ("Acme Medical",)
    (pacs,) = items["PACS server"]
    assert [(s.name, s.affected, s.unaffected) for s in pacs.software] == [("Acme PACS", ("7.1",), ("8.0",))]
    (server,) = items["clinical application server"]
    assert server.software[0].vendors[0] == "Philips" and len(server.software[0].vendors) == 4
    assert catalog.products == 3


@pytest.mark.parametrize(
    ("version", "version_range", "inside", "outside"),
    [
        ("(Release 1.3.2 1.4.0 1.4.5)", None, ("1.3.2", "1.4.0", "1.4.5"), ("1.5.0",)),
        (None, "< 1.7.15", ("1.7.14",), ("1.7.15", "1.8.0")),
        (None, "<= 2.2.3", ("2.2.3", "2.2.2"), ("2.3.0",)),
        (None, ">= 2.5 | <= 3.11", ("2.5", "3.11", "3.10"), ("2.4", "3.12")),
        (None, "< 3.0", ("2.9",), ("3.0", "3.1")),
        (None, "< 2.43.02", ("2.43.01",), ("2.43.02", "2.44.00")),
        ("5.x.x", None, ("5.1.1",), ("6.0.0",)),
        ("B.02 | C.02 | C.03", None, ("B.02", "C.02", "C.03"), ("C.04",)),
        (None, "<= L81", ("L81", "L80"), ("L82",)),
        ("vers:all/*", None, ("1.0", "2.1.3"), ()),
    ],
)
def test_versions_guessed_from_advisory_text(
    version: str | None, version_range: str | None, inside: tuple[str, ...], outside: tuple[str, ...]
) -> None:
    assert guess_versions(version, version_range) == (inside, outside)
