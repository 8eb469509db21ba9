"""Revisions: every revision is kept, the current one is the highest version, re-imports are no-ops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import SEED_CSAF, Cli
from vigil.services.advisory_import import ImportOutcome, import_candidates
from vigil.services.advisory_read import show_advisory
from vigil.services.store import Store
from vigil.sources.csaf.files import discover
from vigil.sources.csaf.validate import check
from vigil.store.advisories import count_rows, version_key

SEED_ID = "ICSMA-21-019-01"
V1_DATE = "2021-01-19T00:00:00.000000Z"  # the seed's current_release_date


def _revision(version: str, date: str, *, history: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The seed advisory as revision `version` released on `date`, with a matching revision history.

    `history` lists (number, date) after the seed's own entry "1"; by default one entry (version, date).
    """
    doc: dict[str, Any] = json.loads(SEED_CSAF.read_bytes())
    tracking = doc["document"]["tracking"]
    tracking["version"] = version
    tracking["current_release_date"] = date
    for number, when in [(version, date)] if history is None else history:
        tracking["revision_history"].append({"date": when, "number": number, "summary": f"Revision {number}"})
    return doc


def _write(directory: Path, name: str, doc: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def _import(store: Store, path: Path) -> ImportOutcome:
    outcomes: list[ImportOutcome] = []
    import_candidates(store, discover([path], store.settings.max_document_bytes), outcomes.append, workers=1)
    assert len(outcomes) == 1
    return outcomes[0]


def _counts(store: Store) -> dict[str, int]:
    with store.sessions() as session:
        return count_rows(session)


def _current(store: Store) -> tuple[str, str, list[tuple[str, bool]]]:
    """(current version, its current_release_date, [(version, current) for every revision])."""
    shown = show_advisory(store, SEED_ID)
    revisions = [(r["version"], r["current"]) for r in shown["revisions"]]
    assert sum(current for _, current in revisions) == 1, revisions
    return shown["version"], shown["current_release_date"], revisions


@pytest.fixture
def v2(tmp_path: Path) -> Path:
    return _write(tmp_path / "v2", "v2.json", _revision("2", "2021-03-01T00:00:00.000000Z"))


def test_later_revisions_pass_the_mandatory_tests_like_the_seed() -> None:
    """The edits these tests make keep the document valid: no new quality flags, no rejection."""
    assert check(json.loads(SEED_CSAF.read_bytes()), "2.0") == ()
    assert check(_revision("2", "2021-03-01T00:00:00.000000Z"), "2.0") == ()
    history = [("2", "2021-02-01T00:00:00.000000Z"), ("3", "2021-03-01T00:00:00.000000Z")]
    assert check(_revision("3", "2021-03-01T00:00:00.000000Z", history=history), "2.0") == ()


def test_new_version_becomes_a_new_current_revision(store: Store, v2: Path) -> None:
    first = _import(store, SEED_CSAF)
    assert (first.status, first.tracking_version, first.quality_flags) == ("imported", "1", 0)

    second = _import(store, v2)
    assert (second.status, second.tracking_id, second.tracking_version) == ("revision", SEED_ID, "2")
    assert second.quality_flags == 0

    version, released, revisions = _current(store)
    assert (version, released) == ("2", "2021-03-01T00:00:00Z")
    assert sorted(revisions) == [("1", False), ("2", True)]
    counts = _counts(store)
    assert (counts["advisory"], counts["advisory_revision"], counts["advisory_content"]) == (1, 2, 2)


def test_importing_an_older_revision_later_keeps_the_newer_current(store: Store, v2: Path, tmp_path: Path) -> None:
    assert _import(store, v2).status == "imported"
    older = _import(store, SEED_CSAF)
    assert (older.status, older.tracking_version) == ("revision", "1")  # stored, for the history
    assert _current(store)[0] == "2"

    # A gap filled in later: 1 and 3 are stored, then 2 arrives; 3 stays current.
    history = [("2", "2021-03-01T00:00:00.000000Z"), ("3", "2021-04-01T00:00:00.000000Z")]
    v3 = _write(tmp_path / "v3", "v3.json", _revision("3", "2021-04-01T00:00:00.000000Z", history=history))
    assert _import(store, v3).status == "revision"
    assert _current(store)[0] == "3"
    assert sorted(_current(store)[2]) == [("1", False), ("2", False), ("3", True)]


def test_versions_compare_as_numbers_not_strings(store: Store, tmp_path: Path) -> None:
    """`10` is later than `9` (a string comparison would keep 9 current)."""
    nine = _revision("9", "2021-09-01T00:00:00.000000Z", history=[])
    ten = _revision("10", "2021-10-01T00:00:00.000000Z", history=[])
    assert _import(store, _write(tmp_path, "ten.json", ten)).status == "imported"
    assert _import(store, _write(tmp_path, "nine.json", nine)).status == "revision"
    assert _current(store)[0] == "10"


@pytest.mark.parametrize("later_first", [True, False], ids=["later-first", "earlier-first"])
def test_same_version_latest_release_date_wins(store: Store, tmp_path: Path, later_first: bool) -> None:
    earlier = _write(tmp_path, "earlier.json", _revision("2", "2021-03-01T00:00:00.000000Z"))
    later = _write(tmp_path, "later.json", _revision("2", "2021-03-05T12:00:00.000000Z"))
    for path in (later, earlier) if later_first else (earlier, later):
        _import(store, path)
    version, released, revisions = _current(store)
    assert (version, released) == ("2", "2021-03-05T12:00:00Z")
    assert sorted(revisions) == [("2", False), ("2", True)]


def test_release_dates_compare_across_time_zones(store: Store, tmp_path: Path) -> None:
    """09:00+02:00 is 07:00Z, earlier than 08:00Z, although its text sorts later."""
    zoned = _write(tmp_path, "zoned.json", _revision("2", "2021-03-01T09:00:00+02:00"))
    utc = _write(tmp_path, "utc.json", _revision("2", "2021-03-01T08:00:00.000000Z"))
    _import(store, utc)
    _import(store, zoned)
    assert _current(store)[1] == "2021-03-01T08:00:00Z"


def test_identical_bytes_again_are_unchanged_and_write_nothing(store: Store, v2: Path, tmp_path: Path) -> None:
    _import(store, SEED_CSAF)
    _import(store, v2)
    before = _counts(store)
    current_before = _current(store)

    again = _import(store, v2)
    assert (again.status, again.reason) == ("unchanged", "identical bytes already stored")
    # The same bytes under another name are still the same document.
    renamed = tmp_path / "renamed" / "copy-of-seed.json"
    renamed.parent.mkdir()
    renamed.write_bytes(SEED_CSAF.read_bytes())
    assert _import(store, renamed).status == "unchanged"

    assert _counts(store) == before
    assert _current(store) == current_before


def test_show_lists_both_revisions_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    v2 = _write(tmp_path / "in", "v2.json", _revision("2", "2021-03-01T00:00:00.000000Z"))
    assert cli("advisories", "import", "--quiet", str(SEED_CSAF)).code == 0
    result = cli("advisories", "import", str(v2))
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "imported 1, unchanged 0, rejected 0",
        "1 of them new revisions of known advisories",
    ]
    shown = json.loads(cli("advisories", "show", SEED_ID, "--format", "json").stdout)
    assert shown["version"] == "2"
    assert sorted((r["version"], r["current"]) for r in shown["revisions"]) == [("1", False), ("2", True)]
    listed = json.loads(cli("advisories", "list", "--format", "json").stdout)
    assert [(row["tracking_id"], row["version"], row["revisions"]) for row in listed] == [(SEED_ID, "2", 2)]


# --- version ordering (CSAF §3.1.11.3.5) --------------------------------------------------------


@pytest.mark.parametrize(
    "ascending",
    [
        ["1", "2", "9", "10", "11", "100"],
        ["1.0.0", "1.0.1", "1.1.0", "2.0.0-rc.1", "2.0.0"],
        ["0.9.9", "1.0.0", "1.0.10", "1.2.0", "1.10.0"],
        # The precedence example of semver.org §11.
        [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ],
    ],
    ids=["integers", "semver", "semver-numeric-parts", "semver-prerelease-precedence"],
)
def test_version_key_orders_versions(ascending: list[str]) -> None:
    keys = [version_key(v) for v in ascending]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys), "distinct versions must not tie"
    assert sorted(reversed(ascending), key=version_key) == ascending


def test_version_key_ignores_build_metadata_and_sorts_garbage_first() -> None:
    assert version_key("1.0.0+build.7") == version_key("1.0.0")
    assert version_key("not-a-version") < version_key("0.0.1-alpha") < version_key("1")
    # An integer version N ranks with N.0.0 (a document that switched schemes, test 6.1.30).
    assert version_key("1.0.0") == version_key("1") < version_key("1.0.1") < version_key("2")
