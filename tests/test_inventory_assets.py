"""Rows -> assets: grouping by (site, asset_id), device agreement, installed products, rejections."""

from __future__ import annotations

from vigil.identity.vendors import default_aliases
from vigil.sources.inventory.assets import AssetAssembler
from vigil.sources.inventory.records import RawRow

SEED_ROW = {
    "asset_id": "WS-1",
    "manufacturer": "PHILIPS MEDICAL SYSTEMS",
    "model": "Allura  Xper workstation",
    "model_number": "4598 009 39471",
    "software_vendor": "Philips",
    "software_name": "Interventional Workspot",
    "software_version": "R1.4.5",
}


def _assembler(site: str | None = "St. Elsewhere") -> AssetAssembler:
    return AssetAssembler(site, default_aliases())


def test_rows_sharing_asset_id_make_one_asset_with_each_product() -> None:
    assembler = _assembler()
    assert assembler.add(RawRow(2, SEED_ROW)) is None
    second = SEED_ROW | {
        "manufacturer": "Philips",
        "model_number": "4598-009-39471",
        "software_name": "ViewForum",
        "software_version": "6.3V1L10",
    }
    assert assembler.add(RawRow(3, second)) is None
    [asset] = assembler.assets()
    assert (asset.site, asset.asset_id, asset.first_row) == ("St. Elsewhere", "WS-1", 2)
    assert asset.device["manufacturer"] == "Philips"
    assert asset.device["manufacturer_raw"] == "PHILIPS MEDICAL SYSTEMS"  # the first row's text is kept
    assert asset.device["model_number"] == "459800939471"
    assert asset.device["model"] == "Allura Xper workstation"
    assert [(p.name, p.version, p.version_raw) for p in asset.installed] == [
        ("Interventional Workspot", "1.4.5", "R1.4.5"),
        ("ViewForum", "6.3V1L10", "6.3V1L10"),
    ]


def test_duplicate_asset_id_with_disagreeing_device_is_rejected_naming_both_rows() -> None:
    assembler = _assembler()
    assembler.add(RawRow(2, SEED_ROW))
    rejection = assembler.add(RawRow(7, SEED_ROW | {"model_number": "4598 009 12345"}))
    assert rejection is not None
    assert rejection.line == (
        "row 7, column model_number: asset_id 'WS-1' has model_number '4598 009 12345' here "
        "but '4598 009 39471' in row 2"
    )
    [asset] = assembler.assets()
    assert asset.device["model_number"] == "459800939471"


def test_same_asset_id_in_two_sites_is_two_assets() -> None:
    assembler = _assembler()
    assembler.add(RawRow(2, SEED_ROW))
    assembler.add(RawRow(3, SEED_ROW | {"site": "Mercy North", "model_number": "4598 009 12345"}))
    assert sorted(a.site for a in assembler.assets()) == ["Mercy North", "St. Elsewhere"]


def test_asset_without_software_has_no_installed_products() -> None:
    assembler = _assembler()
    row = {k: v for k, v in SEED_ROW.items() if not k.startswith("software_")}
    assembler.add(RawRow(2, row))
    [asset] = assembler.assets()
    assert asset.installed == ()


def test_rows_without_site_or_asset_id_or_with_bad_flags_are_rejected() -> None:
    assembler = _assembler(site=None)
    no_site = assembler.add(RawRow(2, SEED_ROW))
    assert no_site is not None and no_site.column == "site"
    assembler = _assembler()
    no_id = assembler.add(RawRow(3, SEED_ROW | {"asset_id": ""}))
    assert no_id is not None and no_id.line == "row 3, column asset_id: empty asset_id"
    bad_flag = assembler.add(RawRow(4, SEED_ROW | {"do_not_scan": "perhaps"}))
    assert bad_flag is not None and bad_flag.line == "row 4, column do_not_scan: 'perhaps' is not yes/no"
    orphan_version = assembler.add(RawRow(5, {"asset_id": "X", "software_version": "1.0"}))
    assert orphan_version is not None and orphan_version.column == "software_version"
    assert len(assembler) == 0


def test_content_hash_changes_with_content_only() -> None:
    def digest(row: dict[str, str]) -> str:
        assembler = _assembler()
        assembler.add(RawRow(2, row))
        return next(assembler.assets()).content_hash

    assert digest(SEED_ROW) == digest(dict(SEED_ROW))
    assert digest(SEED_ROW) != digest(SEED_ROW | {"software_version": "1.5.0"})
    assert digest(SEED_ROW) != digest(SEED_ROW | {"location": "Cath lab 2"})
