"""Version comparison and the version notations of CISA's CSAF corpus (issue #4)."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import ROOT, corpus_dir
from vigil.identity.version_compare import compare_versions, version_key
from vigil.identity.version_rules import APPLIES_TO, NOTATIONS, VersionRule, parse_version_rule

RANGE = "product_version_range"
Ranges = tuple[tuple[tuple[str, str], ...], ...]
SINGLE = "product_version"


# --- comparison ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1.9", "1.10"),
        ("6.3V1L9", "6.3V1L10"),
        ("6.3V1L10", "6.3V2L1"),
        ("6.3V1L10", "6.3.1"),  # a number outranks letters at the same position
        ("1.5", "V1.5 SP3"),
        ("V1.5 SP3", "V1.5 SP3 Update 2"),
        ("V1.5 SP3 Update 2", "V1.5 SP4"),
        ("V1.5 SP3 Update 2", "1.6"),
        ("V16 Update 4", "V16 Upd 5"),
        ("1.0rc1", "1.0"),
        ("1.0alpha", "1.0beta"),
        ("1.0", "1.0a"),
        ("1.0a", "1.0.1"),
        ("R15A", "R15B"),
        ("4.1.3", "V4.3.8"),
    ],
)
def test_ordering(older: str, newer: str) -> None:
    assert version_key(older) < version_key(newer)
    assert compare_versions(older, newer) == -1
    assert compare_versions(newer, older) == 1


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("1.4.5.0", "1.4.5"),
        ("R1.4.5", "1.4.5"),
        ("v2.0", "2"),
        ("01.02", "1.2"),
        ("1.5 sp3", "1.5 SP3"),
        ("V1.5 Service Pack 3", "1.5 SP3"),
        ("1.0.0rc1", "1rc1"),
    ],
)
def test_equal(left: str, right: str) -> None:
    assert version_key(left) == version_key(right)
    assert compare_versions(left, right) == 0


def test_key_refuses_text_without_letters_or_digits() -> None:
    with pytest.raises(ValueError, match="not a version"):
        version_key("--")


# --- notations: real texts from the corpus ---------------------------------------------------------------------


def _rule(text: str, category: str = RANGE) -> VersionRule:
    return parse_version_rule(text, category)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5.028", "5.028"),
        ("R1.4.5", "1.4.5"),
        ("Version v4.75", "4.75"),
        ("6.3V1L10", "6.3V1L10"),
        ("Rev B-M", "Rev B-M"),
        ("R16A", "16A"),
        ("M2.1.6.05", "M2.1.6.05"),
        ("SW_4.1.1.10", "4.1.1.10"),
        ("v9.90 SP8", "9.90 SP8"),
        ("1.3.1 Build 13", "1.3.1 Build 13"),
        ("2017 R2", "2017 R2"),
    ],
)
def test_exact(text: str, expected: str) -> None:
    rule = _rule(text, SINGLE)
    assert (rule.notation, rule.versions, rule.ranges, rule.text) == ("exact", (expected,), (), text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(Release 1.3.2 1.4.0 1.4.1 1.4.3 1.4.5)", ("1.3.2", "1.4.0", "1.4.1", "1.4.3", "1.4.5")),
        ("5.1 | 6.0 | 6.1", ("5.1", "6.0", "6.1")),
        ("2.02 | 2.51 2.52 | 2.54", ("2.02", "2.51", "2.52", "2.54")),
        ("V1.1, V1.2, and V1.3", ("1.1", "1.2", "1.3")),
        ("MP1.1, MP2.0, MP2.1, and MP3.0", ("MP1.1", "MP2.0", "MP2.1", "MP3.0")),
        ("2.8.2 and 2.8.19", ("2.8.2", "2.8.19")),
        ("3.7 SP1 | 3.7 SP2", ("3.7 SP1", "3.7 SP2")),
        ("5.0|5.1", ("5.0", "5.1")),
    ],
)
def test_list(text: str, expected: tuple[str, ...]) -> None:
    rule = _rule(text, SINGLE)
    assert (rule.notation, rule.versions) == ("list", expected)


def test_list_with_wildcards() -> None:
    rule = _rule("6.0.X | 6.0.3.1 | 6.0.3.2", SINGLE)
    assert (rule.notation, rule.versions, rule.ranges) == (
        "list",
        ("6.0.3.1", "6.0.3.2"),
        (((">=", "6.0"), ("<", "6.1")),),
    )


@pytest.mark.parametrize(
    ("text", "low", "high"), [("2.X", "2", "3"), ("3.0.x", "3.0", "3.1"), ("V4.x", "4", "5"), ("5.x.x", "5", "6")]
)
def test_wildcard(text: str, low: str, high: str) -> None:
    rule = _rule(text, SINGLE)
    assert (rule.notation, rule.ranges) == ("wildcard", (((">=", low), ("<", high)),))


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("vers:all/<V4.3.8", ((("<", "4.3.8"),),)),
        ("vers:all/>=V7.80<V9.40", (((">=", "7.80"), ("<", "9.40")),)),
        ("vers:all/>=V11.5.1|<V11.6.2", (((">=", "11.5.1"), ("<", "11.6.2")),)),
        ("vers:all/<=2.3|>=1.0", (((">=", "1.0"), ("<=", "2.3")),)),  # sorted by version, as the spec says
        ("vers:generic/>=1.0|<2.0", (((">=", "1.0"), ("<", "2.0")),)),
        ("vers:generic/<1.0|>2.0", ((("<", "1.0"),), ((">", "2.0"),))),
        ("vers:all/<V5.2 SP 3 HF 13", ((("<", "5.2 SP 3 HF 13"),),)),
        ("vers:all/<V20.3 HotfixRev12", ((("<", "20.3 HotfixRev12"),),)),
    ],
)
def test_vers(text: str, ranges: tuple[tuple[tuple[str, str], ...], ...]) -> None:
    rule = _rule(text)
    assert (rule.notation, rule.versions, rule.ranges) == ("vers", (), ranges)


def test_vers_equal_and_not_equal() -> None:
    rule = _rule("vers:generic/1.0|>=2.0|<3.0|!=2.5")
    assert rule.versions == ("1.0",)
    assert [rule.matches(v) for v in ("1.0", "1.5", "2.4", "2.5", "3.0")] == [True, False, True, False, False]


@pytest.mark.parametrize("text", ["vers:all/*", "All versions", "All Versions", "All", "All BIOS versions"])
def test_all(text: str) -> None:
    rule = _rule(text)
    assert (rule.notation, rule.all_versions) == ("all", True)


@pytest.mark.parametrize(
    ("text", "versions", "ranges"),
    [
        ("< V4.1.3", (), ((("<", "4.1.3"),),)),
        ("<=V1.5", (), ((("<=", "1.5"),),)),
        ("<= 5.008", (), ((("<=", "5.008"),),)),
        (">= 1.0 | <= 1.32", (), (((">=", "1.0"), ("<=", "1.32")),)),
        (">= V7.80 < V9.30", (), (((">=", "7.80"), ("<", "9.30")),)),
        (">= V2.3 and < V6.30.016", (), (((">=", "2.3"), ("<", "6.30.016")),)),
        ("All versions < V6.4", (), ((("<", "6.4"),),)),
        ("All BIOS versions < V1.0.212N", (), ((("<", "1.0.212N"),),)),
        ("<V18_Update_2", (), ((("<", "18 Update 2"),),)),
        ("<= 15.2(6)E0a", (), ((("<=", "15.2(6)E0a"),),)),
        ("<=LF", (), ((("<=", "LF"),),)),
        ("<=(R4.02)", (), ((("<=", "4.02"),),)),
        ("<= 1.12.0.25 | 1.12.13.2 | 1.12.14.5", ("1.12.13.2", "1.12.14.5"), ((("<=", "1.12.0.25"),),)),
        ("5.011  | < 8.011", ("5.011",), ((("<", "8.011"),),)),
        ("<=2.x", (), ((("<", "3"),),)),
    ],
)
def test_constraints(text: str, versions: tuple[str, ...], ranges: tuple[tuple[tuple[str, str], ...], ...]) -> None:
    rule = _rule(text)
    assert (rule.notation, rule.versions, rule.ranges) == ("constraints", versions, ranges)


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("prior to 4.2", ((("<", "4.2"),),)),
        ("versions before 4.2", ((("<", "4.2"),),)),
        ("4.1 and earlier", ((("<=", "4.1"),),)),
        ("4.1 and prior", ((("<=", "4.1"),),)),
        ("2.3.6 and  below", ((("<=", "2.3.6"),),)),
        ("through 3.0", ((("<=", "3.0"),),)),
        ("up to 3.0", ((("<=", "3.0"),),)),
        ("V1.5 SP3 Update 2 and earlier", ((("<=", "1.5 SP3 Update 2"),),)),
        ("4.0 and later", (((">=", "4.0"),),)),
        ("versions 2.0 to 2.5", (((">=", "2.0"), ("<=", "2.5")),)),
        ("Versions 2.00 to 6.11", (((">=", "2.00"), ("<=", "6.11")),)),
        ("V1.81.01 - V1.81.03", (((">=", "1.81.01"), ("<=", "1.81.03")),)),
        ("All versions between V2.5 (including) and V2.7 (excluding)", (((">=", "2.5"), ("<", "2.7")),)),
        (">FW16_up_to_and_including_FW26", (((">", "FW16"), ("<=", "FW26")),)),
    ],
)
def test_prose(text: str, ranges: tuple[tuple[tuple[str, str], ...], ...]) -> None:
    rule = _rule(text)
    assert (rule.notation, rule.ranges) == ("prose_range", ranges)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "No version",  # listed as known_affected, but the advisory says the products are not affected
        "7100 | 7900 MRI",
        "HD 16 | HD23",  # GE Signa software releases, or variants: cannot tell
        "Corefix 14",  # a fix level, not a product name
        "< august 28",  # a date without its year
        "<= 7.20 (7.50 and 7.60 may also be affected if WibuKey was installed manually)",  # widens
        "<= 4.11.00 (Versions removed from the scope of this advisory)",  # undoes
        "* and >  could be affected",
        "<= 2.0.0.10 (RES670 2.0.0.4 and prior)",  # another model's bound, not a second spelling
        "< 1.49 (1.29 for NX7)",
        "< 14.00.15.00_51.25.00.01",  # one version in two parts, not release lines 14 and 51
        "< 7.03 /7.04",  # both in line 7: no release lines
        "FPGA_10.19_CPU_2.0.0",  # two components' versions
        "< Main r515 Estop_v24",
        "1SAP535100R2001 | G1  with BSP <= UN31 1.76",
        "A84 | A85 E06 W41  with X30  air  -  air hex",  # option codes, not versions
        "16XXXXXXXXX.",  # a serial-number mask, not a name
        "2nd Edition",
        ">= 4.5.0 | =< 3.5.20304.x",  # a typo whose fix gives no clean range
        "< 6.3  of telerik software",  # a bound on a component, not on the product
        "<=the_first_3_digits_of_serial_number_20X",
        "<= 4.1 | < january 20 2017.",
    ],
)
def test_unparsed_is_never_guessed(text: str) -> None:
    rule = _rule(text)
    assert (rule.notation, rule.versions, rule.ranges, rule.all_versions) == ("unparsed", (), (), False)
    assert rule.matches("1.0") is None


def test_category_is_checked() -> None:
    with pytest.raises(ValueError, match="category"):
        parse_version_rule("1.0", "product_name")


# --- matches() -------------------------------------------------------------------------------------------------


def test_seed_release_list() -> None:
    rule = _rule("(Release 1.3.2 1.4.0 1.4.1 1.4.3 1.4.5)", SINGLE)
    assert rule.matches("1.4.5") is True
    assert rule.matches("R1.4.5") is True
    assert rule.matches("Release 1.4.5.0") is True
    assert rule.matches("1.4.2") is False


@pytest.mark.parametrize(
    ("text", "table"),
    [
        ("<4.2", {"4.1.9": True, "4.2": False, "4.2.0": False, "V4.10": False, "": None, "  ": None}),
        (">=1.0 <2.0", {"0.9": False, "1.0": True, "1.9.9": True, "2.0": False}),
        ("vers:all/<=2.3|>=1.0", {"0.9": False, "1.0": True, "2.3": True, "2.3.1": False}),
        ("V1.5 SP3 Update 2 and earlier", {"1.5": True, "1.5 SP3": True, "1.5 SP3 Upd 2": True, "1.5 SP4": False}),
        ("6.3V1L10", {"6.3V1L10": True, "6.3v1l10": True, "6.3V1L9": False, "6.3V1L10.0": True}),
        ("vers:all/*", {"anything at all": True, "": True}),  # every version: recorded or not
        ("2.x", {"1.9": False, "2": True, "2.99.1": True, "3.0": False}),
        ("4.0 and later", {"3.9": False, "4": True, "12.1": True}),
        ("1.0", {"--": None}),
    ],
)
def test_matches_truth_table(text: str, table: dict[str, bool | None]) -> None:
    rule = _rule(text)
    assert {version: rule.matches(version) for version in table} == table


# --- release lines: CISA's runs of upper bounds (the decision) ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "table"),
    [
        # Telecontrol Gateway: "Versions 4.2.21 5.0.27 5.1.19 6.0.16 and prior". Lines 4, 5.0, 5.1 and 6.
        (
            "<= 4.2.21 | <= 5.0.27 | <= 5.1.19 | <= 6.0.16",
            {"3.9": True, "4.2.21": True, "4.2.22": False, "5.0.0": True, "5.0.27": True, "5.0.28": False}
            | {"5.1.3": True, "5.1.20": False, "5.2": None, "5.9.1": None, "6.0.16": True, "6.0.17": False}
            | {"6.1": False, "7.0": False},
        ),
        # The same in CISA's vers scheme.
        ("vers:all/<=4.2.21|<=5.0.27", {"4.0": True, "4.2.22": False, "5.0.1": True, "5.0.27": True, "5.1": False}),
        # Saia Burgess PCD: "prior to 1.28.16 or 1.24.69". 1.25 .. 1.27 are named by no bound: cannot tell.
        ("< 1.28.16 | < 1.24.69", {"1.24.68": True, "1.24.69": False, "1.26.4": None, "1.28.15": True}),
        # Battery pack: "U61 and earlier (United States), L81 and earlier (outside the United States)".
        ("<= U61 |<= L81", {"L80": True, "L82": False, "U50": True, "U61": True, "U62": False}),
        # Rockwell: fixed in 36.011, 35.013 and 34.014; the lowest bound covers every older line.
        ("<v36.011_v35.013_v34.014", {"33.9": True, "34.013": True, "34.014": False, "35.012": True, "35.013": False}),
        ("<V33.017_V34.014_V35.013_V36.011", {"33.016": True, "34.014": False, "36.010": True, "36.011": False}),
        ("<= 2.0.11 / 3.0.11", {"2.0.11": True, "2.1": False, "3.0.0": True, "3.0.12": False}),
    ],
)
def test_upper_bound_runs_read_per_release_line(text: str, table: dict[str, bool | None]) -> None:
    rule = _rule(text)
    assert {version: rule.matches(version) for version in table} == table


def test_release_lines_are_spelled_out_as_ranges() -> None:
    rule = _rule("<= 4.2.21 | <= 5.0.27 | <= 5.1.19 | <= 6.0.16")
    assert rule.notation == "constraints"  # how it was written; the reading is in the ranges
    assert rule.ranges == (
        (("<=", "4.2.21"),),
        ((">=", "5.0"), ("<=", "5.0.27")),
        ((">=", "5.1"), ("<=", "5.1.19")),
        ((">=", "6"), ("<=", "6.0.16")),
    )
    assert rule.undecided == (((">=", "5.2"), ("<", "6")),)
    rockwell = _rule("<v36.011_v35.013_v34.014")
    assert rockwell.notation == "release_lines"
    assert rockwell.ranges == ((("<", "34.014"),), ((">=", "35"), ("<", "35.013")), ((">=", "36"), ("<", "36.011")))


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        # Two bounds in one line name no lines: the strict vers reading stays.
        ("vers:generic/<=5.0.27|<=5.0.30", ((("<=", "5.0.27"),),)),
        # A lower bound anywhere: strict vers pairs.
        ("vers:generic/>=1.0|<=2.0|<=3.0", (((">=", "1.0"), ("<=", "2.0")),)),
        ("<= 1.12.0.25 | 1.12.13.2", ((("<=", "1.12.0.25"),),)),
    ],
)
def test_other_constraint_lists_keep_strict_vers(text: str, ranges: Ranges) -> None:
    assert _rule(text).ranges == ranges


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("< 6.6 (6.x series)", (((">=", "6"), ("<", "6.6")),)),
        ("< 14.4u1 (14.x series)", (((">=", "14"), ("<", "14.4u1")),)),
        ("Versions V7.1 < V7.1 Upd3", (((">=", "7.1"), ("<", "7.1 Upd3")),)),
        ("All versions V14 < V14 SP3", (((">=", "14"), ("<", "14 SP3")),)),
        ("V4.7: < V4.7 HF27", (((">=", "4.7"), ("<", "4.7 HF27")),)),
    ],
)
def test_labelled_release_line(text: str, ranges: Ranges) -> None:
    rule = _rule(text)
    assert (rule.notation, rule.ranges) == ("release_lines", ranges)


_MAJORS = st.lists(st.integers(1, 60), min_size=2, max_size=6, unique=True).map(sorted)
_FIXES = st.lists(st.tuples(st.integers(0, 9), st.integers(1, 99)), min_size=6, max_size=6)


@given(_MAJORS, _FIXES, st.integers(0, 61), st.integers(0, 9), st.integers(0, 120))
def test_release_lines_never_match_between_lines(
    majors: list[int], fixes: list[tuple[int, int]], major: int, minor: int, patch: int
) -> None:
    fixed = dict(zip(majors, fixes, strict=False))
    rule = _rule(" | ".join(f"< {m}.{mi}.{pa}" for m, (mi, pa) in fixed.items()))
    result = rule.matches(f"{major}.{minor}.{patch}")
    if major in fixed:  # in a named line: below its bound or not
        assert result is ((minor, patch) < fixed[major])
    elif major < majors[0]:  # older than every line: the lowest bound covers it
        assert result is True
    elif major > majors[-1]:  # newer than every line
        assert result is False
    else:  # a line between named lines that no bound names: never matched, never excluded
        assert result is None


# --- serial numbers, dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bound", "length"),
    [
        ("<=the_first_5_digits_of_serial_number_22081", ("<=", "22081"), 5),
        ("<=with_the_first_5_digits_of_serial_number_24051", ("<=", "24051"), 5),
        ('<=The_first_5_digits_of_serial_No._"26061"', ("<=", "26061"), 5),
        ("<= first five digits of serial number 24061 24061", ("<=", "24061"), 5),
        ("5  digits of serial number <= 24031", ("<=", "24031"), 5),
        ("<= first 2  digits of serial number are 04 ", ("<=", "04"), 2),
        ("<= Serial Numbers 2310****", ("<=", "2310"), 4),
    ],
)
def test_serial_range(text: str, bound: tuple[str, str], length: int) -> None:
    rule = _rule(text)
    assert (rule.notation, rule.ranges, rule.applies_to, rule.prefix_length) == (
        "serial_range",
        ((bound,),),
        "serial_number",
        length,
    )


def test_serial_range_compares_the_leading_digits() -> None:
    rule = _rule("<=the_first_5_digits_of_serial_number_22081")
    table = {"2208100001": True, "22081": True, "2208199999": True, "2208200000": False, "17012 345": True}
    table |= {"220-81-000": True, "A2208100": None, "2208": None, "": None}
    assert {serial: rule.matches(serial) for serial in table} == table


@given(st.integers(0, 99999), st.integers(0, 99999), st.text("0123456789", max_size=8))
def test_serial_prefix_is_compared_as_a_number(bound: int, head: int, tail: str) -> None:
    rule = _rule(f"<=the_first_5_digits_of_serial_number_{bound:05d}")
    assert rule.matches(f"{head:05d}{tail}") is (head <= bound)


@pytest.mark.parametrize(
    ("text", "bound", "applies_to"),
    [
        ("<April/20/2023", ("<", "2023-04-20"), "version"),
        ("<8/30/2024", ("<", "2024-08-30"), "version"),
        ("< January 31 2014", ("<", "2014-01-31"), "version"),
        ("<=November 11, 2017", ("<=", "2017-11-11"), "version"),
        ("<May_1_2024", ("<", "2024-05-01"), "version"),
        ("<May 2018", ("<", "2018-05-01"), "version"),  # before May
        ("<= January 2019", ("<=", "2019-01-31"), "version"),  # through January
        ("<= Build 2019-09-21", ("<=", "2019-09-21"), "version"),
        ("distributed  < april 1, 2018", ("<", "2018-04-01"), "production_date"),
        ("<=Production_date_July_2020", ("<=", "2020-07-31"), "production_date"),
    ],
)
def test_date_range(text: str, bound: tuple[str, str], applies_to: str) -> None:
    rule = _rule(text)
    assert (rule.notation, rule.ranges, rule.applies_to) == ("date_range", ((bound,),), applies_to)


def test_date_range_compares_dates() -> None:
    rule = _rule("<April/20/2023")
    table = {"2023-04-19": True, "2023/04/20": False, "April 19, 2023": True, "19 April 2023": True}
    table |= {"4/19/2023": True, "19.04.2023": True, "March 2023": True, "April 2023": None, "May 2023": False}
    table |= {"04/05/2023": None, "1.4.2": None, "2023": None}  # day and month unclear; not dates
    assert {value: rule.matches(value) for value in table} == table


@given(st.dates(min_value=date(1000, 1, 1)), st.dates(min_value=date(1000, 1, 1)))
def test_date_bounds_order_days(bound: date, day: date) -> None:
    rule = _rule(f"<{bound.strftime('%B')}/{bound.day}/{bound.year}")
    assert rule.matches(day.isoformat()) is (day < bound)


# --- conditions, names, second spellings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ranges", "all_versions", "condition"),
    [
        ("All versions < V8.1 with WinCC V7.3 Upd 19", ((("<", "8.1"),),), False, "with WinCC V7.3 Upd 19"),
        ("All versions with Ethernet interface", (), True, "with Ethernet interface"),
        (
            "<=B13__without_Special_Modification_Patch_BRD-C62W003-A0_installed",
            ((("<=", "B13"),),),
            False,
            "without Special Modification Patch BRD-C62W003-A0 installed",
        ),
        ("vers:all/*_installed_on_CP200_devices", (), True, "installed on CP200 devices"),
        ("<= 3.3-006 (with <= bacnetstac 4.2.1)", ((("<=", "3.3-006"),),), False, "with <= bacnetstac 4.2.1"),
        ("* (with option G28)", (), True, "with option G28"),
        (
            ">= V5.2.0 < V5.3 only when running on ROX II V2.14.0",
            (((">=", "5.2.0"), ("<", "5.3")),),
            False,
            "only when running on ROX II V2.14.0",
        ),
        (
            "All versions <= V2.3.0 and Function State (FS) <= 3",
            ((("<=", "2.3.0"),),),
            False,
            "and Function State (FS) <= 3",
        ),
        ("< 2.1.0 (Windows and Linux)", ((("<", "2.1.0"),),), False, "Windows and Linux"),
        ("<with_Nozomi_Guardian_/_CMC_23.4.1", (), True, "<with Nozomi Guardian / CMC 23.4.1"),
        ("Versions including affected DNS modules", (), True, "Versions including affected DNS modules"),
        ("v9.x model 35700BAX3", (((">=", "9"), ("<", "10")),), False, "model 35700BAX3"),
    ],
)
def test_conditional(text: str, ranges: Ranges, all_versions: bool, condition: str) -> None:
    rule = _rule(text)
    assert (rule.notation, rule.ranges, rule.all_versions, rule.condition) == (
        "conditional",
        ranges,
        all_versions,
        condition,
    )


def test_conditional_never_says_yes() -> None:
    rule = _rule("All versions < V8.1 with WinCC V7.3 Upd 19")
    assert [rule.matches(v) for v in ("8.0", "8.1", "9.0", "")] == [None, False, False, None]
    assert _rule("All versions with Ethernet interface").matches("4.7") is None


def test_conditional_keeps_names() -> None:
    rule = _rule("All versions < CPCI85 V05.11 (only with activated debug support)")
    assert (rule.notation, rule.names, rule.condition) == (
        "conditional",
        ("CPCI85",),
        "only with activated debug support",
    )
    order_code = _rule("1SAP551100R0001 (revision index B1 with BSP <= UN30 1.76)")
    assert (order_code.notation, order_code.names, order_code.versions) == ("conditional", ("1SAP551100R0001",), ())


@given(
    st.sampled_from(["All versions < V8.1 with WinCC V7.3 Upd 19", "* (with option G28)", "v9.x model 35700BAX3"]),
    st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,3}){0,3}\Z"),
)
def test_a_condition_is_never_confirmed(text: str, version: str) -> None:
    assert _rule(text).matches(version) is not True


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("CODESYS Control for Linux", ("CODESYS Control for Linux",)),
        ("CODESYS Gateway V3", ("CODESYS Gateway V3",)),  # a product generation, not version 3
        ("CODESYS V3 Simulation Runtime (part of the CODESYS Development System)", ("CODESYS V3 Simulation Runtime",)),
        ("Accu-Chek Inform II", ("Accu-Chek Inform II",)),
        ("MMT-522 / MMT-722 Paradigm REAL-TIME", ("MMT-522 / MMT-722 Paradigm REAL-TIME",)),
        ("DH-IPC-HDW1XXX,", ("DH-IPC-HDW1XXX",)),
        ("Telepole II, and", ("Telepole II",)),
        ("Intel Core i5 Intel Core i7 | Intel XEON", ("Intel Core i5 Intel Core i7", "Intel XEON")),
        ("exacqVision Network Video Recorders (NVR)", ("exacqVision Network Video Recorders",)),
        ("GATE-E2 (EOL OCT 2018)", ("GATE-E2",)),
        ("TSXETY5103 *", ("TSXETY5103",)),
        ("CR-IR 357", ("CR-IR 357",)),
    ],
)
def test_name(text: str, names: tuple[str, ...]) -> None:
    rule = _rule(text, SINGLE)
    assert (rule.notation, rule.names, rule.all_versions) == ("name", names, True)
    # Every version of the named variant, recorded or not.
    assert (rule.matches("3.5.16"), rule.matches("")) == (True, True)


@pytest.mark.parametrize(
    ("text", "names", "versions", "ranges"),
    [
        ("NMC2 <= 6.9.6", ("NMC2",), (), ((("<=", "6.9.6"),),)),
        ("< WinCC 7.3 Upd 16", ("WinCC",), (), ((("<", "7.3 Upd 16"),),)),
        ("All versions < ROS V4.3.4", ("ROS",), (), ((("<", "4.3.4"),),)),
        ("All versions < SIMATIC WinAC RTX 2010 SP3", ("SIMATIC WinAC RTX",), (), ((("<", "2010 SP3"),),)),
        ("vers:all/<CPCI85 V05", ("CPCI85",), (), ((("<", "05"),),)),
        ("<=QRTB_2.12.7", ("QRTB",), (), ((("<=", "2.12.7"),),)),
        ("<=PSC_2020_v5.21.x", ("PSC 2020",), (), ((("<", "5.22"),),)),
        ("Web firmware v01.12.10", ("Web firmware",), ("01.12.10",), ()),
        ("MCE_3.x", ("MCE",), (), (((">=", "3"), ("<", "4")),)),
        ("SCADA Web Server Version 2.02.0007 and prior", ("SCADA Web Server",), (), ((("<=", "2.02.0007"),),)),
    ],
)
def test_named_version(text: str, names: tuple[str, ...], versions: tuple[str, ...], ranges: Ranges) -> None:
    rule = _rule(text)
    assert (rule.notation, rule.names, rule.versions, rule.ranges) == ("named_version", names, versions, ranges)


def test_named_version_reads_the_version_without_the_name() -> None:
    rule = _rule("NMC2 <= 6.9.6")
    assert [rule.matches(v) for v in ("6.9.6", "NMC2 6.9.5", "nmc2_6.9.7", "7.0")] == [True, True, False, False]


@pytest.mark.parametrize(
    ("text", "table"),
    [
        # PI Web API "prior to 2017 (1.9.0)": two numberings of one release; they must agree.
        ("< 2017 (1.9.0)", {"1.8.2": True, "2016 R2": None, "1.9.5": None, "2018": False}),
        ("< 5.7.4 (96)", {"5.7.3": True, "5.7.4": None, "5.7.4.90": None, "5.7.4.96": False, "5.7.5": False}),
        ("<= 2018 SP3 Version 3.4.430.460", {"3.4.430.460": True, "3.4.431": None, "2016": None, "2019": False}),
        ("Version 3.00A (aka Version 9.50.255.02)", {"3.00A": True, "9.50.255.02": True, "3.00B": False}),
        # WebLib "1.01.01 (build 2149)": 1.01.01 without its build cannot be told from another build.
        ("1.01.01 (build 2149)", {"1.01.01.2149": True, "1.01.01 build 2149": True, "1.01.01": None, "1.01.02": False}),
    ],
)
def test_aliased(text: str, table: dict[str, bool | None]) -> None:
    rule = _rule(text)
    assert rule.notation == "aliased"
    assert {version: rule.matches(version) for version in table} == table


@given(st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,3}){0,3}\Z"))
def test_aliased_bound_needs_both_spellings(version: str) -> None:
    rule = _rule("< 12.4 (firmware 1.46)")
    below = [version_key(version) < version_key(bound) for bound in ("12.4", "1.46")]
    assert rule.matches(version) is (True if all(below) else False if not any(below) else None)


@pytest.mark.parametrize(
    ("text", "notation", "versions", "ranges"),
    [
        ("2.2.4 *", "wildcard", (), (((">=", "2.2.4"), ("<", "2.2.5")),)),  # "Version 2.2.4 all revisions"
        ("1.38.xx | 1.39.00", "list", ("1.39.00",), (((">=", "1.38"), ("<", "1.39")),)),
        ("0 < 8.0.1", "constraints", (), (((">=", "0"), ("<", "8.0.1")),)),
        ("2.2.5 <= 2.2.5.1", "constraints", (), (((">=", "2.2.5"), ("<=", "2.2.5.1")),)),
        (">=8.0|=<8.5", "constraints", (), (((">=", "8.0"), ("<=", "8.5")),)),
        ('>="05"|<="07"', "constraints", (), (((">=", "05"), ("<=", "07")),)),
        ("<15.2{7}E2", "constraints", (), ((("<", "15.2(7)E2"),),)),
        (
            "<= 9.6 (excluding 9.4.2.6 and 9.5.3.2)",
            "constraints",
            (),
            ((("<=", "9.6"), ("!=", "9.4.2.6"), ("!=", "9.5.3.2")),),
        ),
        (
            "3.0.4.00.032 (including) and 3.0.6 (excluding)",
            "prose_range",
            (),
            (((">=", "3.0.4.00.032"), ("<", "3.0.6")),),
        ),
        (">= 9.3.0 -  but not including 9.3.8", "prose_range", (), (((">=", "9.3.0"), ("<", "9.3.8")),)),
        ("1.275M—1.280S", "prose_range", (), (((">=", "1.275M"), ("<=", "1.280S")),)),
        ("3.0 and <", "prose_range", (), ((("<=", "3.0"),),)),
        ("and  5.028", "exact", ("5.028",), ()),
        (
            "V04.00.02 and all versions >= V04.00.15 < 04.00.18",
            "constraints",
            ("04.00.02",),
            (((">=", "04.00.15"), ("<", "04.00.18")),),
        ),
        ("< 1.5.0.0 Beta 4", "constraints", (), ((("<", "1.5.0.0 Beta 4"),),)),
    ],
)
def test_irregular_spellings_of_regular_rules(
    text: str, notation: str, versions: tuple[str, ...], ranges: Ranges
) -> None:
    rule = _rule(text)
    assert (rule.notation, rule.versions, rule.ranges) == (notation, versions, ranges)


def test_every_notation_is_listed() -> None:
    examples = ["1.0", "1.0 | 2.0", "2.x", "vers:all/<1", "<1", "prior to 1", "<v36.011_v35.013_v34.014", "*"]
    examples += ["< 2017 (1.9.0)", "IGS", "NMC2 <= 6.9.6", "* (with option G28)", "<= Serial Numbers 2310****"]
    examples += ["<May 2018", "No version"]
    assert [_rule(text).notation for text in examples] == list(NOTATIONS)
    assert {_rule(text).applies_to for text in examples} < set(APPLIES_TO)


# --- the corpus ------------------------------------------------------------------------------------------------


def _load_bench() -> object:
    path = ROOT / "bench" / "version_notations.py"
    spec = importlib.util.spec_from_file_location("version_notations_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# Issue #4's target is <= 1 %. Today 0.97 % stays unparsed (docs/version-notations.md lists what remains and
# why). This ratchet fails on any regression; lower it as the grammar learns more, never raise it.
UNPARSED_CEILING = 0.0097


@pytest.mark.corpus
def test_corpus_unparsed_share() -> None:
    corpus: Path = corpus_dir()
    bench = _load_bench()
    leaves = bench.leaves(corpus)  # type: ignore[attr-defined]
    notations = Counter(parse_version_rule(name, category).notation for category, name in leaves)
    total = sum(notations.values())
    assert total > 15_000
    share = notations["unparsed"] / total
    assert share <= UNPARSED_CEILING, f"{share:.2%} of {total} leaves unparsed: {dict(notations)}"
