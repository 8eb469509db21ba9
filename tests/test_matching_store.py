"""Findings on both databases (issue #4): the seed across documents, incremental runs, history, review.

The seed is the test: CISA's copy flags Interventional Workspot wherever it runs; Philips' own advisory
limits the flaw to four workstations by 12NC. The vendor's scope prevails, and the grouped view says why.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import DEMO_ADVISORIES, ROOT
from vigil.services.advisory_import import import_candidates
from vigil.services.findings_read import FindingQuery, find_findings, group_by_cve, review_finding, show_finding
from vigil.services.inventory_import import import_inventory
from vigil.services.matching import MatchReport, run_match
from vigil.services.store import Store
from vigil.sources.csaf.files import discover

CISA = DEMO_ADVISORIES / "icsma-21-019-01.json"
PHILIPS = ROOT / "demo" / "vendor-advisories" / "philips-2021-01-14-interventional-ipmi.json"
CVE = "CVE-2020-27298"
HEADER = "asset_id,manufacturer,model,model_number,software_vendor,software_name,software_version"
# A1: a listed workstation running a listed release; A2: the same release on a Dell; A3: a listed workstation
# running 1.4.2 (listed by neither document); A4: the 12NC written another way, the maker and the software
# spelled differently.
SEED_ROWS = [
    "A1,Philips,Allura Xper FD20 workstation,4598 009 39471,Philips,Interventional Workspot,R1.4.5",
    "A2,Dell,OptiPlex 7050,,Philips,Interventional Workspot,1.4.5",
    "A3,Philips,Allura Xper FD20 workstation,4598 009 39481,Philips,Interventional Workspot,1.4.2",
    "A4,PHILIPS MEDICAL SYSTEMS,Xper workstation,4598-009-70861,"
    "Philips Healthcare,interventional  workspot,Release 1.4.5",
]


def _advisories(store: Store, *paths: Path) -> None:
    summary = import_candidates(store, discover(list(paths), store.settings.max_document_bytes), workers=1)
    assert summary.rejected == 0


def _inventory(store: Store, tmp_path: Path, rows: list[str], name: str = "inv.csv", prune: bool = False) -> None:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    report = import_inventory(store, path, site="St. Elsewhere", prune=prune)
    assert not report.rejections, [r.reason for r in report.rejections]


def _findings(store: Store, **filters: Any) -> dict[tuple[str, str], dict[str, Any]]:
    query = FindingQuery(include_superseded=True, **filters)
    return {(f["asset_id"], f["advisory_id"]): f for f in find_findings(store, query)}


def _counts(report: MatchReport) -> dict[str, int]:
    kinds = ("opened", "changed", "revised", "reopened", "closed", "unchanged")
    return {kind: report.total(kind) for kind in kinds if report.total(kind)}


def _revised_cisa(tmp_path: Path, versions: str) -> Path:
    """ICSMA-21-019-01 as a revision 2 whose packed Workspot list is `versions`."""
    document = json.loads(CISA.read_text(encoding="utf-8"))
    revised = copy.deepcopy(document)
    tracking = revised["document"]["tracking"]
    tracking["version"] = "2"
    tracking["current_release_date"] = "2021-02-01T00:00:00.000Z"
    tracking["revision_history"].append({"date": "2021-02-01T00:00:00.000Z", "number": "2", "summary": "Narrowed."})
    leaf = revised["product_tree"]["branches"][0]["branches"][0]["branches"][0]
    leaf["name"] = versions
    leaf["product"]["name"] = f"Interventional Workspot: {versions}"
    path = tmp_path / "revised" / "icsma-21-019-01.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(revised), encoding="utf-8")
    return path


def test_the_seed_across_documents_vendor_scope_prevails(store: Store, tmp_path: Path) -> None:
    _advisories(store, CISA, PHILIPS)
    _inventory(store, tmp_path, SEED_ROWS)
    report = run_match(store)
    assert [s.mode for s in report.sites] == ["full"]

    found = _findings(store)
    # Philips' document: the listed workstations running a listed release, and nothing else.
    vendor = {asset for asset, advisory in found if advisory == "PHILIPS-2021-01-14-IPMI"}
    assert vendor == {"A1", "A4"}
    a1 = found[("A1", "PHILIPS-2021-01-14-IPMI")]
    assert (a1["status"], a1["match"], a1["csaf_status"], a1["prevailing"]) == (
        "affected",
        "exact",
        "known_affected",
        True,
    )
    assert a1["product_ids"] == ["CSAFPID-0028"]  # Workspot 1.4.5 installed_on 12NC 4598 009 39471
    evidence = a1["evidence"]["products"][0]
    assert evidence["relationship"] == "installed_on"
    assert evidence["platform"]["identifier"]["how"] == "identical"
    assert evidence["component"]["version"]["result"] is True
    a4 = found[("A4", "PHILIPS-2021-01-14-IPMI")]
    assert (a4["status"], a4["match"]) == ("affected", "probable")  # spelled differently: probable, still found
    assert {"publisher": "Philips", "cves": [CVE]}.items() <= a4.items()

    # CISA's copy flags every Workspot 1.4.5, but the vendor's scope prevails over it.
    cisa = {asset: f for (asset, advisory), f in found.items() if advisory == "ICSMA-21-019-01"}
    assert set(cisa) == {"A1", "A2", "A4"}  # not A3: 1.4.2 is in neither list
    assert all(not f["prevailing"] and f["superseded_by"] == "PHILIPS-2021-01-14-IPMI" for f in cisa.values())
    assert "does not include this asset" in cisa["A2"]["scope_reason"]
    assert "also lists this asset" in cisa["A1"]["scope_reason"]

    # The default list shows what prevails: the Dell is not flagged.
    default = find_findings(store, FindingQuery())
    assert sorted((f["asset_id"], f["advisory_id"]) for f in default) == [
        ("A1", "PHILIPS-2021-01-14-IPMI"),
        ("A4", "PHILIPS-2021-01-14-IPMI"),
    ]
    groups = {g["asset_id"]: g for g in group_by_cve(find_findings(store, FindingQuery(include_superseded=True)))}
    assert groups["A2"]["status"] is None and groups["A2"]["prevailing"] == []
    assert groups["A1"]["prevailing"] == ["PHILIPS-2021-01-14-IPMI"]
    assert {s["advisory_id"] for s in groups["A1"]["sources"]} == {"PHILIPS-2021-01-14-IPMI", "ICSMA-21-019-01"}


def test_coordinator_findings_stand_alone_until_the_vendor_document_arrives(store: Store, tmp_path: Path) -> None:
    _advisories(store, CISA)
    _inventory(store, tmp_path, SEED_ROWS)
    run_match(store)
    assert {asset for asset, _ in _findings(store)} == {"A1", "A2", "A4"}
    assert all(f["prevailing"] for f in _findings(store).values())

    _advisories(store, PHILIPS)
    report = run_match(store)
    assert [s.mode for s in report.sites] == ["incremental"]
    assert report.total("superseded") == 3
    assert _counts(report) == {"opened": 2}
    history = show_finding(store, _findings(store)[("A2", "ICSMA-21-019-01")]["id"])["history"]
    assert [e["kind"] for e in history] == ["opened", "superseded"]


def test_a_new_revision_replaces_the_old_and_closes_what_it_no_longer_lists(store: Store, tmp_path: Path) -> None:
    _advisories(store, CISA)
    _inventory(store, tmp_path, SEED_ROWS)
    run_match(store)
    before = _findings(store)[("A2", "ICSMA-21-019-01")]

    _advisories(store, _revised_cisa(tmp_path, "(Release 1.3.2 1.4.0 1.4.1 1.4.3)"))
    report = run_match(store)
    assert _counts(report) == {"closed": 3}
    after = _findings(store, include_closed=True)[("A2", "ICSMA-21-019-01")]
    assert after["id"] == before["id"]  # the same finding, closed, not deleted
    assert after["closed_reason"] == "revision 2 of ICSMA-21-019-01 no longer lists this asset for it"
    assert _findings(store) == {}
    kinds = [e["kind"] for e in show_finding(store, after["id"])["history"]]
    assert kinds == ["opened", "closed"]


def test_a_revision_that_leaves_the_outcome_alone_is_no_new_alert(store: Store, tmp_path: Path) -> None:
    _advisories(store, CISA)
    _inventory(store, tmp_path, SEED_ROWS)
    run_match(store)
    _advisories(store, _revised_cisa(tmp_path, "(Release 1.3.2 1.4.0 1.4.1 1.4.3 1.4.5)"))
    report = run_match(store)
    assert _counts(report) == {"revised": 3}
    finding = _findings(store)[("A1", "ICSMA-21-019-01")]
    assert finding["evidence"]["tracking_version"] == "2"
    assert [e["kind"] for e in show_finding(store, finding["id"])["history"]] == ["opened", "revised"]


def test_asset_changes_close_reopen_and_removal_closes(store: Store, tmp_path: Path) -> None:
    _advisories(store, CISA)
    _inventory(store, tmp_path, SEED_ROWS)
    run_match(store)
    upgraded = [SEED_ROWS[0].replace("R1.4.5", "R1.5.0"), *SEED_ROWS[1:]]
    _inventory(store, tmp_path, upgraded, "upgraded.csv")
    report = run_match(store)
    assert _counts(report) == {"closed": 1}
    closed = _findings(store, include_closed=True)[("A1", "ICSMA-21-019-01")]
    assert closed["closed_reason"] == "the asset's inventory record changed and no longer matches"
    assert report.sites[0].assets == 1  # only the changed asset was evaluated

    _inventory(store, tmp_path, SEED_ROWS, "downgraded.csv")
    assert _counts(run_match(store)) == {"reopened": 1}
    reopened = _findings(store)[("A1", "ICSMA-21-019-01")]
    assert reopened["id"] == closed["id"] and reopened["closed_at"] is None
    kinds = [e["kind"] for e in show_finding(store, reopened["id"])["history"]]
    # The upgrade out of the affected releases read as a fix (a status entry), the downgrade reopens it.
    assert kinds == ["opened", "closed", "status", "reopened", "status"]
    assert (closed["response_status"], reopened["response_status"]) == ("fixed", "affected")

    _inventory(store, tmp_path, SEED_ROWS[1:], "pruned.csv", prune=True)
    assert _counts(run_match(store)) == {"closed": 1}
    gone = _findings(store, include_closed=True)[("A1", "ICSMA-21-019-01")]
    assert gone["closed_reason"] == "the asset is no longer in the inventory"


def test_incremental_runs_end_where_a_full_run_does(store: Store, tmp_path: Path) -> None:
    _advisories(store, CISA)
    _inventory(store, tmp_path, SEED_ROWS)
    run_match(store)
    _advisories(store, PHILIPS, *sorted(DEMO_ADVISORIES.glob("icsma-22-*.json")))
    _inventory(
        store,
        tmp_path,
        [*SEED_ROWS, "B1,Philips,Xper workstation,4598 009 98531,Philips,Xper Flex Cardio,3.2.1"],
        "more.csv",
    )
    run_match(store)
    incremental = _findings(store, include_closed=True)
    report = run_match(store, full=True)
    assert [s.mode for s in report.sites] == ["full"]
    assert set(_counts(report)) <= {"unchanged"}
    assert _findings(store, include_closed=True) == incremental


def test_possible_matches_wait_for_a_person(store: Store, tmp_path: Path) -> None:
    _advisories(store, CISA)
    _inventory(store, tmp_path, ["P1,Philips,Allura workstation,,Philips,Interventional Workspot,"])
    run_match(store)
    [finding] = _findings(store).values()
    assert (finding["match"], finding["review"], finding["counts_as_affected"]) == ("possible", "pending", False)
    assert finding["evidence"]["products"][0]["version"]["result"] is None

    confirmed = review_finding(store, finding["id"], "confirmed", "j.doe", "checked on site: 1.4.5")
    assert (confirmed["review"], confirmed["counts_as_affected"]) == ("confirmed", True)
    assert confirmed["history"][-1] | {"at": None} == {
        "at": None,
        "kind": "confirmed",
        "actor": "j.doe",
        "revision_id": None,
        "detail": {"review": {"before": "pending", "after": "confirmed"}, "comment": "checked on site: 1.4.5"},
    }
    assert _counts(run_match(store, full=True)) == {"unchanged": 1}
    assert _findings(store)[("P1", "ICSMA-21-019-01")]["review"] == "confirmed"  # a rerun keeps the decision

    _inventory(store, tmp_path, SEED_ROWS[:1], "exact.csv")
    run_match(store)
    with pytest.raises(ValueError, match="only possible matches are reviewed"):
        review_finding(store, _findings(store)[("A1", "ICSMA-21-019-01")]["id"], "rejected", "j.doe", None)


def test_incremental_candidates_from_the_database_equal_a_full_run(store: Store, tmp_path: Path) -> None:
    """New advisories find their assets through indexed keys (names, model numbers, wildcards, families); a full
    run afterwards, which evaluates every asset in memory, must change nothing."""
    documents = sorted(DEMO_ADVISORIES.glob("*.json"))
    _advisories(store, *documents[::2])
    path = tmp_path / "generated.csv"
    from vigil.services.inventory_generate import generate_inventory

    generate_inventory(None, 400, 3, path)  # drawn from all bundled advisories, half of them not yet imported
    report = import_inventory(store, path)
    assert not report.rejections
    run_match(store)
    _advisories(store, *documents[1::2], PHILIPS)
    incremental = run_match(store)
    assert {s.mode for s in incremental.sites} == {"incremental"} and incremental.total("opened") > 0
    everything = FindingQuery(include_closed=True, include_superseded=True)
    before = find_findings(store, everything)
    full = run_match(store, full=True)
    assert set(_counts(full)) <= {"unchanged"}, _counts(full)
    assert find_findings(store, everything) == before
    assert len(before) == full.total("unchanged")
