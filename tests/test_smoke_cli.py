"""The demo data imports through the real CLI on both databases, and a re-import changes nothing."""

from __future__ import annotations

import json

from conftest import DEMO_ADVISORIES, Cli


def test_import_list_show_roundtrip(cli: Cli) -> None:
    first = cli("advisories", "import", "--quiet", str(DEMO_ADVISORIES))
    assert first.code == 0, first.stderr
    assert first.stdout.splitlines()[0] == "imported 36, unchanged 0, rejected 0"

    again = cli("advisories", "import", "--quiet", str(DEMO_ADVISORIES))
    assert again.code == 0
    assert again.stdout.splitlines()[0] == "imported 0, unchanged 36, rejected 0"

    listed = json.loads(cli("advisories", "list", "--format", "json").stdout)
    assert len(listed) == 36
    for key in (
        "tracking_id",
        "publisher",
        "title",
        "version",
        "current_release_date",
        "cves",
        "quality_flags",
    ):
        assert all(key in row for row in listed), key
    seed = next(row for row in listed if row["tracking_id"] == "ICSMA-21-019-01")
    assert seed["cves"] == ["CVE-2020-27298"]

    shown = json.loads(cli("advisories", "show", "ICSMA-21-019-01", "--format", "json").stdout)
    assert [p["product_name"] for p in shown["products"]] == [
        "Interventional Workspot",
        "ViewForum",
        "Coronary Tools/Dynamic Coronary Roadmap/Stentboost Live",
    ]
    score = shown["vulnerabilities"][0]["scores"][0]
    assert (score["cvss_version"], score["base_score"], score["base_severity"]) == ("3.0", 6.5, "Medium")
    assert [r["category"] for r in shown["vulnerabilities"][0]["remediations"]] == ["vendor_fix"] * 3


def test_show_unknown_advisory_is_one_line_and_nonzero(cli: Cli) -> None:
    result = cli("advisories", "show", "NOPE-1")
    assert result.code == 1
    assert result.stderr.strip() == "error: no advisory with tracking id 'NOPE-1'"
