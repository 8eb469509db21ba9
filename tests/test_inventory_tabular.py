"""Real-world inventory files -> RawRows: header synonyms, mapping files, CSV dialects, XLSX (no database)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from vigil.sources.inventory.fields import ALL_FIELDS, CANONICAL_HEADER
from vigil.sources.inventory.mapping import IGNORE, load_mapping
from vigil.sources.inventory.records import InventoryFileError, RawRow, TableHeader
from vigil.sources.inventory.synonyms import (
    HeaderMatcher,
    column_letter,
    default_synonyms,
    load_synonyms,
    normalise_header,
    synonym_field,
)
from vigil.sources.inventory.tabular import MAX_CELL_CHARS, open_table

CANONICAL = ",".join(CANONICAL_HEADER)


def read(path: Path, **kwargs: Any) -> tuple[TableHeader, list[RawRow]]:
    header, rows = open_table(path, **kwargs)
    return header, list(rows)


def write(tmp_path: Path, text: str, name: str = "inventory.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def refusal(path: Path, **kwargs: Any) -> str:
    with pytest.raises(InventoryFileError) as caught:
        read(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- synonyms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Asset ID", "asset_id"),
        ("ASSET_ID", "asset_id"),
        ("asset-id", "asset_id"),
        ("AssetID", "asset_id"),
        ("Asset #", "asset_id"),
        ("Asset#", "asset_id"),
        ("Asset No.", "asset_id"),
        ("Asset Tag", "asset_id"),
        ("Tag", "asset_id"),
        ("Equipment ID", "asset_id"),
        ("Device ID", "asset_id"),
        ("CMMS ID", "asset_id"),
        ("Control Number", "asset_id"),
        ("Control #", "asset_id"),
        ("  asset id  ", "asset_id"),
        ("Mfr", "manufacturer"),
        ("Mfg.", "manufacturer"),
        ("MANUFACTURER", "manufacturer"),
        ("Vendor", "manufacturer"),
        ("Make", "manufacturer"),
        ("Maker", "manufacturer"),
        ("OEM", "manufacturer"),
        ("Model", "model"),
        ("Model Name", "model"),
        ("Model Description", "model"),
        ("Product", "model"),
        ("Product Name", "model"),
        ("Model #", "model_number"),
        ("Model No", "model_number"),
        ("Model No.", "model_number"),
        ("Model Nr", "model_number"),
        ("model_number", "model_number"),
        ("Part No", "model_number"),
        ("Part Number", "model_number"),
        ("P/N", "model_number"),
        ("REF", "model_number"),
        ("Catalog Number", "model_number"),
        ("Catalogue No", "model_number"),
        ("12NC", "model_number"),
        ("SN", "serial_number"),
        ("S/N", "serial_number"),
        ("Serial", "serial_number"),
        ("Serial No", "serial_number"),
        ("Serial №", "serial_number"),
        ("Serial Number", "serial_number"),
        ("serial_no", "serial_number"),
        ("Firmware", "firmware_version"),
        ("FW", "firmware_version"),
        ("FW Version", "firmware_version"),
        ("Firmware Version", "firmware_version"),
        ("Device Version", "firmware_version"),
        ("SW Vendor", "software_vendor"),
        ("Software Vendor", "software_vendor"),
        ("Software Manufacturer", "software_vendor"),
        ("SW Name", "software_name"),
        ("Software", "software_name"),
        ("Software Name", "software_name"),
        ("Application", "software_name"),
        ("SW Version", "software_version"),
        ("Software Version", "software_version"),
        ("Software Rev", "software_version"),
        ("SW Rev.", "software_version"),
        ("Software Release", "software_version"),
        ("Release", "software_version"),
        ("Site", "site"),
        ("Facility", "site"),
        ("Hospital", "site"),
        ("Campus", "site"),
        ("Location", "location"),
        ("Department", "location"),
        ("Room", "location"),
        ("Area", "location"),
        ("IP", "ip_address"),
        ("IP Address", "ip_address"),
        ("IPv4", "ip_address"),
        ("IP Address (static)", "ip_address"),
        ("UDI", "udi_di"),
        ("UDI-DI", "udi_di"),
        ("GUDID", "udi_di"),
        ("DI", "udi_di"),
        ("MAC", "mac_address"),
        ("MAC Address", "mac_address"),
        ("BMC", "bmc_address"),
        ("BMC Address", "bmc_address"),
        ("IPMI", "bmc_address"),
        ("IPMI Address", "bmc_address"),
        ("iLO", "bmc_address"),
        ("iDRAC", "bmc_address"),
        ("Management IP", "bmc_address"),
        ("Zone", "network_zone"),
        ("Network Zone", "network_zone"),
        ("VLAN", "network_zone"),
        ("Segment", "network_zone"),
        ("Category", "device_category"),
        ("Device Category", "device_category"),
        ("Type", "device_category"),
        ("Device Type", "device_category"),
        ("Equipment Type", "device_category"),
        ("Patient Connected", "patient_connected"),
        ("Patient-Connected?", "patient_connected"),
        ("Life Sustaining", "life_sustaining"),
        ("Life Support", "life_sustaining"),
        ("Do Not Scan", "do_not_scan"),
        ("No Scan", "do_not_scan"),
        ("Scan Exempt", "do_not_scan"),
    ],
)
def test_synonyms_recognise_real_header_spellings(header: str, field: str) -> None:
    assert synonym_field(header) == field


@pytest.mark.parametrize("header", ["Version", "Description", "Notes", "Gerätenummer", "No", "", "#"])
def test_ambiguous_or_unknown_headers_map_to_nothing(header: str) -> None:
    assert synonym_field(header) is None


def test_normalise_header_reads_number_marks() -> None:
    assert normalise_header("Serial No.") == normalise_header("serial_number") == "serialnumber"
    assert normalise_header("Asset #") == normalise_header("Asset Number") == "assetnumber"
    assert normalise_header("No Scan") == "noscan"  # a leading "No" is a word, not "number"
    assert normalise_header("S/N") == "sn"


def test_every_canonical_field_matches_itself_and_has_synonyms() -> None:
    table = default_synonyms()
    for field in ALL_FIELDS:
        assert synonym_field(field) == field
        assert list(table.values()).count(field) > 1, field


def test_synonym_table_refuses_a_header_under_two_fields(tmp_path: Path) -> None:
    table = write(tmp_path, "asset_id: [Tag]\nlocation: ['TAG ']\n", "synonyms.yaml")
    with pytest.raises(InventoryFileError, match=r"'TAG ' is listed under both asset_id and location"):
        load_synonyms(table)
    unknown = write(tmp_path, "colour: [Color]\n", "unknown.yaml")
    with pytest.raises(InventoryFileError, match="'colour' is not a canonical field"):
        load_synonyms(unknown)


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 701, 702)] == ["A", "Z", "AA", "AZ", "ZZ", "AAA"]


def test_matcher_mapping_wins_and_claims_its_field() -> None:
    matcher = HeaderMatcher({"Tag": "location", "Inventar-Nr.": "asset_id"})
    assert matcher.assign(["Inventar-Nr.", "Tag", "Asset ID", "Mfr"]) == ["asset_id", "location", None, "manufacturer"]
    assert matcher.field("inventar nr") == "asset_id"  # mapping keys match like synonyms do


# --- mapping files -------------------------------------------------------------------------------

GERMAN = "Gerätenummer;Hersteller;Typ;Bemerkung\nG-1;Dräger;Infinity;alt\n"


def test_yaml_mapping_file(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "# site mapping\ncolumns:\n  Gerätenummer: asset_id\n  Hersteller: manufacturer\n  Typ: model\n"
        "ignore: [Bemerkung]\n",
        "mapping.yaml",
    )
    loaded = load_mapping(mapping)
    assert loaded == {"Gerätenummer": "asset_id", "Hersteller": "manufacturer", "Typ": "model", "Bemerkung": IGNORE}
    header, rows = read(write(tmp_path, GERMAN), mapping=loaded)
    assert header.mapped == {"Gerätenummer": "asset_id", "Hersteller": "manufacturer", "Typ": "model"}
    assert header.ignored == ("Bemerkung",)
    assert header.unmapped == ()
    assert rows == [RawRow(2, {"asset_id": "G-1", "manufacturer": "Dräger", "model": "Infinity"})]


def test_json_mapping_file(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"columns": {"Gerätenummer": "asset_id", "Hersteller": "manufacturer"}}))
    header, rows = read(write(tmp_path, GERMAN), mapping=load_mapping(mapping))
    assert rows[0].values == {"asset_id": "G-1", "manufacturer": "Dräger"}
    assert rows[0].extra == {"Typ": "Infinity", "Bemerkung": "alt"}
    assert header.unmapped == ("Typ", "Bemerkung")


def test_yaml_mapping_keeps_every_header_as_text(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, "columns:\n  No: asset_id\n  On: location\n  2024: site\n", "m.yml"))
    assert mapping == {"No": "asset_id", "On": "location", "2024": "site"}


def test_mapping_without_it_the_file_is_refused_naming_headers(tmp_path: Path) -> None:
    message = refusal(write(tmp_path, GERMAN))
    assert message == "no asset_id column (headers: Gerätenummer, Hersteller, Typ, Bemerkung); add a mapping file"


def test_mapping_overrides_a_synonym(tmp_path: Path) -> None:
    path = write(tmp_path, "Asset ID,Tag\nA1,ICU\n")
    _, rows = read(path, mapping={"Tag": "location"})
    assert rows[0].values == {"asset_id": "A1", "location": "ICU"}


def test_duplicate_canonical_column_is_refused_naming_both(tmp_path: Path) -> None:
    path = write(tmp_path, "Asset ID,Mfr,Asset Tag\nA1,GE,T-1\n")
    message = refusal(path)
    assert "'Asset ID' (A)" in message and "'Asset Tag' (C)" in message and "asset_id" in message
    assert "mapping file" in message
    # A mapping file resolves it: ignore one, or assign one explicitly (the other becomes extra).
    _, rows = read(path, mapping={"Asset Tag": IGNORE})
    assert rows == [RawRow(2, {"asset_id": "A1", "manufacturer": "GE"})]
    _, rows = read(path, mapping={"Asset Tag": "asset_id"})
    assert rows == [RawRow(2, {"asset_id": "T-1", "manufacturer": "GE"}, {"Asset ID": "A1"})]


def test_two_mapping_entries_on_one_field_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "A,B\n1,2\n")
    assert "'A' (A) and 'B' (B) both map to asset_id" in refusal(path, mapping={"A": "asset_id", "B": "asset_id"})


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("m.yaml", "columns:\n  Gerätenummer: asset_tag\n", "maps to unknown field 'asset_tag' (known: asset_id,"),
        ("m.yaml", "columns: [asset_id]\n", "`columns:` must map each original header"),
        ("m.yaml", "columns:\n  A: [asset_id]\n", "`columns:` must map each original header"),
        ("m.yaml", "column:\n  A: asset_id\n", "expected a mapping with `columns:` and/or `ignore:`"),
        ("m.yaml", "- A\n- B\n", "expected a mapping with `columns:` and/or `ignore:`"),
        ("m.yaml", "ignore: Bemerkung\n", "`ignore:` must be a list"),
        ("m.yaml", "columns:\n  A: asset_id\nignore: [A]\n", "'A' is both mapped and ignored"),
        ("m.yaml", "columns: {A: asset_id\n", "not valid YAML"),
        ("m.json", '{"columns": {"A": "asset_id",}}', "not valid JSON"),
        ("m.txt", "columns: {}\n", "must be .yaml, .yml or .json"),
    ],
)
def test_bad_mapping_files_are_refused_naming_the_file(tmp_path: Path, name: str, content: str, reason: str) -> None:
    path = write(tmp_path, content, name)
    with pytest.raises(InventoryFileError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and reason in message and "\n" not in message


def test_missing_and_empty_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(InventoryFileError, match="cannot read mapping file"):
        load_mapping(tmp_path / "absent.yaml")
    assert load_mapping(write(tmp_path, "# nothing yet\n", "empty.yaml")) == {}


def test_mapping_built_in_code_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "Asset ID\nA1\n")
    assert "unknown field 'colour'" in refusal(path, mapping={"Asset ID": "colour"})


# --- CSV: encodings and dialects -----------------------------------------------------------------


def test_canonical_header_utf8(tmp_path: Path) -> None:
    text = f"{CANONICAL}\nA-1,Dräger,Infinity,MS1,SN1,VG7,Microsoft,Windows,10,Main,ICU,10.0.0.1\n"
    header, rows = read(write(tmp_path, text))
    assert header.columns == tuple(CANONICAL.split(","))
    assert set(header.mapped.values()) == set(CANONICAL.split(","))
    assert (header.encoding, header.header_row, header.sheet) == ("utf-8", 1, None)
    assert rows[0].values["manufacturer"] == "Dräger" and rows[0].values["ip_address"] == "10.0.0.1"
    assert rows[0].row_number == 2 and rows[0].extra == {} and rows[0].error is None


def test_utf8_with_bom(tmp_path: Path) -> None:
    header, rows = read(write(tmp_path, "Asset ID,Mfr\nA1,Ørsted Medical\n", encoding="utf-8-sig"))
    assert header.columns == ("Asset ID", "Mfr") and header.encoding == "utf-8-sig"
    assert rows[0].values == {"asset_id": "A1", "manufacturer": "Ørsted Medical"}


def test_cp1252_bytes_are_read_correctly(tmp_path: Path) -> None:
    text = "Asset ID;Hersteller;Standort\nA1;Dräger;Ø-Bau 3\nA2;Löwenstein;Küche – 2\n"
    path = write(tmp_path, text, encoding="cp1252")
    header, rows = read(path, mapping={"Hersteller": "manufacturer", "Standort": "location"})
    assert header.encoding == "cp1252"
    assert [r.values for r in rows] == [
        {"asset_id": "A1", "manufacturer": "Dräger", "location": "Ø-Bau 3"},
        {"asset_id": "A2", "manufacturer": "Löwenstein", "location": "Küche – 2"},
    ]


def test_cp1252_detected_even_when_the_first_non_ascii_byte_is_far_in(tmp_path: Path) -> None:
    rows = "".join(f"A{i},GE\n" for i in range(200_000))
    path = write(tmp_path, f"Asset ID,Mfr\n{rows}Z,Dräger\n", encoding="cp1252")
    header, read_rows = read(path)
    assert header.encoding == "cp1252" and read_rows[-1].values["manufacturer"] == "Dräger"


def test_utf16_unicode_text_export(tmp_path: Path) -> None:
    header, rows = read(write(tmp_path, "Asset ID\tMfr\r\nA1\tDräger\r\n", "export.txt", encoding="utf-16"))
    assert header.encoding == "utf-16" and rows[0].values == {"asset_id": "A1", "manufacturer": "Dräger"}


def test_undecodable_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Asset ID\nA\x81\n")  # 0x81 is undefined in cp1252 and invalid UTF-8
    assert "not UTF-8 or Windows-1252 text: byte 0x81 at offset 10" in refusal(path)
    path.write_bytes(b"\xef\xbb\xbfAsset ID\nA\xe9\n")
    assert "starts with a UTF-8 byte order mark but byte 0xe9" in refusal(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"Asset ID\x00,\x00", "contains NUL bytes"),
        (b"PK\x03\x04rest-of-a-zip", "an XLSX workbook?"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Excel .xls"),
    ],
)
def test_binary_files_named_csv_are_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "inventory.csv"
    path.write_bytes(content)
    assert reason in refusal(path)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    lines = ["Asset ID", "Model", "Location", "Notes"], ["A1", "MX450", "ICU, bed 3", "a;b"]
    text = "".join(delimiter.join(f'"{c}"' if delimiter in c or "," in c else c for c in line) + "\n" for line in lines)
    header, rows = read(write(tmp_path, text))
    assert header.columns == ("Asset ID", "Model", "Location", "Notes")
    assert rows[0].values == {"asset_id": "A1", "model": "MX450", "location": "ICU, bed 3"}
    assert rows[0].extra == {"Notes": "a;b"}


def test_semicolon_file_whose_headers_contain_commas(tmp_path: Path) -> None:
    text = "Asset ID;Model, Name;Serial No.;Remarks, misc\nA1;MX450;SN-1;x\n"
    header, rows = read(write(tmp_path, text))
    assert header.mapped == {"Asset ID": "asset_id", "Model, Name": "model", "Serial No.": "serial_number"}
    assert rows[0].extra == {"Remarks, misc": "x"}


# --- CSV: rows -----------------------------------------------------------------------------------


def test_values_stripped_empty_omitted_blank_rows_skipped_with_real_row_numbers(tmp_path: Path) -> None:
    text = "Asset ID,Mfr,Model,Notes\n  A1 , GE ,,\n\n , ,\t,\nA2,\u00a0Philips\u00a0,MX,  n  \n"
    _, rows = read(write(tmp_path, text))
    assert rows == [
        RawRow(2, {"asset_id": "A1", "manufacturer": "GE"}),
        RawRow(5, {"asset_id": "A2", "manufacturer": "Philips", "model": "MX"}, {"Notes": "n"}),
    ]


def test_header_only_file_has_zero_rows(tmp_path: Path) -> None:
    header, rows = read(write(tmp_path, "Asset ID,Mfr,Model\n"))
    assert header.mapped == {"Asset ID": "asset_id", "Mfr": "manufacturer", "Model": "model"} and rows == []


@pytest.mark.parametrize("content", [b"", b"\n\n", b" , ,\r\n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "inventory.csv"
    path.write_bytes(content)
    assert refusal(path) == "empty file"


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot read" in refusal(tmp_path / "absent.csv")


def test_title_rows_above_the_header_are_skipped(tmp_path: Path) -> None:
    text = "Device inventory,exported 2024-05-01\n\nAsset ID,Mfr,Model\nA1,GE,CARESCAPE\n"
    header, rows = read(write(tmp_path, text))
    assert header.header_row == 3 and rows == [
        RawRow(4, {"asset_id": "A1", "manufacturer": "GE", "model": "CARESCAPE"})
    ]


def test_a_data_cell_reading_tag_is_not_taken_for_the_header(tmp_path: Path) -> None:
    text = "Gerät,Hersteller,Typ\nG1,GE,Tag\n"
    assert "no asset_id column (headers: Gerät, Hersteller, Typ)" in refusal(write(tmp_path, text))


def test_extra_columns_blank_and_repeated_headers(tmp_path: Path) -> None:
    text = "Asset ID,Notes,,Notes,Cost Center\nA1,first,blank-headed,second,4711\n"
    header, rows = read(write(tmp_path, text))
    assert header.columns == ("Asset ID", "Notes", "column C", "Notes (D)", "Cost Center")
    assert header.unmapped == ("Notes", "column C", "Notes (D)", "Cost Center")
    assert rows[0].extra == {"Notes": "first", "column C": "blank-headed", "Notes (D)": "second", "Cost Center": "4711"}


def test_row_with_more_cells_than_the_header_is_an_error_fewer_are_empty(tmp_path: Path) -> None:
    text = "Asset ID,Mfr,Model\nA1,GE,MX,stray\nA2,GE\nA3,GE,MX,,\n"
    _, rows = read(write(tmp_path, text))
    assert rows[0].row_number == 2 and rows[0].values == {"asset_id": "A1", "manufacturer": "GE", "model": "MX"}
    assert rows[0].error == "column D: value beyond the last header column (the row has 4 cells, the header 3)"
    assert rows[1] == RawRow(3, {"asset_id": "A2", "manufacturer": "GE"})
    assert rows[2] == RawRow(4, {"asset_id": "A3", "manufacturer": "GE", "model": "MX"})  # trailing empties are fine


def test_ten_megabyte_cell_makes_only_its_row_an_error(tmp_path: Path) -> None:
    huge = "x" * 10_000_000
    text = f"Asset ID,Mfr,Model\nA1,GE,MX\nA2,{huge},MX\nA3,Philips,MP70\n"
    _, rows = read(write(tmp_path, text))
    assert [r.row_number for r in rows] == [2, 3, 4]
    assert rows[0].error is None and rows[2].error is None
    assert rows[1].error == f"Mfr: cell is 10,000,000 characters, over the {MAX_CELL_CHARS:,} limit"
    assert rows[1].values == {"asset_id": "A2", "manufacturer": huge, "model": "MX"}  # kept for the rejects file
    assert rows[2].values == {"asset_id": "A3", "manufacturer": "Philips", "model": "MP70"}


def test_over_long_cell_spread_over_many_short_lines(tmp_path: Path) -> None:
    cell = "\n".join(["y" * 100] * 1000)  # 100,999 characters, no line over 100
    text = f'Asset ID,Notes\nA1,"{cell}"\nA2,ok\n'
    _, rows = read(write(tmp_path, text))
    assert rows[0].error == "Notes: cell is 100,999 characters, over the 65,536 limit"
    assert rows[1] == RawRow(3, {"asset_id": "A2"}, {"Notes": "ok"})  # one row per record, as a spreadsheet shows


def test_cell_at_the_limit_is_accepted(tmp_path: Path) -> None:
    cell = "z" * MAX_CELL_CHARS
    _, rows = read(write(tmp_path, f"Asset ID,Notes\nA1,{cell}\n"))
    assert rows[0].error is None and rows[0].extra["Notes"] == cell


def test_multiline_quoted_cells_count_as_one_row(tmp_path: Path) -> None:
    text = 'Asset ID,Notes\nA1,"line one\nline two"\nA2,x\n'
    _, rows = read(write(tmp_path, text))
    assert rows == [
        RawRow(2, {"asset_id": "A1"}, {"Notes": "line one\nline two"}),
        RawRow(3, {"asset_id": "A2"}, {"Notes": "x"}),
    ]


def test_formula_looking_payloads_come_back_raw(tmp_path: Path) -> None:
    payloads = ['=HYPERLINK("http://evil.example/x","click")', "+1", "-2+3", "@SUM(A1:A2)", "=cmd|' /C calc'!A0"]
    text = "Asset ID,Notes\n" + "".join(f'A{i},"{p.replace(chr(34), chr(34) * 2)}"\n' for i, p in enumerate(payloads))
    _, rows = read(write(tmp_path, text))
    assert [r.extra["Notes"] for r in rows] == payloads


def test_sheet_name_is_refused_for_csv(tmp_path: Path) -> None:
    assert "applies to .xlsx/.xlsm workbooks" in refusal(write(tmp_path, "Asset ID\nA1\n"), sheet="Devices")


def test_iterator_can_be_closed_early(tmp_path: Path) -> None:
    _, rows = open_table(write(tmp_path, "Asset ID\nA1\nA2\n"))
    assert next(rows).values == {"asset_id": "A1"}
    rows.close()  # type: ignore[attr-defined]  # a generator: closing releases the file


# --- XLSX ----------------------------------------------------------------------------------------


def workbook(tmp_path: Path, sheets: dict[str, list[list[Any]]], name: str = "inventory.xlsx") -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def test_xlsx_first_sheet_by_default_and_by_name(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        {"Devices": [["Asset ID", "Mfr"], ["A1", "GE"]], "Imaging": [["Tag", "Vendor"], ["I1", "Siemens"]]},
    )
    header, rows = read(path)
    assert (header.sheet, header.encoding) == ("Devices", None)
    assert rows == [RawRow(2, {"asset_id": "A1", "manufacturer": "GE"})]
    header, rows = read(path, sheet="Imaging")
    assert header.sheet == "Imaging" and rows == [RawRow(2, {"asset_id": "I1", "manufacturer": "Siemens"})]
    _, rows = read(path, sheet="imaging")  # Excel sheet names are case-insensitive
    assert rows[0].values["asset_id"] == "I1"


def test_xlsx_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"Devices": [["Asset ID"]], "Imaging": [["Asset ID"]]})
    assert refusal(path, sheet="Pumps") == "no worksheet named 'Pumps' (sheets: 'Devices', 'Imaging')"


def test_xlsx_cell_values_as_text(tmp_path: Path) -> None:
    row = [
        "A1",
        459800939471,
        459800939471.0,
        1.5,
        0.1 + 0.2,
        date(2024, 3, 1),
        datetime(2024, 3, 1, 14, 30),
        True,
        False,
    ]
    header_cells = [
        "Asset ID",
        "12NC",
        "Part No",
        "Firmware",
        "Dose",
        "Installed",
        "Checked",
        "Patient Connected",
        "Life Support",
    ]
    path = workbook(tmp_path, {"Devices": [header_cells, row]})
    header, rows = read(path, mapping={"Part No": IGNORE})
    assert rows[0].values == {
        "asset_id": "A1",
        "model_number": "459800939471",
        "firmware_version": "1.5",
        "patient_connected": "yes",
        "life_sustaining": "no",
    }
    assert rows[0].extra == {"Dose": "0.3", "Installed": "2024-03-01", "Checked": "2024-03-01T14:30:00"}
    assert header.ignored == ("Part No",)


def test_xlsx_integral_float_has_no_decimal_point(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"S": [["Asset ID", "12NC"], [1234.0, 459800939471.0]]})
    _, rows = read(path)
    assert rows[0].values == {"asset_id": "1234", "model_number": "459800939471"}


def test_xlsx_merged_cells_are_filled_with_their_top_left_value(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        {
            "Devices": [
                ["Device inventory"],
                ["Asset ID", "Mfr", "Model", "Software", "SW Version"],
                ["A1", "Philips", "IntelliSpace", "Windows", "10"],
                [None, None, None, "SQL Server", "2016"],
                [None, None, None, "Java", "8u301"],
                ["A2", "GE", "MAC 5500", None, None],
            ]
        },
    )
    book = openpyxl.load_workbook(path)
    sheet = book["Devices"]
    sheet.merge_cells("A1:E1")  # a title: not data, not filled into the header
    for column in "ABC":
        sheet.merge_cells(f"{column}3:{column}5")  # one asset's device cells, "repeated" for each product
    book.save(path)
    header, rows = read(path)
    assert header.header_row == 2
    device = {"asset_id": "A1", "manufacturer": "Philips", "model": "IntelliSpace"}
    assert rows == [
        RawRow(3, {**device, "software_name": "Windows", "software_version": "10"}),
        RawRow(4, {**device, "software_name": "SQL Server", "software_version": "2016"}),
        RawRow(5, {**device, "software_name": "Java", "software_version": "8u301"}),
        RawRow(6, {"asset_id": "A2", "manufacturer": "GE", "model": "MAC 5500"}),
    ]


def test_xlsx_horizontal_merge_in_data(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"S": [["Asset ID", "Site", "Location"], ["A1", "North", None]]})
    book = openpyxl.load_workbook(path)
    book["S"].merge_cells("B2:C2")
    book.save(path)
    _, rows = read(path)
    assert rows[0].values == {"asset_id": "A1", "site": "North", "location": "North"}


def test_xlsx_blank_rows_skipped_title_rows_and_real_row_numbers(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        {
            "Devices": [
                ["St. Elsewhere biomedical inventory"],
                ["Printed", datetime(2024, 5, 1)],
                [],
                ["Asset #", "Manufacturer", "Serial Number"],
                ["A1", "Baxter", "SN-1"],
                [],
                [None, "  ", None],
                ["A2", "BD", "SN-2"],
            ]
        },
    )
    header, rows = read(path)
    assert header.header_row == 4 and header.mapped == {
        "Asset #": "asset_id",
        "Manufacturer": "manufacturer",
        "Serial Number": "serial_number",
    }
    assert [(r.row_number, r.values["asset_id"]) for r in rows] == [(5, "A1"), (8, "A2")]


def test_xlsx_extra_columns_and_notes_beyond_the_header(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"S": [["Asset ID", "Cost Center"], ["A1", 4711, None, "see ticket 12"]]})
    header, rows = read(path)
    assert header.unmapped == ("Cost Center",)
    assert rows[0].extra == {"Cost Center": "4711", "column D": "see ticket 12"}
    assert rows[0].error is None


def test_xlsx_formula_looking_strings_come_back_raw(tmp_path: Path) -> None:
    payloads = ['=HYPERLINK("http://evil.example","click")', "+1", "@SUM(A1:A2)"]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Asset ID", "Notes"])
    for index, payload in enumerate(payloads, 2):
        sheet.cell(index, 1, f"A{index}")
        cell = sheet.cell(index, 2, payload)
        cell.data_type = "s"  # stored as text, as a CMMS export writes it
    path = tmp_path / "payloads.xlsx"
    book.save(path)
    _, rows = read(path)
    assert [r.extra["Notes"] for r in rows] == payloads


def test_xlsx_without_asset_id_and_empty_sheet(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"Devices": [["Gerät", "Hersteller", "Typ"], ["G1", "GE", "X"]], "Empty": []})
    assert refusal(path) == (
        "sheet 'Devices': no asset_id column (headers: Gerät, Hersteller, Typ); add a mapping file"
    )
    assert refusal(path, sheet="Empty") == "sheet 'Empty': empty sheet"
    _, rows = read(path, mapping={"Gerät": "asset_id"})
    assert rows == [RawRow(2, {"asset_id": "G1", "manufacturer": "GE"}, {"Typ": "X"})]


def test_xlsx_duplicate_mapping_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"S": [["Serial", "Asset ID", "S/N"], ["1", "A1", "2"]]})
    message = refusal(path)
    assert "'Serial' (A) and 'S/N' (C) both map to serial_number" in message


def test_not_a_workbook(tmp_path: Path) -> None:
    path = write(tmp_path, "Asset ID\nA1\n", "inventory.xlsx")
    assert "not a readable XLSX workbook" in refusal(path)


def test_excel_sep_hint_and_crlf(tmp_path: Path) -> None:
    header, rows = read(write(tmp_path, "sep=;\r\nAsset ID;Mfr\r\nA1;GE\r\n"))
    assert header.header_row == 2 and rows == [RawRow(3, {"asset_id": "A1", "manufacturer": "GE"})]


def test_mapping_keys_match_regardless_of_unicode_form_and_case(tmp_path: Path) -> None:
    decomposed = "Gera\u0308tenummer"  # "Gerätenummer" as macOS writes it
    _, rows = read(write(tmp_path, f"{decomposed},Typ\nG1,X\n"), mapping={"GERÄTENUMMER": "asset_id"})
    assert rows == [RawRow(2, {"asset_id": "G1"}, {"Typ": "X"})]


def test_utf8_character_split_across_read_chunks(tmp_path: Path) -> None:
    prefix = "Asset ID,Mfr\n"
    filler = "".join(f"A{i},GE\n" for i in range(200_000))
    pad = (1 << 20) - 1 - len((prefix + filler).encode()) % (1 << 20)  # "ä" starts on a chunk's last byte
    text = prefix + filler + "B," + "x" * (pad - 2) + "ä\n"
    path = write(tmp_path, text)
    header, rows = read(path)
    assert header.encoding == "utf-8" and rows[-1].values["manufacturer"].endswith("xä")
    broken = path.read_bytes().replace("ä\n".encode(), b"\xc3\n")  # a lead byte, then ASCII: not UTF-8
    path.write_bytes(broken)
    header, rows = read(path)
    assert header.encoding == "cp1252" and rows[-1].values["manufacturer"].endswith("xÃ")


def test_workbook_that_inflates_past_the_limit_is_refused_before_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openpyxl

    from vigil.sources.inventory import tabular

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["asset_id", "manufacturer"])
    sheet.append(["A-1", "Philips"])
    path = tmp_path / "small.xlsx"
    book.save(path)
    monkeypatch.setattr(tabular, "MAX_WORKBOOK_UNZIPPED", 1_000)  # a small file, a smaller limit
    with pytest.raises(InventoryFileError, match=r"workbook inflates to [\d,]+ bytes, over the 1,000-byte limit"):
        _header, rows = tabular.open_table(path)
        list(rows)
