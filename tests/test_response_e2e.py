"""The response workflow end to end, as a script would run it (issue #5 acceptance), on SQLite and PostgreSQL:
import the demo advisories and a generated inventory, match, decide once for a model, mitigate one device with
evidence, schedule an FCO for another, accept risk on a third with an expiry in the past (it reopens), export
VEX and the PDF report, verify the audit chain."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import DEMO_ADVISORIES, ROOT, Cli
from vigil.sources.csaf.validate import check

SITE = "St. Elsewhere General"
SEED_CVE = "CVE-2020-27298"


def _ok(cli: Cli, *args: str) -> str:
    result = cli(*args)
    assert result.code == 0, (args, result.stderr)
    return result.stdout


def _json(cli: Cli, *args: str) -> Any:
    return json.loads(_ok(cli, *args, "--format", "json"))


def _poppler(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found: install poppler-utils to check the PDF report"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _decided_model(cli: Cli, findings: list[dict[str, Any]], seed_devices: set[str]) -> tuple[dict[str, Any], str]:
    """The (device, CVE) the generated site has most often among its other affected devices: what a security
    team would decide once for."""
    assets = {a["asset_id"]: a for a in _json(cli, "inventory", "list", "--site", SITE)}
    counts: Counter[tuple[str, str, str]] = Counter()
    for finding in findings:
        asset = assets[finding["asset_id"]]
        if finding["asset_id"] in seed_devices or finding["response_status"] != "affected" or not finding["cves"]:
            continue
        counts[(asset["manufacturer"], asset["model"], finding["cves"][0])] += 1
    (manufacturer, model, cve), devices = counts.most_common(1)[0]
    assert devices >= 2, counts
    return {"manufacturer": manufacturer, "model": model}, cve


def test_from_advisory_to_proof(cli: Cli, tmp_path: Path) -> None:
    # Import, generate, match.
    _ok(cli, "advisories", "import", "-q", str(DEMO_ADVISORIES), str(ROOT / "demo" / "vendor-advisories"))
    inventory = tmp_path / "inventory.csv"
    _ok(cli, "inventory", "generate", "--assets", "300", "--seed", "5", "--out", str(inventory))
    _ok(cli, "inventory", "import", "-q", str(inventory))
    _ok(cli, "match")
    findings = _json(cli, "findings", "--site", SITE)
    seed = sorted(
        (f for f in findings if f["cves"] == [SEED_CVE] and f["advisory_id"] == "PHILIPS-2021-01-14-IPMI"),
        key=lambda f: f["asset_id"],
    )
    assert len(seed) >= 3, "the generated site should hold three of Philips' affected workstations"
    mitigated, scheduled, accepted = seed[:3]

    # Decide once for a model.
    model, cve = _decided_model(cli, findings, {f["asset_id"] for f in seed})
    decision = _json(
        cli,
        "decisions",
        "add",
        "mitigated",
        "--site",
        SITE,
        "--manufacturer",
        model["manufacturer"],
        "--model",
        model["model"],
        "--cve",
        cve,
        "--by",
        "d.ng",
        "--evidence",
        "Segmented onto the biomed VLAN; ACL reviewed 2026-11-02",
    )
    assert decision["result"]["applied"] >= 2 and decision["result"]["refused"] == []

    # Mitigate one seed workstation by completing its action item with evidence.
    items = _json(cli, "actions", "list", "--site", SITE, "--advisory", "PHILIPS-2021-01-14-IPMI")
    [password] = [i for i in items if i["asset_id"] == mitigated["asset_id"] and i["category"] == "mitigation"]
    assert "change the IPMI password for the workstation interface" in password["details"]
    completed = _json(
        cli,
        "actions",
        "complete",
        str(password["id"]),
        "--site",
        SITE,
        "--by",
        "e.ruiz",
        "--evidence",
        "IPMI password rotated; default login refused (ipmitool, 2026-11-27)",
    )
    assert [c["to"] for c in completed["status_changes"]] == ["mitigated"]

    # Schedule the FCO for another.
    _ok(
        cli,
        "findings",
        "set-status",
        str(scheduled["id"]),
        "remediation_scheduled",
        "--by",
        "e.ruiz",
        "--fco",
        "FCO72200452",
        "--planned-date",
        "2027-01-15",
        "--vendor-contact",
        "Philips 1-800-722-9377",
    )
    # Accept the risk on a third, with an expiry already past: the next run reopens it.
    _ok(
        cli,
        "findings",
        "set-status",
        str(accepted["id"]),
        "risk_accepted",
        "--by",
        "e.ruiz",
        "--owner",
        "Dr. A. Okafor",
        "--reason",
        "Cath lab 2 isolated until the FCO visit",
        "--expires",
        "2026-01-01",
    )
    assert "risk acceptances expired 1" in _ok(cli, "match")
    after = {f["id"]: f for f in _json(cli, "findings", "--site", SITE)}
    assert after[mitigated["id"]]["response_status"] == "mitigated"
    assert after[scheduled["id"]]["response_status"] == "remediation_scheduled"
    assert (after[accepted["id"]]["response_status"], after[accepted["id"]]["response_source"]) == (
        "affected",
        "expiry",
    )
    decided = [f for f in after.values() if f["decision_id"] == decision["id"]]
    assert len(decided) == decision["result"]["applied"] and {f["response_status"] for f in decided} == {"mitigated"}

    # VEX: CSAF csaf_vex that the csaf package accepts (schema, mandatory tests, VEX profile), and that reads back
    # onto the same findings without changing anything.
    vex = tmp_path / "site.vex.json"
    _ok(cli, "vex", "export", "--site", SITE, "--format", "csaf", "--out", str(vex))
    document = json.loads(vex.read_text(encoding="utf-8"))
    assert document["document"]["category"] == "csaf_vex"
    assert check(document, "2.0") == ()
    statuses = {s for v in document["vulnerabilities"] for s in v["product_status"]}
    assert {"known_affected", "under_investigation"} <= statuses
    _ok(cli, "vex", "import", str(vex), "--site", SITE, "--by", "e.ruiz")
    assert {f["id"]: f["response_version"] for f in _json(cli, "findings", "--site", SITE)} == {
        f["id"]: f["response_version"] for f in after.values()
    }

    # The PDF report, read back from its rendered pages.
    pdftoppm, pdftotext = _poppler("pdftoppm"), _poppler("pdftotext")
    pdf = tmp_path / "report.pdf"
    _ok(cli, "report", "--site", SITE, "--format", "pdf", "--out", str(pdf))
    subprocess.run([pdftoppm, "-png", "-r", "40", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    assert sorted(tmp_path.glob("page-*.png")), "the PDF has no page"
    text = subprocess.run([pdftotext, str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60).stdout
    for expected in (SITE, SEED_CVE, "FCO72200452", mitigated["asset_id"], scheduled["asset_id"]):
        assert expected in text, expected

    # The audit chain holds every step, intact.
    actions = {e["action"] for e in _json(cli, "audit", "list", "--site", SITE)}
    expected_actions = {"inventory.import", "match.run", "decision.add", "action.complete", "finding.status"}
    assert expected_actions | {"vex.export", "vex.import", "report.generate"} <= actions
    verified = cli("audit", "verify")
    assert verified.code == 0, verified.stdout + verified.stderr
