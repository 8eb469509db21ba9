"""`vigil match` and `vigil findings` end to end on both databases: the JSON contract, CSV, grouping, review,
and a one-line error for every bad argument."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from conftest import DEMO_ADVISORIES, ROOT, Cli

PHILIPS = ROOT / "demo" / "vendor-advisories" / "philips-2021-01-14-interventional-ipmi.json"
INVENTORY = [
    "asset_id,manufacturer,model,model_number,software_vendor,software_name,software_version",
    "A1,Philips,Allura Xper FD20 workstation,4598 009 39471,Philips,Interventional Workspot,R1.4.5",
    "A2,Dell,OptiPlex 7050,,Philips,Interventional Workspot,1.4.5",
    "P1,Philips,Allura workstation,,Philips,ViewForum,",
]
CONTRACT = {"asset_id", "site", "advisory_id", "publisher", "cves", "status", "match", "product_ids", "evidence"}


def _json(cli: Cli, *args: str) -> Any:
    result = cli(*args, "--format", "json")
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _set_up(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "inventory.csv"
    path.write_text("\n".join(INVENTORY) + "\n", encoding="utf-8")
    assert cli("advisories", "import", "-q", str(DEMO_ADVISORIES / "icsma-21-019-01.json"), str(PHILIPS)).code == 0
    assert cli("inventory", "import", "-q", "--site", "St. Elsewhere", str(path)).code == 0


def test_match_and_findings(cli: Cli, tmp_path: Path) -> None:
    _set_up(cli, tmp_path)
    report = _json(cli, "match", "--stats")
    [site] = report["sites"]
    assert (site["site"], site["mode"], site["opened"], site["review_pending"]) == ("St. Elsewhere", "full", 4, 1)
    assert report["summary"].startswith("sites 1: findings opened 4,")
    assert report["notations"]["list"] >= 1 and 0 <= report["unparsed_share"] < 1
    again = cli("match")  # incremental, and nothing changed: nothing to evaluate
    assert again.code == 0 and "incremental" in again.stdout
    assert "findings opened 0, changed 0, revised 0, reopened 0, closed 0, unchanged 0" in again.stdout

    # Philips' own document prevails for every product CISA's copy names: only A1 is affected by default.
    assert [(f["asset_id"], f["advisory_id"]) for f in _json(cli, "findings")] == [("A1", "PHILIPS-2021-01-14-IPMI")]
    findings = _json(cli, "findings", "--superseded")
    assert len(findings) == 4
    for finding in findings:
        assert finding.keys() >= CONTRACT
        assert finding["status"] in ("affected", "fixed", "not_affected", "under_investigation")
        assert finding["match"] in ("exact", "probable", "possible")
        assert finding["cves"] == ["CVE-2020-27298"]
    assert [f["asset_id"] for f in _json(cli, "findings", "--match", "possible", "--superseded")] == ["P1"]
    assert [f["asset_id"] for f in _json(cli, "findings", "--match", "exact,probable", "--status", "affected")] == [
        "A1"
    ]
    assert _json(cli, "findings", "--advisory", "ICSMA-21-019-01", "--asset", "A2") == []
    assert len(_json(cli, "findings", "--advisory", "icsma-21-019-01", "--superseded", "--site", "St. Elsewhere")) == 3

    groups = {g["asset_id"]: g for g in _json(cli, "findings", "--by-cve")}
    assert groups["A2"]["prevailing"] == [] and "does not include this asset" in groups["A2"]["sources"][0]["reason"]

    table = cli("findings", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [r["asset_id"] for r in rows] == ["A1"] and rows[0]["cves"] == "CVE-2020-27298"

    possible = next(f for f in findings if f["match"] == "possible")
    confirmed = cli("findings", "confirm", str(possible["id"]), "--by", "j.doe", "--comment", "seen on site")
    assert confirmed.code == 0, confirmed.stderr
    shown = _json(cli, "findings", "show", str(possible["id"]))
    assert shown["review"] == "confirmed"
    assert [e["kind"] for e in shown["history"]] == ["opened", "superseded", "confirmed"]


def test_bad_arguments_get_one_line_and_exit_2(cli: Cli, tmp_path: Path) -> None:
    _set_up(cli, tmp_path)
    assert cli("match", "-q").code == 0
    exact = next(f for f in _json(cli, "findings") if f["match"] == "exact")
    cases = {
        ("findings", "--status", "bogus"): "unknown status 'bogus'",
        ("findings", "--match", "exact,maybe"): "unknown match level 'maybe'",
        ("findings", "--site", "Nowhere"): "no site named 'Nowhere'",
        ("findings", "--advisory", "NOPE-1"): "no advisory with tracking id 'NOPE-1'",
        ("findings", "show", "999999"): "no finding 999999",
        ("findings", "confirm", str(exact["id"]), "--by", "j.doe"): "only possible matches are reviewed",
        ("match", "--site", "Nowhere"): "no site named 'Nowhere'",
    }
    for args, message in cases.items():
        result = cli(*args)
        assert result.code == 2, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, result.stderr)
    assert cli("findings", "confirm", str(exact["id"])).code == 2  # --by is required (usage error)
