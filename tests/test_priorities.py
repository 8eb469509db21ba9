"""Prioritisation: SSVC's deployer table as CERT/CC publishes it, every decision point's derivation with its
source, the policy (defaults, override, bad files), due dates and overdue, the service on both databases with
KEV and EPSS, a constant number of queries however many findings, and `vigil priorities` end to end on the demo
advisories and a generated inventory."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update

from conftest import DEMO_ADVISORIES, ROOT, TEST_DATA, Cli
from vigil.response.advisory_text import exploitation_statement, harm_statement
from vigil.response.cvss_scores import (
    ScoreCandidate,
    automatable,
    device_effect,
    exploit_maturity,
    parse_score,
    pick_score,
)
from vigil.response.decision_points import (
    AssetFacts,
    KevFact,
    Statement,
    exploitation_point,
    exposure_point,
    impact_points,
)
from vigil.response.policy import ENV_VAR, PolicyError, load_policy
from vigil.response.ssvc import (
    DEPLOYER_TABLE,
    EXPLOITATIONS,
    EXPOSURES,
    HUMAN_IMPACT_TABLE,
    OUTCOMES,
    POINT_NAMES,
    deployer_outcome,
    human_impact,
)
from vigil.response.states import StatusChange
from vigil.services.advisory_import import import_candidates
from vigil.services.inventory_import import import_inventory
from vigil.services.matching import run_match
from vigil.services.priorities import PriorityQuery, PriorityQueryError, PriorityRow, list_priorities
from vigil.services.reference_import import import_epss, import_kev
from vigil.services.response import set_status
from vigil.services.store import Store
from vigil.sources.csaf.files import discover
from vigil.store import schema as t

CISA = DEMO_ADVISORIES / "icsma-21-019-01.json"
PHILIPS = ROOT / "demo" / "vendor-advisories" / "philips-2021-01-14-interventional-ipmi.json"
EPSS = TEST_DATA / "epss" / "epss_scores-2026-11-20.csv.gz"
SEED = "CVE-2020-27298"
SITE = "St. Elsewhere"
SEED_VECTOR = "CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
HEADER = (
    "asset_id,manufacturer,model,model_number,software_vendor,software_name,software_version,"
    "network_zone,device_category,patient_connected,life_sustaining"
)
# A1: a listed workstation in the imaging VLAN. A4: the 12NC written another way, on the guest Wi-Fi, recorded
# as patient-connected and life-sustaining (the test wants every branch, not realism).
ROWS = [
    "A1,Philips,Allura Xper FD20 workstation,4598 009 39471,Philips,Interventional Workspot,R1.4.5,"
    "imaging,imaging workstation,no,no",
    "A4,PHILIPS MEDICAL SYSTEMS,Xper workstation,4598-009-70861,Philips Healthcare,interventional  workspot,"
    "Release 1.4.5,Guest WiFi,,yes,yes",
]
NO_STATEMENTS: tuple[Statement, ...] = ()


# --- SSVC tables, checked by hand against CERT/CC's deployer_dt.py and human_impact.py ----------------------


@pytest.mark.parametrize(
    ("inputs", "outcome"),
    [
        (("none", "small", "no", "low"), "defer"),  # DT_DP row 1
        (("none", "small", "no", "high"), "scheduled"),  # row 3
        (("none", "controlled", "yes", "low"), "scheduled"),  # row 13
        (("none", "open", "yes", "very_high"), "out_of_cycle"),  # row 24
        (("public_poc", "controlled", "no", "low"), "defer"),  # row 33
        (("public_poc", "controlled", "yes", "very_high"), "out_of_cycle"),  # row 40
        (("public_poc", "open", "no", "very_high"), "out_of_cycle"),  # row 44
        (("active", "small", "no", "low"), "scheduled"),  # row 49
        (("active", "small", "yes", "medium"), "out_of_cycle"),  # row 54
        (("active", "controlled", "yes", "low"), "out_of_cycle"),  # row 61
        (("active", "open", "no", "high"), "out_of_cycle"),  # row 67
        (("active", "open", "no", "very_high"), "immediate"),  # row 68
        (("active", "open", "yes", "low"), "out_of_cycle"),  # row 69
        (("active", "open", "yes", "high"), "immediate"),  # row 71
    ],
)
def test_deployer_table_rows(inputs: tuple[str, str, str, str], outcome: str) -> None:
    assert deployer_outcome(*inputs) == outcome


def test_deployer_table_is_complete_and_monotonic() -> None:
    assert len(DEPLOYER_TABLE) == 72 and set(DEPLOYER_TABLE.values()) == set(OUTCOMES)
    # More exploitation, exposure, automation or impact never lowers the outcome in CERT/CC's table.
    for (e, x, a, h), outcome in DEPLOYER_TABLE.items():
        rank = OUTCOMES.index(outcome)
        if e != "active":
            assert OUTCOMES.index(DEPLOYER_TABLE[(EXPLOITATIONS[EXPLOITATIONS.index(e) + 1], x, a, h)]) >= rank
        if x != "open":
            assert OUTCOMES.index(DEPLOYER_TABLE[(e, EXPOSURES[EXPOSURES.index(x) + 1], a, h)]) >= rank
    with pytest.raises(ValueError, match="not an SSVC deployer input"):
        deployer_outcome("PoC", "small", "no", "low")


@pytest.mark.parametrize(
    ("safety", "mission", "value"),
    [
        ("negligible", "degraded", "low"),
        ("negligible", "mef_failure", "medium"),
        ("marginal", "mef_support_crippled", "low"),
        ("marginal", "mission_failure", "very_high"),
        ("critical", "degraded", "medium"),
        ("critical", "mef_support_crippled", "high"),
        ("catastrophic", "degraded", "very_high"),
    ],
)
def test_human_impact_table(safety: str, mission: str, value: str) -> None:
    assert human_impact(safety, mission) == value
    assert len(HUMAN_IMPACT_TABLE) == 16


# --- CVSS ----------------------------------------------------------------------------------------------------


def test_pick_score_prefers_named_products_then_newest_version_then_highest_score() -> None:
    candidates = [
        ScoreCandidate("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ("P2",)),
        ScoreCandidate("3.0", "CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", ("P1",)),
        ScoreCandidate("3.0", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", ("P1",)),
        ScoreCandidate("2.0", "AV:N/AC:L/Au:N/C:C/I:C/A:C", ("P1",)),
        ScoreCandidate("4.0", "CVSS:4.0/AV:N/not-a-vector", ("P1",)),
    ]
    picked = pick_score(candidates, ["P1"])
    assert picked is not None and (picked.version, picked.base_score) == ("3.0", 7.5)
    fallback = pick_score(candidates, ["P9"])  # no score names P9: every score of the vulnerability counts
    assert fallback is not None and fallback.version == "3.1"
    assert pick_score([], ["P1"]) is None


@pytest.mark.parametrize(
    ("version", "vector", "value", "why"),
    [
        ("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "yes", "AV:N/AC:L/PR:N/UI:N → yes"),
        ("3.0", SEED_VECTOR, "no", "AV:A/AC:L/PR:N/UI:N → no"),
        ("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", "no", "UI:R"),
        ("2.0", "AV:N/AC:L/Au:N/C:P/I:P/A:P", "yes", "AV:N/AC:L/Au:N → yes"),
        ("2.0", "AV:N/AC:M/Au:N/C:P/I:P/A:P", "no", "AC:M"),
        ("4.0", "CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/AU:Y", "yes", "AU:Y"),
        ("4.0", "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "no", "AT:P"),
        ("4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "yes", "AT:N"),
    ],
)
def test_automatable_from_the_vector(version: str, vector: str, value: str, why: str) -> None:
    found, reason = automatable(parse_score(version, vector))
    assert found == value and why in reason
    assert automatable(None)[0] == "yes"


@pytest.mark.parametrize(
    ("version", "vector", "effect"),
    [
        ("3.0", SEED_VECTOR, "function"),
        ("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N", "partial"),
        ("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "data"),
        ("2.0", "AV:N/AC:L/Au:N/C:N/I:N/A:C", "function"),
        ("2.0", "AV:N/AC:L/Au:N/C:P/I:P/A:N", "partial"),
        ("4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:H/SA:N", "function"),
        ("4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N/S:P", "harm"),
    ],
)
def test_device_effect(version: str, vector: str, effect: str) -> None:
    assert device_effect(parse_score(version, vector))[0] == effect


def test_exploit_maturity_from_the_vector() -> None:
    assert exploit_maturity(parse_score("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:F")) is not None
    assert exploit_maturity(parse_score("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U")) is None
    v4 = parse_score("4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A")
    assert exploit_maturity(v4) == ("active", f"CVSS 4.0 E:A ({v4.vector if v4 else ''})")
    assert exploit_maturity(parse_score("3.0", SEED_VECTOR)) is None


# --- exploitation, from KEV and from the advisory's words -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("No known public exploits specifically target this vulnerability.", "none"),
        ("No known public exploitation specifically targeting this vulnerability has been reported to CISA.", "none"),
        ("To date, Philips has not received any reports of exploitation of these issues.", "none"),
        ("Exploits that target these vulnerabilities are publicly available.", "public_poc"),
        ("Public exploits are available.", "public_poc"),
        ("A proof-of-concept was published by the researcher.", "public_poc"),
        ("CISA has received reports of this vulnerability being actively exploited.", "active"),
        ("This vulnerability is known to be exploited in the wild.", "active"),
        ("Functional", "public_poc"),
    ],
)
def test_exploitation_statements(text: str, level: str) -> None:
    found = exploitation_statement(text)
    assert found is not None and found[0] == level


@pytest.mark.parametrize(
    "text",
    [
        "CISA recommends users take defensive measures to minimize the risk of exploitation of this vulnerability.",
        "Successful exploitation of this vulnerability could allow an attacker to execute arbitrary code.",
        "This vulnerability is not exploitable remotely.",
        "High skill level is needed to exploit.",
    ],
)
def test_sentences_about_what_exploitation_could_do_say_nothing(text: str) -> None:
    assert exploitation_statement(text) is None


def test_exploitation_point_kev_wins_then_strongest_statement() -> None:
    none = Statement("none", "No known public exploits specifically target this vulnerability.", "ICSMA-1 note")
    poc = Statement("public_poc", "Public exploits are available.", "VENDOR-1 note 'Exploitability'")
    kev = KevFact("CISA KEV 2026.11.20 (kev.json)", "2024-05-01")
    listed = exploitation_point(kev, True, [none, poc])
    assert (listed.value, listed.source) == (
        "active",
        "kev: listed in CISA KEV 2026.11.20 (kev.json), dateAdded 2024-05-01",
    )
    stated = exploitation_point(None, True, [none, poc])
    assert stated.value == "public_poc"
    assert stated.source == (
        "advisory: VENDOR-1 note 'Exploitability': 'Public exploits are available.'; "
        "not in the imported CISA KEV catalog"
    )
    silent = exploitation_point(None, False, NO_STATEMENTS)
    assert silent.value == "none" and "no CISA KEV catalog imported" in silent.source


def test_harm_statements() -> None:
    risk = (
        "Successful exploitation could allow an attacker to modify therapy settings. "
        "These vulnerabilities could affect patient safety."
    )
    assert harm_statement(risk) == "Successful exploitation could allow an attacker to modify therapy settings."
    assert harm_statement("Exploitation does not affect patient care.") is None
    assert harm_statement("could allow an attacker to crash the device being accessed") is None


# --- exposure and human impact --------------------------------------------------------------------------------


def _asset(
    zone: str | None = None, category: str | None = None, patient: bool = False, life: bool = False
) -> AssetFacts:
    return AssetFacts(zone, category, patient, life)


def test_exposure_from_zone_and_policy() -> None:
    policy = load_policy()
    seed = parse_score("3.0", SEED_VECTOR)
    cases = [
        ("imaging", "controlled", "asset.network_zone='imaging' → controlled (built-in policy)"),
        ("Guest WiFi", "open", "asset.network_zone='Guest WiFi' → open (built-in policy)"),
        ("isolated", "small", "asset.network_zone='isolated' → small (built-in policy)"),
        ("ward-7-iot", "controlled", "asset.network_zone='ward-7-iot' not listed → controlled (built-in policy)"),
        (None, "controlled", "asset names no network_zone → controlled (built-in policy)"),
    ]
    for zone, value, source in cases:
        point = exposure_point(_asset(zone), seed, policy)
        assert (point.name, point.value, point.source) == ("System Exposure", value, source)
    physical = parse_score("3.1", "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    point = exposure_point(_asset("Guest WiFi"), physical, policy)
    assert point.value == "small" and point.source.startswith("CVSS 3.1 AV:P: only physical access reaches it")


@pytest.mark.parametrize(
    ("asset", "vector", "harm", "expected"),
    [
        # the seed workstation: stopped, not on a patient; its category is mission essential
        (_asset(category="imaging workstation"), SEED_VECTOR, False, ("negligible", "mef_failure", "medium")),
        (_asset(category="ECG system", patient=True), SEED_VECTOR, False, ("critical", "degraded", "medium")),
        (
            _asset(patient=True),
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N",
            False,
            ("marginal", "degraded", "low"),
        ),
        (_asset(life=True), SEED_VECTOR, False, ("critical", "degraded", "medium")),
        (_asset(life=True), SEED_VECTOR, True, ("catastrophic", "degraded", "very_high")),
        (
            _asset(category="PACS server"),
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N",
            False,
            ("negligible", "mef_support_crippled", "low"),
        ),
        (_asset(life=True), "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", False, ("negligible", "degraded", "low")),
        (_asset(), SEED_VECTOR, True, ("marginal", "degraded", "low")),
    ],
)
def test_human_impact_derivation(asset: AssetFacts, vector: str, harm: bool, expected: tuple[str, str, str]) -> None:
    said = (
        Statement("harm", "These vulnerabilities could affect patient safety.", "ICSMA-21-012-01 note")
        if harm
        else None
    )
    points = impact_points(asset, parse_score("3.1" if "3.1" in vector else "3.0", vector), said, load_policy())
    assert tuple(p.value for p in points) == expected
    assert [p.name for p in points] == ["Safety Impact", "Mission Impact", "Human Impact"]
    assert points[2].source.startswith("CERT/CC SSVC Human Impact table 1.0.0: Safety Impact")
    if harm:
        assert "ICSMA-21-012-01 note" in points[0].source


# --- the policy -----------------------------------------------------------------------------------------------


def test_default_policy() -> None:
    policy = load_policy()
    assert dict(policy.due_days) == {"immediate": 2, "out_of_cycle": 14, "scheduled": 90, "defer": None}
    assert policy.exposure_of("clinical_vlan")[0] == "controlled" and policy.source == "built-in policy"


def test_policy_override_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ours.yaml"
    path.write_text(
        "due_days: {scheduled: 30, defer: 365}\n"
        "exposure: {zones: {open: [imaging]}, missing: small}\n"
        "mission_essential_categories: [infusion pump]\n",
        encoding="utf-8",
    )
    policy = load_policy(path)
    assert dict(policy.due_days) == {"immediate": 2, "out_of_cycle": 14, "scheduled": 30, "defer": 365}
    assert policy.exposure_of("Imaging") == ("open", "asset.network_zone='Imaging' → open (policy ours.yaml)")
    assert policy.exposure_of("clinical")[0] == "controlled"  # untouched zones keep the built-in exposure
    assert policy.exposure_of(None)[0] == "small"
    assert policy.mission_essential == frozenset({"infusion pump"})
    monkeypatch.setenv(ENV_VAR, str(path))
    assert load_policy().source == "policy ours.yaml"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("due_days: {scheduled: -1}\n", "due_days.scheduled: expected whole days from 0 to 3650 or null, got -1"),
        ("due_days: {soon: 3}\n", "due_days: unknown outcome 'soon'"),
        ("exposure: {zones: {public: [guest]}}\n", "exposure.zones: 'public' is not an SSVC System Exposure"),
        ("exposure: {default: wide}\n", "exposure.default: 'wide' is not an SSVC System Exposure"),
        ("zones: [a]\n", "unknown key 'zones'"),
        ("due_days: [1, 2\n", "not YAML"),
    ],
)
def test_bad_policy_names_file_and_key(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert str(raised.value).startswith(f"{path}: ") and reason in str(raised.value)
    assert "\n" not in str(raised.value)


# --- the service, on both databases ---------------------------------------------------------------------------


def _seed(store: Store, tmp_path: Path, rows: list[str] = ROWS) -> None:
    summary = import_candidates(store, discover([CISA, PHILIPS], store.settings.max_document_bytes), workers=1)
    assert summary.rejected == 0
    path = tmp_path / "inventory.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    assert not import_inventory(store, path, site=SITE).rejections
    run_match(store)


def _by_asset(rows: list[PriorityRow]) -> dict[str, PriorityRow]:
    return {row.asset_id: row for row in rows}


def _points(row: PriorityRow) -> dict[str, str]:
    return {p.name: p.value for p in row.points}


def _kev_listing(tmp_path: Path, cve: str) -> Path:
    """A catalog in CISA's format that lists `cve` (the seed CVE is not in CISA's real catalog)."""
    entry = {"cveID": cve, "vendorProject": "Philips", "product": "Interventional Workspot", "dateAdded": "2024-05-01"}
    path = tmp_path / "kev.json"
    path.write_text(json.dumps({"catalogVersion": "2026.11.20", "vulnerabilities": [entry]}), encoding="utf-8")
    return path


def test_seed_findings_prioritised_and_explained(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    rows = list_priorities(store, PriorityQuery(site=SITE, cve=SEED))
    found = _by_asset(rows)
    assert sorted(found) == ["A1", "A4"] and {r.advisory for r in rows} == {"PHILIPS-2021-01-14-IPMI"}
    a1 = found["A1"]
    assert [p.name for p in a1.points] == list(POINT_NAMES)
    assert _points(a1) == {
        "Exploitation": "none",
        "System Exposure": "controlled",
        "Automatable": "no",
        "Safety Impact": "negligible",
        "Mission Impact": "mef_failure",
        "Human Impact": "medium",
    }
    assert a1.outcome == "scheduled" and a1.response_status == "affected" and not a1.kev
    assert a1.cvss is not None and (a1.cvss.version, a1.cvss.base_score, a1.cvss.vector) == ("3.0", 6.5, SEED_VECTOR)
    assert a1.due_date == a1.opened_at.date() + timedelta(days=90) and not a1.overdue
    sources = {p.name: p.source for p in a1.points}
    assert sources["Exploitation"].startswith("advisory: PHILIPS-2021-01-14-IPMI note 'Impact': 'To date, Philips has")
    assert sources["System Exposure"] == "asset.network_zone='imaging' → controlled (built-in policy)"
    a4 = found["A4"]
    assert _points(a4)["System Exposure"] == "open" and _points(a4)["Safety Impact"] == "critical"
    assert a4.as_json()["points"][0] == {"name": "Exploitation", "value": "none", "source": sources["Exploitation"]}


def test_kev_and_epss_change_the_decision(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    import_kev(store, _kev_listing(tmp_path, SEED), "j.doe")
    import_epss(store, EPSS, "j.doe")
    rows = list_priorities(store, PriorityQuery(site=SITE, cve=SEED))
    found = _by_asset(rows)
    assert [r.asset_id for r in rows] == ["A4", "A1"]  # out_of_cycle before scheduled
    assert found["A1"].kev and found["A1"].epss == 0.00213 and found["A1"].epss_percentile == 0.59032
    exploitation = found["A1"].point("Exploitation")
    assert (exploitation.value, exploitation.source) == (
        "active",
        "kev: listed in CISA KEV 2026.11.20 (kev.json), dateAdded 2024-05-01",
    )
    assert found["A1"].outcome == "scheduled"  # active, controlled, not automatable, medium
    assert found["A4"].outcome == "out_of_cycle"  # active, open, not automatable, medium
    assert found["A4"].due_date == found["A4"].opened_at.date() + timedelta(days=14)
    # The policy moves the imaging VLAN to open: A1 follows A4.
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("exposure: {zones: {open: [imaging]}}\ndue_days: {out_of_cycle: 7}\n", encoding="utf-8")
    moved = _by_asset(list_priorities(store, PriorityQuery(site=SITE), policy=load_policy(policy_file)))["A1"]
    assert moved.outcome == "out_of_cycle" and moved.due_date == moved.opened_at.date() + timedelta(days=7)
    assert moved.point("System Exposure").source == "asset.network_zone='imaging' → open (policy policy.yaml)"


def test_due_dates_overdue_and_statuses(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    a1 = _by_asset(list_priorities(store, PriorityQuery(site=SITE)))["A1"]
    assert a1.due_date is not None
    late = datetime.combine(a1.due_date + timedelta(days=1), datetime.min.time(), UTC)
    on_time = datetime.combine(a1.due_date, datetime.min.time(), UTC)
    assert _by_asset(list_priorities(store, PriorityQuery(site=SITE), now=late))["A1"].overdue
    assert not _by_asset(list_priorities(store, PriorityQuery(site=SITE), now=on_time))["A1"].overdue
    assert [r.asset_id for r in list_priorities(store, PriorityQuery(site=SITE, overdue=True), now=late)] == [
        "A1",
        "A4",
    ]

    accept = StatusChange(
        "risk_accepted", owner="CISO", reason="isolated cath lab", expires_at=late + timedelta(days=30)
    )
    set_status(store, SITE, a1.finding_id, accept, "j.doe")
    accepted = _by_asset(list_priorities(store, PriorityQuery(site=SITE), now=late))["A1"]
    assert accepted.response_status == "risk_accepted" and not accepted.overdue

    a4 = _by_asset(list_priorities(store, PriorityQuery(site=SITE)))["A4"]
    set_status(store, SITE, a4.finding_id, StatusChange("not_affected", justification="component_not_present"), "j.doe")
    assert "A4" not in _by_asset(list_priorities(store, PriorityQuery(site=SITE)))
    resolved = _by_asset(list_priorities(store, PriorityQuery(site=SITE, include_resolved=True), now=late))["A4"]
    assert resolved.response_status == "not_affected" and not resolved.overdue


def test_possible_matches_pending_review_count_as_under_investigation(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    a4 = _by_asset(list_priorities(store, PriorityQuery(site=SITE)))["A4"]
    with store.sessions() as session, session.begin():
        # Test data: pretend the matcher found A4 only possibly (plain SQL, as the matcher writes it).
        session.execute(
            update(t.Finding).where(t.Finding.id == a4.finding_id).values(match="possible", review="pending")
        )
    row = _by_asset(list_priorities(store, PriorityQuery(site=SITE)))["A4"]
    assert (row.match, row.response_status) == ("possible", "under_investigation")
    with store.sessions() as session, session.begin():
        session.execute(update(t.Finding).where(t.Finding.id == a4.finding_id).values(review="rejected"))
    assert "A4" not in _by_asset(list_priorities(store, PriorityQuery(site=SITE)))


def test_unknown_site_advisory_outcome(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    for query, reason in [
        (PriorityQuery(site="Nowhere"), "no site named 'Nowhere'"),
        (PriorityQuery(advisory="ICSMA-99-999-99"), "no advisory with tracking id 'ICSMA-99-999-99'"),
        (PriorityQuery(outcome="urgent"), "unknown outcome 'urgent'"),
    ]:
        with pytest.raises(PriorityQueryError, match=reason):
            list_priorities(store, query)
    assert {r.asset_id for r in list_priorities(store, PriorityQuery(advisory="philips-2021-01-14-ipmi"))} == {
        "A1",
        "A4",
    }
    assert [r.asset_id for r in list_priorities(store, PriorityQuery(asset_id="A4"))] == ["A4"]


def test_query_count_does_not_grow_with_findings(store: Store, tmp_path: Path) -> None:
    """Batching, not timing: prioritising 40 findings issues exactly the statements 2 findings do."""
    many = [ROWS[0].replace("A1,", f"W{n:02d},", 1) for n in range(40)]
    _seed(store, tmp_path, [*ROWS, *many])
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        small = list_priorities(store, PriorityQuery(site=SITE, asset_id="A1"))
        small_count = len(statements)
        statements.clear()
        large = list_priorities(store, PriorityQuery(site=SITE))
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert (len(small), len(large)) == (1, 42)
    assert len(statements) == small_count


# --- the CLI end to end: demo advisories, a generated inventory, vigil match ---------------------------------


def test_cli_end_to_end_on_the_demo(cli: Cli, tmp_path: Path) -> None:
    assert cli("advisories", "import", "-q", str(DEMO_ADVISORIES), str(PHILIPS.parent)).code == 0
    generated = cli("inventory", "generate", "--assets", "400", "--seed", "1", "--out", str(tmp_path / "inv.csv"))
    assert generated.code == 0, generated.stderr
    assert cli("inventory", "import", "-q", str(tmp_path / "inv.csv")).code == 0
    assert cli("match").code == 0
    assert cli("kev", "import", str(TEST_DATA / "kev" / "known_exploited_vulnerabilities.json")).code == 0

    result = cli("priorities", "--format", "json")
    assert result.code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and all(len(r["points"]) == 6 and all(p["source"] for p in r["points"]) for r in rows)
    ranks = [(-OUTCOMES.index(r["outcome"]), -(r["cvss"]["base_score"] if r["cvss"] else -1)) for r in rows]
    assert ranks == sorted(ranks)

    seed = [r for r in rows if r["cve"] == SEED]
    assert seed, "the generated inventory holds devices the seed advisory affects"
    for row in seed:
        assert row["advisory"] in ("PHILIPS-2021-01-14-IPMI", "ICSMA-21-019-01")
        points = {p["name"]: p for p in row["points"]}
        assert points["Exploitation"]["value"] == "none"
        assert "not in the imported CISA KEV catalog" in points["Exploitation"]["source"]
        assert points["Automatable"]["source"].startswith("CVSS 3.0 AV:A/AC:L/PR:N/UI:N → no")
        assert "asset.network_zone=" in points["System Exposure"]["source"]
        assert row["due_date"] is not None and row["outcome"] in OUTCOMES

    # Ghostcat (CVE-2020-1938, ICSMA-21-187-01) is in the KEV sample: active wherever it is found.
    ghostcat = [r for r in rows if r["cve"] == "CVE-2020-1938"]
    assert ghostcat and all(r["kev"] and r["points"][0]["value"] == "active" for r in ghostcat)

    explained = cli("priorities", "--cve", SEED, "--explain", "--limit", "1")
    assert explained.code == 0 and "    Exploitation: none — advisory: " in explained.stdout
    table = cli("priorities", "--cve", SEED, "--format", "csv")
    parsed = list(csv.DictReader(io.StringIO(table.stdout)))
    assert len(parsed) == len(seed) and parsed[0]["system_exposure_source"].startswith("asset.network_zone=")
    assert len(json.loads(cli("priorities", "--format", "json", "--limit", "3").stdout)) == min(3, len(rows))
    for args, message in [
        (("--outcome", "urgent"), "error: unknown outcome 'urgent'"),
        (("--site", "Nowhere"), "error: no site named 'Nowhere'"),
        (("--policy", str(tmp_path / "absent.yaml")), "absent.yaml: cannot read"),
    ]:
        refused = cli("priorities", *args)
        assert refused.code == 2 and message in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
