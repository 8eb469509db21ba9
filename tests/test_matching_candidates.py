"""The candidate index (issue #4): one index over every document; indexed matching equals brute force."""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path

import pytest

from vigil.identity.names import name_key
from vigil.identity.vendors import default_aliases
from vigil.matching import Match, ProductPredicate, compile_products, match_product
from vigil.matching.candidates import CatalogIndex
from vigil.matching.compiled import CompiledRevision
from vigil.matching.engine import AssetMatcher
from vigil.matching.predicates import Identifier, compile_identifier, packed_names
from vigil.services.inventory_generate import generate_inventory
from vigil.sources.csaf.document import HelperRecord, extract
from vigil.sources.inventory.assets import AssetAssembler, AssetRecord
from vigil.sources.inventory.records import RawRow
from vigil.sources.inventory.tabular import open_table
from vigil.store.revision_header import RevisionHeader

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted((ROOT / "demo" / "advisories").glob("*.json")) + sorted(
    (ROOT / "demo" / "vendor-advisories").glob("*.json")
)


def _revision(position: int, predicates: dict[str, ProductPredicate]) -> CompiledRevision:
    header = RevisionHeader(position, position, f"DOC-{position}", "1", "Acme", "vendor")
    return CompiledRevision(header, "Acme", predicates, {}, ())


@cache
def _corpus() -> tuple[tuple[dict[str, ProductPredicate], ...], CatalogIndex]:
    """One predicate mapping per document (product ids are only unique within one), and ONE index over all."""
    documents = []
    for path in DOCUMENTS:
        doc = extract(json.loads(path.read_text(encoding="utf-8")))
        documents.append(
            compile_products(doc.products, doc.helpers, doc.relationships, doc.group_members, default_aliases())
        )
    return tuple(documents), CatalogIndex([_revision(n, predicates) for n, predicates in enumerate(documents)])


def _indexed(matcher: AssetMatcher, asset: AssetRecord, documents: int) -> list[dict[str, Match]]:
    """AssetMatcher's matches, split back per document."""
    per_document: list[dict[str, Match]] = [{} for _ in range(documents)]
    for slot, match in sorted(matcher.matches(asset).items()):
        position, pred = matcher.index.slots[slot]
        per_document[position][pred.product_id] = match
    return per_document


def _inventory(tmp_path: Path, seed: int) -> list[AssetRecord]:
    out = tmp_path / f"inventory-{seed}.csv"
    generate_inventory(None, 400, seed, out)
    _, rows = open_table(out)
    assembler = AssetAssembler("Test Site", default_aliases())
    for row in rows:
        assert assembler.add(row) is None
    return list(assembler.assets())


def _brute(asset: AssetRecord, predicates: dict[str, ProductPredicate]) -> dict[str, Match]:
    found = {pid: match_product(pred, asset, predicates) for pid, pred in predicates.items()}
    return {pid: match for pid, match in found.items() if match is not None}


@pytest.mark.parametrize("seed", [1, 2])
def test_index_equals_brute_force(tmp_path: Path, seed: int) -> None:
    assets = _inventory(tmp_path, seed)
    assert len(DOCUMENTS) == 37 and len(assets) == 400

    documents, index = _corpus()
    started = time.perf_counter()
    brute = [[_brute(asset, predicates) for predicates in documents] for asset in assets]
    brute_seconds = time.perf_counter() - started

    started = time.perf_counter()
    matcher = AssetMatcher(index)
    indexed = [_indexed(matcher, asset, len(documents)) for asset in assets]
    indexed_seconds = time.perf_counter() - started

    assert indexed == brute
    matched = sum(len(per_doc) for per_asset in brute for per_doc in per_asset)
    candidates = sum(len(index.candidates(asset)) for asset in assets)
    total = len(assets) * len(index.slots)
    assert matched > 0  # the generated inventory is drawn from these advisories: the comparison is not vacuous
    print(
        f"\nseed {seed}: {len(assets)} assets × {total // len(assets)} predicates; {matched} matches; "
        f"{candidates} candidates evaluated instead of {total}; "
        f"brute force {brute_seconds:.3f} s, indexed {indexed_seconds:.3f} s"
    )


# --- unit cases --------------------------------------------------------------------------------


def _asset(device: dict[str, str], *software: tuple[str | None, str, str | None]) -> AssetRecord:
    assembler = AssetAssembler("St. Elsewhere", default_aliases())
    rows: list[dict[str, str]] = [
        {"software_name": name}
        | {k: v for k, v in (("software_vendor", vendor), ("software_version", version)) if v is not None}
        for vendor, name, version in software
    ]
    for number, extra in enumerate(rows or [{}], start=2):
        assert assembler.add(RawRow(number, {"asset_id": "A-1", **device, **extra})) is None
    [asset] = assembler.assets()
    return asset


def _leaf(
    pid: str, name: str, identifiers: tuple[Identifier, ...] = (), vendor: str | None = "Acme"
) -> ProductPredicate:
    names = packed_names(name)
    return ProductPredicate(
        product_id=pid,
        origin="branch",
        full_name=name,
        vendor_raw=vendor,
        vendor=default_aliases().canonical(vendor) if vendor else None,
        names=names,
        name_keys={name_key(form): form for form in reversed(names) if name_key(form)},
        version_rule=None,
        identifiers=identifiers,
    )


def _relation(pid: str, category: str, component: str, platform: str) -> ProductPredicate:
    return ProductPredicate(
        product_id=pid,
        origin="relationship",
        full_name=pid,
        vendor_raw=None,
        vendor=None,
        names=(),
        name_keys={},
        version_rule=None,
        identifiers=(),
        relationship=category,
        component_id=component,
        platform_id=platform,
    )


def _model_number(value: str) -> Identifier:
    identifier = compile_identifier(HelperRecord("x", "model_number", value, None))
    assert identifier is not None
    return identifier


def _candidates(predicates: dict[str, ProductPredicate], asset: AssetRecord) -> list[str]:
    index = CatalogIndex([_revision(0, predicates)])
    return [index.predicate(slot).product_id for slot in index.candidates(asset)]


def _check(predicates: dict[str, ProductPredicate], asset: AssetRecord) -> dict[str, Match]:
    [indexed] = _indexed(AssetMatcher(CatalogIndex([_revision(0, predicates)])), asset, 1)
    assert indexed == _brute(asset, predicates)
    return indexed


def test_wildcard_model_number() -> None:
    predicates = {
        "P1": _leaf("P1", "Pump Family", (_model_number("8713*"),)),
        "P2": _leaf("P2", "Other Pump", (_model_number("9999?"),)),
    }
    asset = _asset({"manufacturer": "Acme", "model": "Unrelated Model Name", "model_number": "8713070"})
    assert _candidates(predicates, asset) == ["P1"]
    assert set(_check(predicates, asset)) == {"P1"}


def test_packed_name_part() -> None:
    predicates = {"P1": _leaf("P1", "Coronary Tools/Dynamic Coronary Roadmap/Stentboost Live")}
    asset = _asset({"manufacturer": "Acme", "model": "Workstation"}, ("Acme", "dynamic coronary  roadmap", None))
    assert _candidates(predicates, asset) == ["P1"]
    assert set(_check(predicates, asset)) == {"P1"}


def test_relationship_pulled_in_via_its_sides() -> None:
    predicates = {
        "SW": _leaf("SW", "Workspot Software"),
        "HW": _leaf("HW", "Big Workstation", (_model_number("4598-009-39471"),)),
        "OTHER": _leaf("OTHER", "Other Workstation"),
        "R1": _relation("R1", "installed_on", "SW", "HW"),
        "R2": _relation("R2", "installed_with", "R1", "SW"),  # nested: a relationship as a side
        "R3": _relation("R3", "installed_on", "SW", "OTHER"),  # platform absent: never a candidate
        "R4": _relation("R4", "installed_on", "SW", "MISSING"),  # dangling
        "C1": _relation("C1", "installed_with", "C2", "SW"),  # cycle: never matches
        "C2": _relation("C2", "installed_with", "C1", "SW"),
    }
    asset = _asset(
        {"manufacturer": "Acme", "model": "Some Model", "model_number": "4598 009 39471"},
        ("Acme", "Workspot Software", "1.0"),
    )
    assert _candidates(predicates, asset) == ["SW", "HW", "R1", "R2"]
    assert set(_check(predicates, asset)) == {"SW", "HW", "R1", "R2"}


def test_asset_without_identifiers() -> None:
    predicates = {
        "BY_NUMBER": _leaf("BY_NUMBER", "Numbered Thing", (_model_number("12345"),)),
        "WILD": _leaf("WILD", "Wild Thing", (_model_number("12*"),)),
        "BY_NAME": _leaf("BY_NAME", "Monitor Pro", vendor=None),  # vendor-less product
    }
    asset = _asset({"model": "MONITOR  pro"})
    assert _candidates(predicates, asset) == ["BY_NAME"]
    assert set(_check(predicates, asset)) == {"BY_NAME"}
    bare = _asset({"manufacturer": "Acme"})
    assert _candidates(predicates, bare) == []
    assert _check(predicates, bare) == {}
