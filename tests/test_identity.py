"""Manufacturer aliases, identifiers and version prefixes: the normalisation the issue names."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.identity import identifiers
from vigil.identity.names import name_key
from vigil.identity.vendors import AliasTableError, default_aliases, load_aliases
from vigil.identity.versions import normalise_version


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Philips", "Philips"),
        ("PHILIPS MEDICAL SYSTEMS", "Philips"),
        ("Philips Medical Systems Nederland B.V.", "Philips"),
        ("Philips Healthcare", "Philips"),
        ("Phillips", "Philips"),  # CISA's own misspelling
        ("Becton Dickinson", "BD"),
        ("Becton, Dickinson and Company (BD)", "BD"),
        ("BD", "BD"),
        ("CareFusion 303, Inc.", "BD"),
        ("GE Healthcare", "GE HealthCare"),
        ("GE HealthCare", "GE HealthCare"),
        ("General Electric (GE)", "GE HealthCare"),
        ("Hill-Rom", "Baxter"),
        ("Hillrom", "Baxter"),
        ("Welch Allyn, Inc.", "Baxter"),
        ("Baxter Healthcare Corporation", "Baxter"),
        ("Draeger Medical GmbH", "Dräger"),
        ("B. Braun Melsungen AG", "B. Braun"),
        ("BBraun", "B. Braun"),
        ("Dell Inc.", "Dell"),
        ("Medtronic ", "Medtronic"),
    ],
)
def test_manufacturer_aliases(raw: str, canonical: str) -> None:
    assert default_aliases().canonical(raw) == canonical


def test_unknown_manufacturer_is_tidied_not_invented() -> None:
    assert default_aliases().canonical("  Acme   Widgets Inc. ") == "Acme Widgets Inc."


def test_name_key_drops_legal_forms_only_at_the_end() -> None:
    assert name_key("Philips Medical Systems Nederland B.V.") == "philips medical systems nederland"
    assert name_key("Co-Diagnostics") == "co diagnostics"
    assert name_key("Dräger") == "drager"


def test_alias_table_refuses_a_name_under_two_manufacturers(tmp_path: Path) -> None:
    table = tmp_path / "aliases.yaml"
    table.write_text("A:\n  - Shared Name\nB:\n  - shared name\n")
    with pytest.raises(AliasTableError, match="listed under both 'A' and 'B'"):
        load_aliases(table)


def test_alias_table_refuses_a_malformed_entry(tmp_path: Path) -> None:
    table = tmp_path / "aliases.yaml"
    table.write_text("A: just a string\n")
    with pytest.raises(AliasTableError, match="must be a name with a list"):
        load_aliases(table)


@pytest.mark.parametrize("raw", ["4598 009 39471", "459800939471", "4598-009-39471", "4598.009.39471"])
def test_12nc_written_three_ways_is_one_part_number(raw: str) -> None:
    assert identifiers.part_number(raw) == "459800939471"


@pytest.mark.parametrize(
    ("raw", "version"),
    [
        ("v1.4.5", "1.4.5"),
        ("V 1.4.5", "1.4.5"),
        ("R1.4.5", "1.4.5"),
        ("Rel. 1.4.5", "1.4.5"),
        ("Release 1.4.5", "1.4.5"),
        ("Version 2.0", "2.0"),
        ("1.4.5", "1.4.5"),
        ("6.3V1L10", "6.3V1L10"),  # vendor notation: the V is part of the version
        ("Rev B-M", "Rev B-M"),  # no digit after the word: not a prefix
        ("Very Old", "Very Old"),
    ],
)
def test_version_prefixes(raw: str, version: str) -> None:
    assert normalise_version(raw) == version


def test_mac_and_ip_and_udi() -> None:
    assert identifiers.mac_address("AA-BB-CC-DD-EE-0F") == "aa:bb:cc:dd:ee:0f"
    assert identifiers.mac_address("aabb.ccdd.ee0f") == "aa:bb:cc:dd:ee:0f"
    assert identifiers.mac_address("not a mac") is None
    assert identifiers.ip_address(" 10.1.2.3 ") == "10.1.2.3"
    assert identifiers.ip_address("DHCP") is None
    assert identifiers.udi_di("(01)00884838038795") == "00884838038795"


@pytest.mark.parametrize(("raw", "value"), [("yes", True), ("Y", True), ("1", True), ("No", False), ("0", False)])
def test_yes_no(raw: str, value: bool) -> None:
    assert identifiers.yes_no(raw) is value


def test_yes_no_refuses_to_guess() -> None:
    with pytest.raises(ValueError, match="'maybe' is not yes/no"):
        identifiers.yes_no("maybe")


def test_first_line_of_an_empty_message_is_the_type_name() -> None:
    from vigil.errors import first_line

    assert first_line(ValueError("one\ntwo")) == "one"
    assert first_line(KeyError()) == "KeyError"
    assert first_line(OSError("  \n")) == "OSError"
