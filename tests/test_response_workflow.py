"""The response workflow on both databases (issue #5): per-device status with its rules, optimistic locking,
risk acceptances that expire, reopening when the advisory or the asset changes, decide once, action items."""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import DEMO_ADVISORIES, ROOT
from vigil.response.states import Evidence, IllegalTransition, StatusChange
from vigil.services.actions import ActionQuery, complete_action, list_actions, rollup
from vigil.services.advisory_import import import_candidates
from vigil.services.decisions import DecisionError, DecisionRequest, add_decision, list_decisions, revoke_decision
from vigil.services.findings_read import FindingQuery, find_findings, show_finding
from vigil.services.inventory_import import import_inventory
from vigil.services.matching import run_match
from vigil.services.reports import ReportQuery, build_report
from vigil.services.response import FindingNotFound, ResponseConflict, expire_due, set_status
from vigil.services.store import Store
from vigil.services.vex import VexExportRequest, export_vex
from vigil.sources.csaf.files import discover
from vigil.store.audit import verify

CISA = DEMO_ADVISORIES / "icsma-21-019-01.json"
PHILIPS = ROOT / "demo" / "vendor-advisories" / "philips-2021-01-14-interventional-ipmi.json"
SITE = "St. Elsewhere"
HEADER = "asset_id,manufacturer,model,model_number,software_vendor,software_name,software_version"
ROWS = [
    "A1,Philips,Allura Xper FD20 workstation,4598 009 39471,Philips,Interventional Workspot,R1.4.5",
    "A2,Philips,Allura Xper FD10 workstation,4598 009 39481,Philips,Interventional Workspot,1.4.5",
    "A3,Philips,Allura Xper FD10 workstation,4598 009 70861,Philips,Interventional Workspot,1.4.3",
    "A4,Philips,Allura Xper FD20 workstation,4598 009 98531,Philips,Interventional Workspot,1.3.2",
]
CVE = "CVE-2020-27298"
EVIDENCE = (Evidence("text", "IPMI password changed; default credentials refused on 2026-11-20"),)


def _set_up(store: Store, tmp_path: Path, *documents: Path, rows: list[str] = ROWS) -> dict[str, dict[str, Any]]:
    summary = import_candidates(
        store, discover(list(documents or (PHILIPS,)), store.settings.max_document_bytes), workers=1
    )
    assert summary.rejected == 0
    path = tmp_path / "inventory.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    assert not import_inventory(store, path, site=SITE).rejections
    run_match(store)
    return _by_asset(store)


def _by_asset(store: Store, **filters: Any) -> dict[str, dict[str, Any]]:
    return {f["asset_id"]: f for f in find_findings(store, FindingQuery(site=SITE, cve=CVE, **filters))}


def _history(store: Store, finding_id: int) -> list[dict[str, Any]]:
    return [e for e in show_finding(store, finding_id)["history"] if e["kind"] == "status"]


def test_a_new_finding_starts_where_the_advisory_puts_it(store: Store, tmp_path: Path) -> None:
    findings = _set_up(store, tmp_path)
    assert {f["response_status"] for f in findings.values()} == {"affected"}
    assert {f["response_source"] for f in findings.values()} == {"initial"}
    assert {f["response_version"] for f in findings.values()} == {1}


def test_each_status_records_what_it_needs_and_who_set_it(store: Store, tmp_path: Path) -> None:
    findings = _set_up(store, tmp_path)
    a1, a2, a3 = findings["A1"]["id"], findings["A2"]["id"], findings["A3"]["id"]
    result = set_status(
        store, SITE, a1, StatusChange("mitigated", comment="password rotated", evidence=EVIDENCE), "alice"
    )
    assert (result.before, result.after, result.version) == ("affected", "mitigated", 2)
    schedule = StatusChange(
        "remediation_scheduled", fco_number="FCO72200452", planned_date=date(2026, 12, 10), vendor_contact="Philips"
    )
    set_status(store, SITE, a2, schedule, "bob")
    expiry = datetime(2027, 6, 30, tzinfo=UTC)
    accept = StatusChange("risk_accepted", owner="Dr. Okafor", reason="isolated angio VLAN", expires_at=expiry)
    set_status(store, SITE, a3, accept, "carol")

    after = _by_asset(store)
    assert after["A1"]["response_detail"]["evidence"] == [{"kind": "text", "value": EVIDENCE[0].value}]
    assert after["A1"]["response_detail"]["actor"] == "alice"
    assert after["A2"]["response_detail"]["fco_number"] == "FCO72200452"
    assert after["A2"]["response_detail"]["planned_date"] == "2026-12-10"
    assert after["A3"]["risk_expires_at"] == "2027-06-30T00:00:00Z"
    assert {f["response_source"] for k, f in after.items() if k != "A4"} == {"device"}
    [event] = _history(store, a1)
    assert event["actor"] == "alice"
    assert event["detail"]["from"] == "affected" and event["detail"]["to"] == "mitigated"
    assert event["detail"]["comment"] == "password rotated"
    with store.sessions() as session:
        assert verify(session).intact


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (StatusChange("mitigated"), "mitigated needs evidence"),
        (StatusChange("not_affected"), "not_affected needs a justification"),
        (StatusChange("not_affected", justification="it_is_fine"), "unknown justification 'it_is_fine'"),
        (StatusChange("risk_accepted", owner="Dr. Okafor", reason="isolated"), "risk_accepted needs expires_at"),
        (StatusChange("risk_accepted", reason="x", expires_at=datetime(2027, 1, 1, tzinfo=UTC)), "needs owner"),
        (StatusChange("remediation_scheduled", fco_number="FCO1"), "needs the planned date"),
        (StatusChange("remediation_scheduled", planned_date=date(2027, 1, 1)), "needs an FCO number or a vendor"),
        (StatusChange("fixed"), "fixed needs evidence"),
        (StatusChange("patched"), "unknown status 'patched'"),
    ],
)
def test_a_status_without_what_it_needs_is_refused_and_nothing_changes(
    store: Store, tmp_path: Path, change: StatusChange, reason: str
) -> None:
    finding = _set_up(store, tmp_path)["A1"]
    with pytest.raises(IllegalTransition, match=reason):
        set_status(store, SITE, finding["id"], change, "alice")
    after = _by_asset(store)["A1"]
    assert (after["response_status"], after["response_version"]) == ("affected", 1)
    assert _history(store, finding["id"]) == []


def test_illegal_transitions_are_refused_with_the_reason(store: Store, tmp_path: Path) -> None:
    finding = _set_up(store, tmp_path)["A1"]
    set_status(store, SITE, finding["id"], StatusChange("not_affected", justification="component_not_present"), "a")
    with pytest.raises(IllegalTransition, match="cannot go from not_affected to mitigated"):
        set_status(store, SITE, finding["id"], StatusChange("mitigated", evidence=EVIDENCE), "a")
    with pytest.raises(IllegalTransition, match="a status change needs the actor"):
        set_status(store, SITE, finding["id"], StatusChange("affected"), "  ")
    with pytest.raises(FindingNotFound):
        set_status(store, "Another Hospital", finding["id"], StatusChange("affected"), "a")
    assert _by_asset(store)["A1"]["response_status"] == "not_affected"


def test_a_stale_writer_gets_a_conflict_and_loses_nothing(store: Store, tmp_path: Path) -> None:
    finding = _set_up(store, tmp_path)["A1"]
    set_status(store, SITE, finding["id"], StatusChange("mitigated", evidence=EVIDENCE), "alice", expect_version=1)
    with pytest.raises(ResponseConflict, match=r"changed since version 1: it is now mitigated \(version 2 by alice\)"):
        set_status(store, SITE, finding["id"], StatusChange("fixed", evidence=EVIDENCE), "bob", expect_version=1)
    after = _by_asset(store)["A1"]
    assert (after["response_status"], after["response_version"]) == ("mitigated", 2)


def test_two_writers_at_once_one_wins_the_other_gets_a_conflict(store: Store, tmp_path: Path) -> None:
    finding = _set_up(store, tmp_path)["A1"]
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def write(actor: str, change: StatusChange) -> None:
        barrier.wait()
        try:
            set_status(store, SITE, finding["id"], change, actor, expect_version=1)
            outcomes[actor] = "written"
        except ResponseConflict:
            outcomes[actor] = "conflict"

    changes = {
        "alice": StatusChange("mitigated", evidence=EVIDENCE),
        "bob": StatusChange("risk_accepted", owner="o", reason="r", expires_at=datetime(2027, 1, 1, tzinfo=UTC)),
    }
    threads = [threading.Thread(target=write, args=item) for item in changes.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["conflict", "written"]
    winner = next(actor for actor, outcome in outcomes.items() if outcome == "written")
    after = _by_asset(store)["A1"]
    assert (after["response_status"], after["response_version"]) == (changes[winner].status, 2)
    assert len(_history(store, finding["id"])) == 1


def test_an_expired_risk_acceptance_reopens_itself(store: Store, tmp_path: Path) -> None:
    finding = _set_up(store, tmp_path)["A1"]
    expires = datetime.now(UTC) + timedelta(days=3)
    accept = StatusChange("risk_accepted", owner="Dr. Okafor", reason="isolated", expires_at=expires)
    set_status(store, SITE, finding["id"], accept, "carol")
    assert expire_due(store) == 0
    assert expire_due(store, now=expires + timedelta(seconds=1)) == 1
    after = _by_asset(store)["A1"]
    assert (after["response_status"], after["response_source"], after["risk_expires_at"]) == (
        "affected",
        "expiry",
        None,
    )
    last = _history(store, finding["id"])[-1]
    assert last["actor"] == "vigil" and "risk acceptance by Dr. Okafor expired" in last["detail"]["comment"]
    assert expire_due(store, now=expires + timedelta(days=1)) == 0  # once


def test_the_match_run_reopens_acceptances_that_ran_out(store: Store, tmp_path: Path) -> None:
    finding = _set_up(store, tmp_path)["A1"]
    past = datetime(2026, 1, 1, tzinfo=UTC)
    set_status(store, SITE, finding["id"], StatusChange("risk_accepted", owner="o", reason="r", expires_at=past), "c")
    report = run_match(store)
    assert report.total("risk_expired") == 1
    assert _by_asset(store)["A1"]["response_status"] == "affected"


def _revised(tmp_path: Path, statuses: dict[str, list[str]]) -> Path:
    """ICSMA-21-019-01 revision 2 with other product statuses."""
    document = json.loads(CISA.read_text(encoding="utf-8"))
    revised = copy.deepcopy(document)
    tracking = revised["document"]["tracking"]
    tracking["version"] = "2"
    tracking["current_release_date"] = "2021-02-01T00:00:00.000Z"
    tracking["revision_history"].append({"date": "2021-02-01T00:00:00.000Z", "number": "2", "summary": "Changed."})
    revised["vulnerabilities"][0]["product_status"] = statuses
    path = tmp_path / "revised" / "icsma-21-019-01.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(revised), encoding="utf-8")
    return path


def test_a_revision_that_alters_the_finding_reopens_it_visibly(store: Store, tmp_path: Path) -> None:
    finding = _set_up(store, tmp_path, CISA)["A1"]
    set_status(store, SITE, finding["id"], StatusChange("mitigated", evidence=EVIDENCE), "alice")
    import_candidates(
        store, discover([_revised(tmp_path, {"under_investigation": ["CSAFPID-0001"]})], 10**8), workers=1
    )
    run_match(store)
    after = _by_asset(store)["A1"]
    assert (after["response_status"], after["response_source"]) == ("under_investigation", "matcher")
    assert after["response_detail"]["reopened_from"] == "mitigated"
    kinds = [e["kind"] for e in show_finding(store, finding["id"])["history"]]
    assert kinds == ["opened", "status", "changed", "status"]  # nothing lost: the person's entry stays


def test_a_fixed_version_in_the_advisory_fixes_the_device_with_that_as_evidence(store: Store, tmp_path: Path) -> None:
    finding = _set_up(store, tmp_path, CISA)["A1"]
    set_status(store, SITE, finding["id"], StatusChange("mitigated", evidence=EVIDENCE), "alice")
    import_candidates(store, discover([_revised(tmp_path, {"fixed": ["CSAFPID-0001"]})], 10**8), workers=1)
    run_match(store)
    after = _by_asset(store)["A1"]
    assert (after["response_status"], after["response_source"]) == ("fixed", "matcher")
    assert after["response_detail"]["evidence"][0]["kind"] == "inventory"


def test_the_inventory_showing_a_new_version_fixes_the_device(store: Store, tmp_path: Path) -> None:
    findings = _set_up(store, tmp_path)
    schedule = StatusChange("remediation_scheduled", fco_number="FCO72200452", planned_date=date(2026, 12, 10))
    set_status(store, SITE, findings["A1"]["id"], schedule, "bob")
    # The FCO visit happened: the CMMS export now shows the patched release on A1. A2's model number was
    # corrected (another workstation): no longer matched, but nothing was fixed.
    rows = [ROWS[0].replace("R1.4.5", "R1.4.6"), ROWS[1].replace("39481", "39999"), *ROWS[2:]]
    path = tmp_path / "after-visit.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    import_inventory(store, path, site=SITE)
    run_match(store)
    closed = _by_asset(store, include_closed=True)
    assert closed["A1"]["closed_at"] and closed["A2"]["closed_at"]
    assert (closed["A1"]["response_status"], closed["A1"]["response_source"]) == ("fixed", "matcher")
    assert closed["A1"]["response_detail"]["evidence"] == [
        {"kind": "inventory", "value": "Interventional Workspot: R1.4.5 -> R1.4.6"}
    ]
    assert closed["A2"]["response_status"] == "affected"
    assert _history(store, findings["A1"]["id"])[-1]["detail"]["from"] == "remediation_scheduled"
    # VEX and the report state the fix (the finding is closed, the device is still there).
    vex = json.loads(export_vex(store, VexExportRequest(SITE, "csaf"), "bob").content)
    fixed = [p for v in vex["vulnerabilities"] for p in v["product_status"].get("fixed", [])]
    assert [p for p in fixed if p.endswith("-A1")] and not [p for p in fixed if p.endswith("-A2")]
    totals = {row.response_status: row.devices for row in build_report(store, ReportQuery(SITE)).totals}
    assert totals["fixed"] == 1 and totals["affected"] == 2


def test_a_revision_that_leaves_the_outcome_alone_keeps_the_status(store: Store, tmp_path: Path) -> None:
    finding = _set_up(store, tmp_path, CISA)["A1"]
    set_status(store, SITE, finding["id"], StatusChange("mitigated", evidence=EVIDENCE), "alice")
    same = {"known_affected": ["CSAFPID-0001", "CSAFPID-0002", "CSAFPID-0003"]}
    import_candidates(store, discover([_revised(tmp_path, same)], 10**8), workers=1)
    run_match(store)
    after = _by_asset(store)["A1"]
    assert (after["response_status"], after["response_version"]) == ("mitigated", 2)  # CSAF §9.1.13: no re-alert


def test_closed_and_unconfirmed_findings_refuse_status_changes(store: Store, tmp_path: Path) -> None:
    rows = [*ROWS, "P1,Philips,Allura workstation,,Philips,ViewForum,"]
    findings = _set_up(store, tmp_path, CISA, rows=rows)
    assert findings["P1"]["match"] == "possible"  # ViewForum, but which release?
    with pytest.raises(IllegalTransition, match=r"possible match \(pending\): confirm it first"):
        set_status(
            store, SITE, findings["P1"]["id"], StatusChange("not_affected", justification="component_not_present"), "a"
        )
    path = tmp_path / "pruned.csv"
    path.write_text("\n".join([HEADER, *rows[1:]]) + "\n", encoding="utf-8")
    import_inventory(store, path, site=SITE, prune=True)
    run_match(store)
    with pytest.raises(IllegalTransition, match=r"is closed \(the asset is no longer in the inventory\)"):
        set_status(store, SITE, findings["A1"]["id"], StatusChange("mitigated", evidence=EVIDENCE), "a")


# --- decide once -------------------------------------------------------------------------------------------


def _decide(store: Store, status: str = "mitigated", **scope: Any) -> tuple[dict[str, Any], Any]:
    change = StatusChange(status, evidence=EVIDENCE) if status == "mitigated" else StatusChange(status)
    request = DecisionRequest(
        SITE,
        change,
        scope.pop("manufacturer", "Philips Medical Systems"),
        scope.pop("model", "interventional workspot"),
        cve=CVE,
        **scope,
    )
    return add_decision(store, request, "dave")


def test_decide_once_covers_every_matching_device_now_and_later(store: Store, tmp_path: Path) -> None:
    findings = _set_up(store, tmp_path)
    set_status(
        store,
        SITE,
        findings["A2"]["id"],
        StatusChange("risk_accepted", owner="o", reason="r", expires_at=datetime(2027, 1, 1, tzinfo=UTC)),
        "carol",
    )  # a per-device choice: an override
    decision, applied = _decide(store, release="1.4.*")
    assert decision["manufacturer"] == "Philips"  # the alias table made it canonical
    after = _by_asset(store)
    assert sorted(applied.applied) == sorted([findings["A1"]["id"], findings["A3"]["id"]])
    assert after["A1"]["response_status"] == after["A3"]["response_status"] == "mitigated"
    assert after["A1"]["decision_id"] == decision["id"] and after["A1"]["response_source"] == "decision"
    assert after["A2"]["response_status"] == "risk_accepted"  # override kept
    assert after["A4"]["response_status"] == "affected"  # release 1.3.2 is not 1.4.*

    # A device that matches later gets the decision on the next match run.
    path = tmp_path / "more.csv"
    path.write_text(
        "\n".join(
            [HEADER, "A5,Philips,Allura Xper FD20 workstation,4598 009 39471,Philips,Interventional Workspot,1.4.1"]
        )
        + "\n",
        encoding="utf-8",
    )
    import_inventory(store, path, site=SITE)
    report = run_match(store)
    assert report.total("decided") == 1
    assert _by_asset(store)["A5"]["response_status"] == "mitigated"

    assert revoke_decision(store, SITE, decision["id"], "dave") == 3
    assert {f["response_status"] for k, f in _by_asset(store).items() if k != "A2"} == {"affected"}
    assert list_decisions(store, SITE) == []
    assert [d["revoked_by"] for d in list_decisions(store, SITE, include_revoked=True)] == ["dave"]


def test_a_decision_names_a_model_number_and_reports_refusals(store: Store, tmp_path: Path) -> None:
    findings = _set_up(store, tmp_path)
    set_status(store, SITE, findings["A1"]["id"], StatusChange("fixed", evidence=EVIDENCE), "tech")
    not_affected = StatusChange("not_affected", justification="vulnerable_code_not_in_execute_path")
    request = DecisionRequest(
        SITE, not_affected, "Philips", "Interventional Workspot", cve=CVE, model_number="4598-009-39481"
    )
    _, applied = add_decision(store, request, "dave")
    assert applied.applied == [findings["A2"]["id"]]
    after = _by_asset(store)
    assert after["A2"]["response_detail"]["justification"] == "vulnerable_code_not_in_execute_path"
    assert after["A3"]["response_status"] == "affected"  # another 12NC

    # A later, broader decision: A1 was fixed by a person (kept), A2's not_affected cannot become mitigated.
    _, broader = _decide(store)
    assert sorted(broader.applied) == sorted([findings["A3"]["id"], findings["A4"]["id"]])
    [(refused_id, reason)] = broader.refused
    assert refused_id == findings["A2"]["id"] and "cannot go from not_affected to mitigated" in reason
    assert _by_asset(store)["A1"]["response_status"] == "fixed"


def test_decisions_refuse_bad_requests(store: Store, tmp_path: Path) -> None:
    _set_up(store, tmp_path)
    with pytest.raises(DecisionError, match="exactly one of --cve or --advisory"):
        add_decision(store, DecisionRequest(SITE, StatusChange("affected"), "Philips", "x"), "dave")
    with pytest.raises(DecisionError, match="no site named 'Nowhere'"):
        add_decision(store, DecisionRequest("Nowhere", StatusChange("affected"), "Philips", "x", cve=CVE), "dave")
    with pytest.raises(DecisionError, match="no advisory with tracking id 'NOPE'"):
        add_decision(store, DecisionRequest(SITE, StatusChange("affected"), "Philips", "x", advisory="NOPE"), "dave")


# --- action items -------------------------------------------------------------------------------------------


def test_each_remediation_becomes_an_item_per_affected_device(store: Store, tmp_path: Path) -> None:
    _set_up(store, tmp_path)
    items = list_actions(store, ActionQuery(SITE))
    assert len(items) == 8  # 4 devices x (mitigation, vendor_fix)
    seed = {i["category"]: i for i in items if i["asset_id"] == "A1"}
    assert "change the IPMI password for the workstation interface" in seed["mitigation"]["details"]
    assert "FCO72200452" in seed["vendor_fix"]["details"]
    assert seed["mitigation"]["vulnerabilities"] == [CVE]
    rows = [(r["advisory"], r["category"], r["open"], r["done"], r["void"], r["devices"]) for r in rollup(items)]
    assert rows == [
        ("PHILIPS-2021-01-14-IPMI", "mitigation", 4, 0, 0, 4),
        ("PHILIPS-2021-01-14-IPMI", "vendor_fix", 4, 0, 0, 4),
        ("*", "*", 8, 0, 0, 4),  # the whole site
    ]
    assert list_actions(store, ActionQuery(SITE)) == items  # syncing again changes nothing


def test_completing_the_mitigation_mitigates_the_device(store: Store, tmp_path: Path) -> None:
    findings = _set_up(store, tmp_path)
    item = next(i for i in list_actions(store, ActionQuery(SITE, asset_id="A1")) if i["category"] == "mitigation")
    done, changes = complete_action(store, SITE, item["id"], "alice", "IPMI password rotated, vault entry 4411")
    assert done["state"] == "done" and done["completed_by"] == "alice"
    assert changes == [{"finding_id": findings["A1"]["id"], "from": "affected", "to": "mitigated"}]
    after = _by_asset(store)["A1"]
    assert (after["response_status"], after["response_source"]) == ("mitigated", "action")
    assert after["response_detail"]["evidence"][0]["value"] == "IPMI password rotated, vault entry 4411"


def test_items_no_finding_needs_become_void_and_come_back(store: Store, tmp_path: Path) -> None:
    findings = _set_up(store, tmp_path)
    a4 = findings["A4"]["id"]
    assert len(list_actions(store, ActionQuery(SITE, asset_id="A4"))) == 2
    set_status(store, SITE, a4, StatusChange("not_affected", justification="vulnerable_code_not_present"), "a")
    void = list_actions(store, ActionQuery(SITE, asset_id="A4", states=("void",)))
    assert len(void) == 2 and all("no finding of this device needs it" in i["void_reason"] for i in void)
    set_status(store, SITE, a4, StatusChange("affected"), "a")
    assert len(list_actions(store, ActionQuery(SITE, asset_id="A4"))) == 2
    assert {i["id"] for i in list_actions(store, ActionQuery(SITE, asset_id="A4"))} == {i["id"] for i in void}
