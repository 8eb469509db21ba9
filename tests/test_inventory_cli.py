"""`vigil inventory` end to end on both databases: canonical import, upsert, dry run, rejects, read, export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from conftest import Cli

HEADER = (
    "asset_id,manufacturer,model,model_number,serial_number,firmware_version,"
    "software_vendor,software_name,software_version,site,location,ip_address"
)
ROWS = [
    "WS-1,PHILIPS MEDICAL SYSTEMS,Allura workstation,4598 009 39471,SN1,,"
    "Philips,Interventional Workspot,R1.4.5,,Cath Lab 1,10.20.1.15",
    "WS-1,PHILIPS MEDICAL SYSTEMS,Allura workstation,4598 009 39471,SN1,,"
    "Philips,ViewForum,Release 6.3V1L10,,Cath Lab 1,10.20.1.15",
    "PUMP-1,Becton Dickinson,Alaris 8015,8015,ABC,v12.1.2,,,,,ICU,DHCP",
    "MON-1,GE Healthcare,CARESCAPE B450,2062896-001,X9,2.1,,,,Mercy North,Ward 3,10.30.0.7",
]


def _write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _assets(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli("inventory", "list", "--format", "json", *args)
    assert result.code == 0, result.stderr
    assets: list[dict[str, Any]] = json.loads(result.stdout)
    return assets


def test_canonical_import_normalises_and_keeps_raw(cli: Cli, tmp_path: Path) -> None:
    result = cli("inventory", "import", "--quiet", "--site", "St. Elsewhere", str(_write(tmp_path / "inv.csv", ROWS)))
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "assets: added 3, updated 0, unchanged 0, missing 0; rows rejected 0"

    assets = {a["asset_id"]: a for a in _assets(cli)}
    ws = assets["WS-1"]
    assert ws["site"] == "St. Elsewhere"  # --site where the column is empty
    assert (ws["manufacturer"], ws["manufacturer_raw"]) == ("Philips", "PHILIPS MEDICAL SYSTEMS")
    assert (ws["model_number"], ws["model_number_raw"]) == ("459800939471", "4598 009 39471")
    assert [(p["name"], p["version"], p["version_raw"]) for p in ws["installed_products"]] == [
        ("Interventional Workspot", "1.4.5", "R1.4.5"),
        ("ViewForum", "6.3V1L10", "Release 6.3V1L10"),
    ]
    pump = assets["PUMP-1"]
    assert (pump["manufacturer"], pump["firmware_version"], pump["installed_products"]) == ("BD", "12.1.2", [])
    assert (pump["ip_address"], pump["ip_address_raw"]) == (None, "DHCP")
    assert assets["MON-1"]["site"] == "Mercy North"  # the file's site column wins over --site
    assert [a["asset_id"] for a in _assets(cli, "--site", "Mercy North")] == ["MON-1"]


def test_reimport_upserts_and_reports_missing_then_prunes(cli: Cli, tmp_path: Path) -> None:
    path = _write(tmp_path / "inv.csv", ROWS)
    assert cli("inventory", "import", "--quiet", "--site", "St. Elsewhere", str(path)).code == 0

    again = cli("inventory", "import", "--quiet", "--site", "St. Elsewhere", str(path))
    assert again.stdout.splitlines()[0] == "assets: added 0, updated 0, unchanged 3, missing 0; rows rejected 0"

    changed = [ROWS[0].replace("R1.4.5", "R1.5.0"), ROWS[1], ROWS[3], "CT-9,Siemens,SOMATOM,123,S,VA40,,,,,CT,10.1.1.1"]
    _write(path, changed)  # PUMP-1 gone, WS-1 changed, CT-9 new, MON-1 unchanged
    dry = cli("inventory", "import", "--site", "St. Elsewhere", "--dry-run", str(path))
    assert dry.stdout.splitlines()[0] == "assets: added 1, updated 1, unchanged 1, missing 1; rows rejected 0"
    assert "dry run: nothing was changed" in dry.stdout
    assert sorted(a["asset_id"] for a in _assets(cli)) == ["MON-1", "PUMP-1", "WS-1"]

    real = cli("inventory", "import", "--site", "St. Elsewhere", str(path))
    assert real.stdout.splitlines()[0] == "assets: added 1, updated 1, unchanged 1, missing 1; rows rejected 0"
    assert "1 assets of site 'St. Elsewhere' are not in this file: kept; --prune removes them" in real.stdout
    assets = {a["asset_id"]: a for a in _assets(cli)}
    assert sorted(assets) == ["CT-9", "MON-1", "PUMP-1", "WS-1"]
    assert [p["version"] for p in assets["WS-1"]["installed_products"]] == ["1.5.0", "6.3V1L10"]

    pruned = cli("inventory", "import", "--quiet", "--site", "St. Elsewhere", "--prune", str(path))
    assert pruned.stdout.splitlines()[0] == "assets: added 0, updated 0, unchanged 3, missing 1; rows rejected 0"
    assert sorted(a["asset_id"] for a in _assets(cli)) == ["CT-9", "MON-1", "WS-1"]


def test_rejected_rows_are_reported_and_kept_in_a_rejects_file(cli: Cli, tmp_path: Path) -> None:
    rows = [
        *ROWS,
        "WS-1,Philips,Allura workstation,4598 009 99999,SN1,,Philips,ViewForum,1.0,,Cath Lab 1,10.20.1.15",
        ",Philips,X,1,2,,,,,,,",
        '"=HYPERLINK(""http://evil.example"",""x"")",Philips,X,1,2,,,,,,,',
    ]
    path = _write(tmp_path / "inv.csv", rows)
    result = cli("inventory", "import", "--quiet", "--site", "St. Elsewhere", str(path))
    assert result.code == 1
    assert result.stdout.splitlines()[0] == "assets: added 4, updated 0, unchanged 0, missing 0; rows rejected 2"
    assert result.stderr.splitlines() == [
        f"rejected: {path}: row 6, column model_number: asset_id 'WS-1' has model_number '4598 009 99999' here "
        "but '4598 009 39471' in row 2",
        f"rejected: {path}: row 7, column asset_id: empty asset_id",
    ]
    rejects = list(csv.reader((tmp_path / "inv.csv.rejects.csv").open(encoding="utf-8")))
    assert rejects[0] == ["row", "reason", *HEADER.split(",")]
    assert [r[0] for r in rejects[1:]] == ["6", "7"]
    assert rejects[1][1].startswith("model_number: asset_id 'WS-1' has model_number")
    # The formula-looking asset_id is a valid id: stored raw...
    assets = {a["asset_id"] for a in _assets(cli)}
    assert '=HYPERLINK("http://evil.example","x")' in assets


def test_export_neutralises_formulas_and_reimports_unchanged(cli: Cli, tmp_path: Path) -> None:
    rows = [*ROWS, '"=HYPERLINK(""http://evil.example"",""x"")",@SUM(A1),+cmd,-2,2,,,,,,,']
    path = _write(tmp_path / "inv.csv", rows)
    assert cli("inventory", "import", "--quiet", "--site", "St. Elsewhere", str(path)).code == 0

    exported = cli("inventory", "export", "--format", "csv")
    assert exported.code == 0, exported.stderr
    table = list(csv.reader(io.StringIO(exported.stdout)))
    assert table[0][:12] == HEADER.split(",")
    evil = next(r for r in table if r[0].startswith("'="))
    assert evil[:4] == ['\'=HYPERLINK("http://evil.example","x")', "'@SUM(A1)", "'+cmd", "'-2"]
    assert len(table) == 1 + 5  # WS-1 twice (two products), PUMP-1, MON-1, the formula asset

    xlsx = tmp_path / "out.xlsx"
    written = cli("inventory", "export", "--format", "xlsx", "--out", str(xlsx))
    assert written.code == 0, written.stderr
    sheet = load_workbook(xlsx).active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][:12] == HEADER.split(",")
    assert all(not (isinstance(v, str) and v.startswith("=")) for row in cells for v in row)

    # A clean export (no formula rows) imports back unchanged: raw values round-trip.
    clean = _write(tmp_path / "clean.csv", ROWS)
    assert cli("inventory", "import", "--quiet", "--site", "St. Elsewhere", "--prune", str(clean)).code == 0
    round_trip = tmp_path / "export.csv"
    assert cli("inventory", "export", "--format", "csv", "--out", str(round_trip)).code == 0
    again = cli("inventory", "import", "--quiet", str(round_trip))
    assert again.stdout.splitlines()[0] == "assets: added 0, updated 0, unchanged 3, missing 0; rows rejected 0"


def test_show_and_aliases(cli: Cli, tmp_path: Path) -> None:
    assert (
        cli("inventory", "import", "--quiet", "--site", "St. Elsewhere", str(_write(tmp_path / "i.csv", ROWS))).code
        == 0
    )
    shown = json.loads(cli("inventory", "show", "WS-1", "--format", "json").stdout)
    assert shown["asset_id"] == "WS-1" and shown["sbom"] is None
    assert shown["source_row"] == 2
    missing = cli("inventory", "show", "NOPE")
    assert (missing.code, missing.stderr.strip()) == (1, "error: no asset 'NOPE'")
    table = cli("inventory", "show", "WS-1")
    assert "4598 009 39471" in table.stdout and "459800939471" in table.stdout

    aliases = json.loads(cli("inventory", "aliases", "--format", "json").stdout)
    assert "Philips Medical Systems Nederland" in aliases["manufacturers"]["Philips"]


def test_file_level_errors_are_one_line(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = cli("inventory", "import", str(empty))
    assert result.code == 1
    assert len(result.stderr.splitlines()) == 1 and "empty" in result.stderr

    no_id = _write(tmp_path / "noid.csv", ["Philips,X"], header="manufacturer,model")
    result = cli("inventory", "import", str(no_id))
    assert result.code == 1
    assert len(result.stderr.splitlines()) == 1 and "asset_id" in result.stderr

    header_only = _write(tmp_path / "header.csv", [])
    result = cli("inventory", "import", "--site", "S", str(header_only))
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "assets: added 0, updated 0, unchanged 0, missing 0; rows rejected 0"


HBOM = Path(__file__).parent / "data" / "cyclonedx" / "philips-workstation-hbom-1.6.json"


def test_import_sbom_adds_components_as_installed_products(cli: Cli, tmp_path: Path) -> None:
    path = _write(tmp_path / "inv.csv", ROWS)
    assert cli("inventory", "import", "--quiet", "--site", "St. Elsewhere", str(path)).code == 0

    result = cli("inventory", "import-sbom", str(HBOM), "--asset", "WS-1", "--site", "St. Elsewhere")
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "asset WS-1 (St. Elsewhere): 5 installed products from CycloneDX 1.6"
    shown = json.loads(cli("inventory", "show", "WS-1", "--format", "json").stdout)
    sbom = [(p["vendor"], p["name"], p["version"]) for p in shown["installed_products"] if p["origin"] == "sbom"]
    assert ("Philips", "Interventional Workspot", "1.4.5") in sbom
    assert ("Microsoft Corporation", "Windows 10 Enterprise LTSC 2019", "10.0.17763") in sbom
    assert not any(name == "Azurion Interventional Workstation" for _, name, _ in sbom)  # the device itself
    assert shown["sbom"]["spec_version"] == "1.6"

    # Re-importing the inventory keeps the SBOM components (they are not inventory rows).
    _write(path, [r.replace("R1.4.5", "R1.4.3") for r in ROWS])
    assert cli("inventory", "import", "--quiet", "--site", "St. Elsewhere", str(path)).code == 0
    shown = json.loads(cli("inventory", "show", "WS-1", "--format", "json").stdout)
    assert {p["origin"] for p in shown["installed_products"]} == {"inventory", "sbom"}

    not_cdx = tmp_path / "spdx.json"
    not_cdx.write_text(json.dumps({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}))
    refused = cli("inventory", "import-sbom", str(not_cdx), "--asset", "WS-1", "--site", "St. Elsewhere")
    assert refused.code == 1
    assert len(refused.stderr.splitlines()) == 1 and "SPDX" in refused.stderr
    unknown = cli("inventory", "import-sbom", str(HBOM), "--asset", "NOPE", "--site", "St. Elsewhere")
    assert (unknown.code, unknown.stderr.strip()) == (
        1,
        "error: no asset 'NOPE' in site 'St. Elsewhere': import the inventory first",
    )


def test_sbom_components_excluded_from_the_runtime_are_not_installed(tmp_path: Path) -> None:
    from vigil.services.inventory_sbom import installed_from_sbom
    from vigil.sources.inventory.cyclonedx import read_cyclonedx

    bom = json.loads(HBOM.read_text())
    bom["components"].append({"type": "library", "name": "pytest", "version": "8.0", "scope": "excluded"})
    document = read_cyclonedx(json.dumps(bom).encode(), "hbom.json")
    assert any(c.name == "pytest" and c.scope == "excluded" for c in document.components)
    assert "pytest" not in {p.name for p in installed_from_sbom(document)}
