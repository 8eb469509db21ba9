"""Issue #3's bad inputs through the real CLI on both databases: one clear line, good rows land, nothing lost."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from conftest import Cli

HEADER = [
    "asset_id",
    "manufacturer",
    "model",
    "model_number",
    "serial_number",
    "firmware_version",
    "software_vendor",
    "software_name",
    "software_version",
    "site",
    "location",
    "ip_address",
]


def _assets(cli: Cli) -> dict[str, dict[str, Any]]:
    result = cli("inventory", "list", "--format", "json")
    assert result.code == 0, result.stderr
    return {a["asset_id"]: a for a in json.loads(result.stdout)}


def test_cp1252_file_is_read_with_its_accents(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "cmms.csv"
    text = ",".join(HEADER) + "\r\nVENT-1,Dräger,Evita V800,8422800,ARZK-0001,02.10,,,,Hôpital Nord,Réa 3,10.0.0.9\r\n"
    path.write_bytes(text.encode("cp1252"))
    result = cli("inventory", "import", "--quiet", str(path))
    assert result.code == 0, result.stderr
    vent = _assets(cli)["VENT-1"]
    assert (vent["manufacturer"], vent["manufacturer_raw"], vent["site"]) == ("Dräger", "Dräger", "Hôpital Nord")
    assert vent["location"] == "Réa 3"


def test_ten_megabyte_cell_rejects_its_row_only(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerow(["OK-1", "Philips", "IntelliVue MX450", "866062", "S1", "", "", "", "", "H", "ICU", ""])
        writer.writerow(["BIG-1", "Philips", "x" * 10_000_000, "866062", "S2", "", "", "", "", "H", "ICU", ""])
        writer.writerow(["OK-2", "Philips", "IntelliVue MX450", "866062", "S3", "", "", "", "", "H", "ICU", ""])
    result = cli("inventory", "import", "--quiet", str(path))
    assert result.code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"rejected: {path}: row 3, column model: ")
    assert "10,000,000 characters" in line
    assert result.stdout.splitlines()[0] == "assets: added 2, updated 0, unchanged 0, missing 0; rows rejected 1"
    assert sorted(_assets(cli)) == ["OK-1", "OK-2"]
    csv.field_size_limit(20_000_000)  # the rejects file carries the 10 MB cell
    rejects = list(csv.reader((tmp_path / "big.csv.rejects.csv").open(encoding="utf-8")))
    assert rejects[1][0] == "3" and rejects[1][2] == "BIG-1"
    assert len(rejects[1][HEADER.index("model") + 2]) == 10_000_000  # nothing lost


def test_xlsx_with_title_row_merged_cells_and_blank_rows(cli: Cli, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Biomed equipment export, March 2026"])  # title row above the header
    sheet.merge_cells("A1:F1")
    sheet.append(["Asset Tag", "Mfr", "Model", "12NC", "SW Name", "SW Version"])
    sheet.append(
        ["WS-1", "Philips Medical Systems", "Allura workstation", 459800939471, "Interventional Workspot", "R1.4.5"]
    )
    sheet.append([None, None, None, None, "ViewForum", "6.3V1L10"])
    for column in "ABCD":  # the device cells span both product rows
        sheet.merge_cells(f"{column}3:{column}4")
    sheet.append([])  # blank row
    sheet.append(["PUMP-1", "BD", "Alaris 8015", "8015", None, None])
    path = tmp_path / "export.xlsx"
    book.save(path)

    result = cli("inventory", "import", "--quiet", "--site", "St. Elsewhere", str(path))
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "assets: added 2, updated 0, unchanged 0, missing 0; rows rejected 0"
    assets = _assets(cli)
    ws = assets["WS-1"]
    assert (ws["manufacturer"], ws["model_number"], ws["model_number_raw"]) == (
        "Philips",
        "459800939471",
        "459800939471",
    )
    assert [p["name"] for p in ws["installed_products"]] == ["Interventional Workspot", "ViewForum"]
    assert assets["PUMP-1"]["source_row"] == 6  # the sheet's own row number, blank row counted


def test_mapping_file_and_extra_columns(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "de.csv"
    path.write_text(
        "Gerätenummer;Hersteller;Typ;Sachnummer;Bemerkung;Kostenstelle\n"
        "GE-1;Philips Medical Systems Nederland B.V.;Azurion;4598-009-39481;alt;4711\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns:\n  Gerätenummer: asset_id\n  Hersteller: manufacturer\n  Typ: model\n  Sachnummer: model_number\n"
        "ignore:\n  - Bemerkung\n",
        encoding="utf-8",
    )
    without = cli("inventory", "import", "--site", "Klinikum", str(path))
    assert without.code == 1 and "asset_id" in without.stderr

    result = cli("inventory", "import", "--quiet", "--site", "Klinikum", "--mapping", str(mapping), str(path))
    assert result.code == 0, result.stderr
    asset = _assets(cli)["GE-1"]
    assert (asset["manufacturer"], asset["model_number"]) == ("Philips", "459800939481")
    assert asset["extra"] == {"Kostenstelle": "4711"}  # unmapped, kept; the ignored column is dropped


def test_bad_mapping_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  Foo: not_a_field\n", encoding="utf-8")
    result = cli("inventory", "import", "--mapping", str(mapping), str(path))
    assert result.code == 1
    [line] = result.stderr.splitlines()
    assert "not_a_field" in line and "map.yaml" in line
