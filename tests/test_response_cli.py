"""The response commands as scripts use them (issue #5): `vigil findings set-status`, `vigil decisions
add/list/revoke`, `vigil actions list/assign/complete`; one-line errors and exit codes for bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from conftest import ROOT, Cli

PHILIPS = ROOT / "demo" / "vendor-advisories" / "philips-2021-01-14-interventional-ipmi.json"
SITE = "St. Elsewhere"
INVENTORY = [
    "asset_id,manufacturer,model,model_number,software_vendor,software_name,software_version",
    "A1,Philips,Allura Xper FD20 workstation,4598 009 39471,Philips,Interventional Workspot,R1.4.5",
    "A2,Philips,Allura Xper FD10 workstation,4598 009 39481,Philips,Interventional Workspot,1.4.5",
]


def _json(cli: Cli, *args: str) -> Any:
    result = cli(*args, "--format", "json")
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _findings(cli: Cli, tmp_path: Path) -> dict[str, dict[str, Any]]:
    path = tmp_path / "inventory.csv"
    path.write_text("\n".join(INVENTORY) + "\n", encoding="utf-8")
    assert cli("advisories", "import", "-q", str(PHILIPS)).code == 0
    assert cli("inventory", "import", "-q", "--site", SITE, str(path)).code == 0
    assert cli("match").code == 0
    return {f["asset_id"]: f for f in _json(cli, "findings")}


def _error(result: Any, code: int) -> str:
    assert result.code == code, (result.code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return str(lines[0])


def test_set_status_with_evidence_and_its_refusals(cli: Cli, tmp_path: Path) -> None:
    findings = _findings(cli, tmp_path)
    a1 = str(findings["A1"]["id"])
    proof = tmp_path / "ipmi-check.txt"
    proof.write_text("ipmitool -U ADMIN -P ADMIN: authentication failed\n", encoding="utf-8")

    line = _error(cli("findings", "set-status", a1, "mitigated", "--by", "alice"), 1)
    assert "mitigated needs evidence" in line
    line = _error(cli("findings", "set-status", a1, "not_affected", "--by", "alice", "--justification", "nah"), 1)
    assert "unknown justification 'nah'" in line
    line = _error(cli("findings", "set-status", a1, "mitigated", "--by", "a", "--evidence-file", "/nope/x.txt"), 2)
    assert "--evidence-file /nope/x.txt: cannot read it" in line
    line = _error(cli("findings", "set-status", a1, "risk_accepted", "--by", "a", "--expires", "next week"), 2)
    assert "--expires 'next week': expected YYYY-MM-DD" in line
    _error(cli("findings", "set-status", "999999", "affected", "--by", "a"), 2)

    done = _json(
        cli,
        "findings",
        "set-status",
        a1,
        "mitigated",
        "--by",
        "alice",
        "--comment",
        "rotated",
        "--evidence",
        "checked with ipmitool",
        "--evidence-file",
        str(proof),
        "--expect-version",
        "1",
    )
    assert (done["response_status"], done["response_version"], done["response_source"]) == ("mitigated", 2, "device")
    digest = hashlib.sha256(proof.read_bytes()).hexdigest()
    assert done["response_detail"]["evidence"] == [
        {"kind": "text", "value": "checked with ipmitool"},
        {"kind": "file", "value": str(proof.resolve()), "sha256": digest},
    ]
    assert done["history"][-1]["kind"] == "status" and done["history"][-1]["actor"] == "alice"

    stale = cli("findings", "set-status", a1, "affected", "--by", "bob", "--expect-version", "1")
    assert "conflict: finding" in _error(stale, 3) and "now mitigated (version 2 by alice)" in stale.stderr
    illegal = _error(cli("findings", "set-status", a1, "under_investigation", "--by", "bob"), 1)
    assert "cannot go from mitigated to under_investigation" in illegal

    listed = _json(cli, "findings", "--response-status", "mitigated")
    assert [f["asset_id"] for f in listed] == ["A1"]


def test_decide_once_and_actions_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    findings = _findings(cli, tmp_path)
    decision = _json(
        cli,
        "decisions",
        "add",
        "remediation_scheduled",
        "--site",
        SITE,
        "--manufacturer",
        "Philips Healthcare",
        "--model",
        "Interventional WorkSpot",
        "--release",
        "1.4.*",
        "--cve",
        "CVE-2020-27298",
        "--fco",
        "FCO72200452",
        "--planned-date",
        "2027-01-15",
        "--vendor-contact",
        "Philips 1-800-722-9377",
        "--by",
        "dave",
    )
    assert decision["result"]["applied"] == 2 and decision["manufacturer"] == "Philips"
    [listed] = _json(cli, "decisions", "list", "--site", SITE)
    assert listed["detail"]["fco_number"] == "FCO72200452" and listed["release"] == "1.4.*"
    after = {f["asset_id"]: f for f in _json(cli, "findings")}
    assert after["A1"]["response_status"] == "remediation_scheduled" and after["A1"]["decision_id"] == decision["id"]

    items = _json(cli, "actions", "list", "--site", SITE)
    assert {(i["asset_id"], i["category"]) for i in items} == {
        ("A1", "mitigation"),
        ("A1", "vendor_fix"),
        ("A2", "mitigation"),
        ("A2", "vendor_fix"),
    }
    mitigation = next(i for i in items if i["asset_id"] == "A2" and i["category"] == "mitigation")
    assigned = _json(cli, "actions", "assign", str(mitigation["id"]), "--site", SITE, "--to", "erin", "--by", "dave")
    assert assigned["assignee"] == "erin"
    missing = _error(
        cli("actions", "complete", str(mitigation["id"]), "--site", SITE, "--by", "erin", "--evidence", " "), 2
    )
    assert "needs evidence" in missing
    completed = _json(
        cli,
        "actions",
        "complete",
        str(mitigation["id"]),
        "--site",
        SITE,
        "--by",
        "erin",
        "--evidence",
        "IPMI password changed; vault 4411",
    )
    # A scheduled device is not `affected`: completing the mitigation records it, the status stays scheduled.
    assert completed["state"] == "done" and completed["status_changes"] == []
    summary = _json(cli, "actions", "list", "--site", SITE, "--summary", "--state", "all")
    assert {(r["category"], r["open"], r["done"]) for r in summary} == {
        ("mitigation", 1, 1),
        ("vendor_fix", 2, 0),
        ("*", 3, 1),  # the whole site
    }
    again = _error(cli("actions", "complete", str(mitigation["id"]), "--site", SITE, "--by", "x", "--evidence", "y"), 2)
    assert "is done: only open items are completed" in again

    revoked = cli("decisions", "revoke", str(decision["id"]), "--site", SITE, "--by", "dave")
    assert revoked.code == 0 and "2 device finding(s) reset" in revoked.stdout
    assert {f["response_status"] for f in _json(cli, "findings")} == {"affected"}
    assert "no site named 'Nowhere'" in _error(cli("decisions", "list", "--site", "Nowhere"), 2)
    assert findings  # the set-up matched both workstations
