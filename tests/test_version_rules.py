"""Version comparison and the version notations of CISA's CSAF corpus (issue #4)."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import ROOT, corpus_dir
from vigil.identity.version_compare import compare_versions, version_key
from vigil.identity.version_rules import VersionRule, parse_version_rule

RANGE = "product_version_range"
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
        "No version",
        "CODESYS Control for Linux",
        "Accu-Chek Inform II",
        "MMT-522 / MMT-722 Paradigm REAL-TIME",
        "<=the_first_5_digits_of_serial_number_22081",
        "<April/20/2023",
        "distributed  < april 1, 2018",
        "All versions with Ethernet interface",
        "All versions < V8.1 with WinCC V7.3 Upd 19",
        "NMC2 <= 6.9.6",
        "<=B13__without_Special_Modification_Patch_BRD-C62W003-A0_installed",
        "vers:all/*_installed_on_CP200_devices",
        "DH-IPC-HDW1XXX,",
        "7100 | 7900 MRI",
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
        ("vers:all/*", {"anything at all": True, "": None}),
        ("2.x", {"1.9": False, "2": True, "2.99.1": True, "3.0": False}),
        ("4.0 and later", {"3.9": False, "4": True, "12.1": True}),
        ("1.0", {"--": None}),
    ],
)
def test_matches_truth_table(text: str, table: dict[str, bool | None]) -> None:
    rule = _rule(text)
    assert {version: rule.matches(version) for version in table} == table


# --- the corpus ------------------------------------------------------------------------------------------------


def _load_bench() -> object:
    path = ROOT / "bench" / "version_notations.py"
    spec = importlib.util.spec_from_file_location("version_notations_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# Issue #4's target is <= 1 %. Today 5.07 % stays unparsed: versions with conditions, product names,
# serial-number and date bounds (bench/version_notations.py lists them). This ratchet fails on any
# regression; lower it as the grammar learns more, never raise it.
UNPARSED_CEILING = 0.0510


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
