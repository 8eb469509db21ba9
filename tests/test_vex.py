"""VEX out and back in (issue #5) on both databases: the seed's devices with a mix of response statuses, exported
as CSAF 2.0 csaf_vex (validated by the `csaf` package with the mandatory tests, VEX profile included), CycloneDX
1.6 (validated by cyclonedx-python-lib) and OpenVEX 0.2.0 (its required fields), imported onto a fresh copy of
the same findings with identical statuses and details, re-imported without a trace, and bad files reported."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from sqlalchemy import func, select

from conftest import DEMO_ADVISORIES, PG_URL, ROOT, Cli
from vigil.config import load_settings
from vigil.outputs.vex_csaf import csaf_vex
from vigil.outputs.vex_cyclonedx import cyclonedx_vex
from vigil.outputs.vex_openvex import openvex
from vigil.response.states import Evidence, StatusChange
from vigil.response.vex_model import (
    VexDevice,
    VexDocument,
    VexPublisher,
    VexRemediation,
    VexStatement,
    VexVulnerability,
    asset_of_product_id,
    escape_part,
    product_id,
    unescape_part,
)
from vigil.services.advisory_import import import_candidates
from vigil.services.findings_read import FindingQuery, find_findings, show_finding
from vigil.services.inventory_import import import_inventory
from vigil.services.matching import run_match
from vigil.services.response import set_status
from vigil.services.store import Store, open_store
from vigil.services.vex import VexExportRequest, export_vex, import_vex
from vigil.sources.csaf.files import discover
from vigil.sources.csaf.validate import check
from vigil.sources.vex import read_vex
from vigil.store import schema as t

CISA = DEMO_ADVISORIES / "icsma-21-019-01.json"
PHILIPS = ROOT / "demo" / "vendor-advisories" / "philips-2021-01-14-interventional-ipmi.json"
SITE = "St. Elsewhere"
CVE = "CVE-2020-27298"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HEADER = "asset_id,manufacturer,model,model_number,serial_number,software_vendor,software_name,software_version"
# Haswell workstations by 12NC running listed releases (Philips' advisory prevails for them), a Dell running a
# listed release (CISA's copy only, superseded), and a possible match waiting for review.
ROWS = [
    "A1,Philips,Allura Xper FD20 workstation,4598 009 39471,SN-0001,Philips,Interventional Workspot,R1.4.5",
    "A3,Philips,Allura Xper FD20 workstation,4598 009 70861,SN-0003,Philips,ViewForum,6.3V1L10",
    "A4,Philips,Allura Xper FD10 workstation,4598 009 98531,SN-0004,Philips,Interventional Workspot,1.4.3",
    "A5,Philips,Allura Xper FD20 workstation,4598 009 39481,SN-0005,Philips,Interventional Workspot,1.4.1",
    "A6,Philips,Allura Xper FD20 workstation,4598 009 39471,SN-0006,Philips,Interventional Workspot,1.4.0",
    "A7,Philips,Allura Xper FD20 workstation,4598 009 39471,,Philips,Interventional Workspot,1.3.2",
    "A8,Philips,Allura Xper FD10 workstation,4598 009 98531,SN-0008,Philips,Interventional Workspot,1.4.5",
    "A2,Dell,OptiPlex 7050,,,Philips,Interventional Workspot,1.4.5",
    "P1,Philips,Allura workstation,,,Philips,ViewForum,",
]
STATUSES = {
    "A1": StatusChange(
        "mitigated", comment="IPMI on the management VLAN only", evidence=(Evidence("text", "IPMI password changed"),)
    ),
    "A3": StatusChange(
        "remediation_scheduled", fco_number="FCO72200452", planned_date=date(2026, 12, 15), vendor_contact="FSE Jansen"
    ),
    "A4": StatusChange(
        "risk_accepted",
        owner="Head of Radiology",
        reason="replacement in Q1",
        expires_at=datetime(2027, 3, 31, tzinfo=UTC),
    ),
    "A5": StatusChange("not_affected", justification="component_not_present", comment="IPMI card removed"),
    "A6": StatusChange("fixed", evidence=(Evidence("file", "fco-report.pdf", "ab" * 32),)),
    "A8": StatusChange("under_investigation", comment="vendor asked"),
}
"""A7 stays affected, as the advisory says; A2 and P1 keep what the matcher gave them."""


def _seed(store: Store, tmp_path: Path, statuses: bool = True) -> None:
    summary = import_candidates(store, discover([CISA, PHILIPS], store.settings.max_document_bytes), workers=1)
    assert summary.rejected == 0
    path = tmp_path / f"inventory-{uuid.uuid4().hex[:6]}.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    assert not import_inventory(store, path, site=SITE).rejections
    run_match(store)
    if statuses:
        prevailing = {f["asset_id"]: f for f in find_findings(store, FindingQuery(site=SITE))}
        for asset_id, change in STATUSES.items():
            set_status(store, SITE, prevailing[asset_id]["id"], change, "j.doe", now=NOW)


def _responses(store: Store) -> dict[tuple[str, str, str], tuple[str, dict[str, Any]]]:
    """Every open finding's status and detail (who and when left out: they differ between two databases)."""
    with store.sessions() as session:
        rows = session.execute(
            select(t.Finding, t.Advisory.tracking_id)
            .join(t.Advisory, t.Advisory.id == t.Finding.advisory_id)
            .where(t.Finding.closed_at.is_(None))
        ).all()
    return {
        (f.asset_id, tracking, f.vulnerability_key): (
            f.response_status,
            {k: v for k, v in (f.response_detail or {}).items() if k not in ("actor", "at")},
        )
        for f, tracking in rows
    }


def _count(store: Store, model: Any, **where: Any) -> int:
    with store.sessions() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.scalar(query) or 0)


@contextmanager
def _fresh_copy(database_url: str, tmp_path: Path) -> Iterator[Store]:
    """A second, empty database of the same kind as the test's."""
    schema = None
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'copy.db'}"
    else:
        schema = f"vigil_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    copy = open_store(load_settings(url))
    try:
        yield copy
    finally:
        copy.close()
        if schema is not None:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _export(store: Store, fmt: str, advisory: str | None = None) -> bytes:
    request = VexExportRequest(SITE, fmt, advisory, publisher_namespace="https://hospital.example")
    return export_vex(store, request, "exporter", now=NOW).content


# --- the three formats are valid ----------------------------------------------------------------------------


def test_csaf_export_passes_schema_mandatory_and_vex_profile_tests(store: Store, tmp_path: Path) -> None:
    from csaf.csaf.v20._validator import validate

    _seed(store, tmp_path)
    doc = json.loads(_export(store, "csaf"))
    report = validate(doc, preset="basic")  # schema + every mandatory test (6.1.x), the VEX profile's 6.1.27 too
    ran = {result.id for result in report.results if not result.skipped}
    assert {"schema", "6.1.27", "6.1.33"} <= ran
    assert [(r.id, r.errors) for r in report.results if not r.passed and not r.skipped] == []
    assert check(doc, "2.0") == ()  # and the way vigil itself validates CSAF agrees

    document = doc["document"]
    assert (document["category"], document["csaf_version"], document["tracking"]["status"]) == (
        "csaf_vex",
        "2.0",
        "final",
    )
    assert document["publisher"] == {"category": "user", "name": SITE, "namespace": "https://hospital.example"}
    assert document["tracking"]["id"] == "VIGIL-VEX-St._20Elsewhere-20261128"
    [vulnerability] = doc["vulnerabilities"]  # one CVE; only prevailing findings (Philips' own advisory)
    assert vulnerability["cve"] == CVE
    status = vulnerability["product_status"]
    pid = {asset: product_id(SITE, asset) for asset in ("A1", "A3", "A4", "A5", "A6", "A7", "A8")}
    assert status == {
        "fixed": [pid["A6"]],
        "known_affected": sorted(pid[a] for a in ("A1", "A3", "A4", "A7")),
        "known_not_affected": [pid["A5"]],
        "under_investigation": [pid["A8"]],
    }
    assert vulnerability["flags"] == [{"label": "component_not_present", "product_ids": [pid["A5"]]}]
    own = {(r["category"], tuple(r["product_ids"])): r for r in vulnerability["remediations"]}
    assert ("mitigation", (pid["A1"],)) in own
    assert own[("vendor_fix", (pid["A3"],))]["date"] == "2026-12-15T00:00:00Z"
    assert "Head of Radiology" in own[("no_fix_planned", (pid["A4"],))]["details"]
    philips_fix = next(
        r for r in vulnerability["remediations"] if "FCO72200452" in r["details"] and len(r["product_ids"]) > 1
    )
    assert set(philips_fix["product_ids"]) == {pid[a] for a in ("A1", "A3", "A4", "A7")}  # the advisory's own
    [fd20] = [b for b in doc["product_tree"]["branches"][0]["branches"] if b["name"] == "Allura Xper FD20 workstation"]
    leaf = next(b["product"] for b in fd20["branches"] if b["product"]["product_id"] == pid["A1"])
    assert leaf["name"] == "Philips Allura Xper FD20 workstation R1.4.5 (asset A1)"
    assert leaf["product_identification_helper"] == {"model_numbers": ["4598 009 39471"], "serial_numbers": ["SN-0001"]}


def test_cyclonedx_and_openvex_exports_are_valid(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    text = _export(store, "cyclonedx").decode("utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    states = {v["affects"][0]["ref"]: v["analysis"] for v in bom["vulnerabilities"]}
    assert states[product_id(SITE, "A1")]["state"] == "exploitable"
    assert states[product_id(SITE, "A1")]["response"] == ["workaround_available"]
    assert {"state": "not_affected", "justification": "requires_dependency"}.items() <= states[
        product_id(SITE, "A5")
    ].items()
    assert states[product_id(SITE, "A6")]["state"] == "resolved"
    assert states[product_id(SITE, "A8")]["state"] == "in_triage"
    device = next(c for c in bom["components"] if c["bom-ref"] == product_id(SITE, "A1"))
    assert device["type"] == "device"
    assert {"name": "vigil:serial_number", "value": "SN-0001"} in device["properties"]

    doc = json.loads(_export(store, "openvex"))
    assert doc["@context"] == "https://openvex.dev/ns/v0.2.0"
    for field, kind in (("@id", str), ("author", str), ("timestamp", str), ("version", int), ("statements", list)):
        assert isinstance(doc[field], kind), field
    for statement in doc["statements"]:
        assert statement["vulnerability"]["name"] == CVE
        assert statement["status"] in ("not_affected", "affected", "fixed", "under_investigation")
        assert statement["products"] and all(p["@id"].startswith("urn:vigil:device:") for p in statement["products"])
        if statement["status"] == "not_affected":
            assert statement["justification"] == "component_not_present" and statement["impact_statement"]
        if statement["status"] == "affected":
            assert statement["action_statement"]
    assert len(doc["statements"]) == 7


# --- round trip ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csaf", "cyclonedx", "openvex"])
def test_round_trip_onto_a_fresh_copy(store: Store, database_url: str, tmp_path: Path, fmt: str) -> None:
    _seed(store, tmp_path)
    site_wide = _export(store, fmt)
    per_advisory = _export(store, fmt, advisory="ICSMA-21-019-01")  # the superseded findings too
    original = _responses(store)
    with _fresh_copy(database_url, tmp_path) as copy:
        _seed(copy, tmp_path, statuses=False)
        a1 = next(f for f in find_findings(copy, FindingQuery(site=SITE)) if f["asset_id"] == "A1")
        set_status(copy, SITE, a1["id"], StatusChange("under_investigation"), "k.smith", now=NOW)
        assert _responses(copy) != original
        report = import_vex(copy, site_wide, f"vex.{fmt}.json", SITE, "k.smith", now=NOW)
        assert report.problems == ()
        assert (report.statements, report.applied, report.unchanged) == (7, 6, 1)  # A7 was affected already
        # under_investigation reaches mitigated only through affected: the import takes both steps.
        history = [e["detail"] for e in show_finding(copy, a1["id"])["history"] if e["kind"] == "status"]
        assert [(e["to"], e["source"]) for e in history] == [
            ("under_investigation", "device"),
            ("affected", "vex"),
            ("mitigated", "vex"),
        ]
        second = import_vex(copy, per_advisory, f"icsma.{fmt}.json", SITE, "k.smith", now=NOW)
        assert second.problems == () and second.applied == 0
        assert _responses(copy) == original
        with copy.sessions() as session:
            sources = set(
                session.scalars(select(t.Finding.response_source).where(t.Finding.response_source != "initial"))
            )
        assert sources == {"vex"}

        # Idempotent: importing again changes nothing and writes no history, only the import's audit entry.
        events = _count(copy, t.FindingEvent)
        audits = _count(copy, t.AuditEntry, action="vex.import")
        again = import_vex(copy, site_wide, f"vex.{fmt}.json", SITE, "k.smith", now=NOW)
        assert (again.applied, again.unchanged, again.problems) == (0, 7, ())
        assert _count(copy, t.FindingEvent) == events
        assert _count(copy, t.AuditEntry, action="vex.import") == audits + 1
    assert _count(store, t.AuditEntry, action="vex.export") == 2


# --- bad input -------------------------------------------------------------------------------------------------


def test_unknown_products_and_vulnerabilities_are_reported_and_the_rest_applied(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    with _fresh_copy(database_url, tmp_path) as source:
        _seed(source, tmp_path)
        doc = json.loads(_export(source, "csaf"))
    store = open_store(load_settings(database_url))
    try:
        _seed(store, tmp_path, statuses=False)
    finally:
        store.close()
    # Another hospital's workstation, and a CVE nobody matched to A1.
    stranger = {"name": "Philips Allura X9", "product_id": "VIGIL-Elsewhere-X9"}
    stranger["product_identification_helper"] = {"serial_numbers": ["SN-9999"], "model_numbers": ["4598 009 39471"]}
    doc["product_tree"]["branches"][0]["branches"].append(
        {"category": "product_name", "name": "Allura X9", "product": stranger}
    )
    doc["vulnerabilities"][0]["product_status"]["known_affected"].append("VIGIL-Elsewhere-X9")
    a1 = product_id(SITE, "A1")
    doc["vulnerabilities"].append(
        {
            "cve": "CVE-2099-0001",
            "notes": [{"category": "description", "text": "Not in any advisory here."}],
            "product_status": {"known_affected": [a1]},
            "remediations": [{"category": "none_available", "details": "None.", "product_ids": [a1]}],
        }
    )
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(doc), encoding="utf-8")

    result = cli("vex", "import", str(path), "--site", SITE, "--by", "k.smith")
    assert result.code == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(
        f"{path}: /product_tree/branches/0/branches/2/product: unknown product 'VIGIL-Elsewhere-X9'"
    )
    assert lines[1].startswith(
        f"{path}: /vulnerabilities/1/product_status/known_affected/0: device A1 has no open finding"
    )
    assert "6 applied, 1 unchanged, 2 rejected" in result.stdout
    shown = json.loads(cli("findings", "--site", SITE, "--format", "json").stdout)
    assert {f["asset_id"] for f in shown} >= {"A1", "A8"}


def test_cli_export_contract_and_foreign_vex(cli: Cli, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.csv"
    inventory.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    assert cli("advisories", "import", "-q", str(CISA), str(PHILIPS)).code == 0
    assert cli("inventory", "import", "-q", "--site", SITE, str(inventory)).code == 0
    assert cli("match", "-q").code == 0
    for fmt in ("csaf", "cyclonedx", "openvex"):
        out = tmp_path / f"site.{fmt}.json"
        result = cli(
            "vex", "export", "--site", SITE, "--advisory", "PHILIPS-2021-01-14-IPMI", "--format", fmt, "--out", str(out)
        )
        assert result.code == 0, result.stderr
        assert "7 statements on 7 devices" in result.stderr
        assert json.loads(out.read_text(encoding="utf-8"))

    # A supplier's OpenVEX without vigil's marker: devices by serial + model number (12NC written another way).
    foreign = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://supplier.example/vex/1",
        "author": "Supplier",
        "timestamp": "2026-11-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": CVE},
                "products": [
                    {
                        "identifiers": {
                            "purl": "pkg:generic/philips/allura@1.4.0?model_number=459800939471&serial_number=SN-0006"
                        }
                    }
                ],
                "status": "fixed",
            },
            {
                "vulnerability": {"name": CVE},
                "products": [
                    {
                        "identifiers": {
                            "purl": "pkg:generic/philips/allura@1.4.1?model_number=4598-009-39481&serial_number=sn-0005"
                        }
                    }
                ],
                "status": "not_affected",
                "impact_statement": "We say so.",
            },
            {
                "vulnerability": {"name": CVE},
                "products": [{"@id": f"urn:vigil:device:{product_id(SITE, 'P1')}"}],
                "status": "under_investigation",
            },
            {
                "vulnerability": {"name": CVE},
                "products": [{"@id": f"urn:vigil:device:{product_id(SITE, 'P1')}"}],
                "status": "fixed",
            },
            {"vulnerability": {"name": CVE}, "products": [{"@id": "urn:other"}], "status": "maybe"},
        ],
    }
    path = tmp_path / "supplier.json"
    path.write_text(json.dumps(foreign), encoding="utf-8")
    result = cli("vex", "import", str(path), "--site", SITE, "--by", "k.smith", "--json")
    assert result.code == 1
    report = json.loads(result.stdout)
    assert (report["applied"], report["unchanged"]) == (1, 1)  # P1 is under investigation already
    problems = report["problems"]
    assert len(problems) == 3 and len(result.stderr.strip().splitlines()) == 3
    assert problems[0].startswith(f"{path}: /statements/4/status: 'maybe' is not an OpenVEX status")
    assert (
        "/statements/1/products/0: device A5, CVE-2020-27298" in problems[1] and "needs a justification" in problems[1]
    )
    assert "/statements/3/products/0" in problems[2] and "possible match (pending)" in problems[2]
    a6 = next(
        f for f in json.loads(cli("findings", "--site", SITE, "--format", "json").stdout) if f["asset_id"] == "A6"
    )
    shown = json.loads(cli("findings", "show", str(a6["id"]), "--format", "json").stdout)
    [event] = [e for e in shown["history"] if e["kind"] == "status"]
    assert event["detail"]["to"] == "fixed" and event["detail"]["source"] == "vex"
    assert event["detail"]["evidence"][0]["kind"] == "file" and event["detail"]["evidence"][0]["value"] == str(path)


def test_unreadable_files_and_bad_arguments(cli: Cli, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.csv"
    inventory.write_text("\n".join([HEADER, *ROWS[:1]]) + "\n", encoding="utf-8")
    assert cli("inventory", "import", "-q", "--site", SITE, str(inventory)).code == 0
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    openvex_doc = tmp_path / "openvex.json"
    openvex_doc.write_text(
        json.dumps({"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}), encoding="utf-8"
    )
    cases = {
        ("vex", "import", str(broken), "--site", SITE, "--by", "x"): (1, f"{broken}: not valid JSON"),
        ("vex", "import", str(PHILIPS), "--site", SITE, "--by", "x"): (
            1,
            "not a VEX document: category 'csaf_security_advisory'",
        ),
        ("vex", "import", str(inventory), "--site", SITE, "--by", "x"): (1, "not valid JSON"),
        ("vex", "import", str(openvex_doc), "--site", SITE, "--by", "x", "--format", "csaf"): (
            1,
            "--format csaf given, but the file is openvex",
        ),
        ("vex", "import", str(openvex_doc), "--site", SITE, "--by", "x"): (
            1,
            f"{openvex_doc}: /@id: required by OpenVEX",
        ),
        ("vex", "import", str(tmp_path / "missing.json"), "--site", SITE, "--by", "x"): (1, "cannot read"),
        ("vex", "import", str(broken), "--site", "Nowhere", "--by", "x"): (2, "no site named 'Nowhere'"),
        ("vex", "export", "--site", "Nowhere", "--format", "csaf", "--out", str(tmp_path / "o.json")): (
            2,
            "no site named 'Nowhere'",
        ),
        ("vex", "export", "--site", SITE, "--format", "csaf", "--out", str(tmp_path / "o.json")): (
            1,
            "has no open findings",
        ),
        ("vex", "export", "--site", SITE, "--format", "csaf", "--advisory", "NOPE", "--out", "o.json"): (
            2,
            "no advisory with tracking id 'NOPE'",
        ),
        ("vex", "export", "--site", SITE, "--format", "csaf", "--publisher-namespace", "hospital", "--out", "o.json"): (
            2,
            "not an http(s) URL",
        ),
    }
    for args, (code, message) in cases.items():
        result = cli(*args)
        lines = result.stderr.strip().splitlines()
        assert result.code == code and len(lines) == 1 and message in lines[0], (args, result.code, result.stderr)
    assert not (tmp_path / "o.json").exists()


# --- the model -------------------------------------------------------------------------------------------------


def test_product_ids_are_stable_and_invertible() -> None:
    for site, asset in [("St. Elsewhere", "A1"), ("Zürich Nord", "WS_0001/β"), ("-", "_5F"), ("a", "A 1")]:
        pid = product_id(site, asset)
        assert pid.startswith("VIGIL-") and all(c.isalnum() or c in "._-" for c in pid)
        assert asset_of_product_id(site, pid) == asset
        assert asset_of_product_id(site + "x", pid) is None
        assert unescape_part(escape_part(asset)) == asset
    assert product_id("St. Elsewhere", "A1") == "VIGIL-St._20Elsewhere-A1"
    assert unescape_part("A_2") is None and unescape_part("A 1") is None


def _document() -> VexDocument:
    """Every status on its own device, a CVE-less vulnerability, a device with no maker, model or serial, and a
    release written like a range."""
    site = "Zürich Nord"
    cve = VexVulnerability(CVE, CVE, "PHILIPS-2021-01-14-IPMI", "https://www.philips.com", "IPMI command injection")
    keyed = VexVulnerability(None, "Philips:PSA-7", "PSA-7", "https://www.philips.com")
    fix = VexRemediation("vendor_fix", "Apply FCO72200452.", "https://www.philips.com/psa", NOW)
    changes = [
        StatusChange("under_investigation"),
        StatusChange("affected", comment="as the advisory says"),
        *STATUSES.values(),
    ]
    statements = []
    for index, change in enumerate(changes):
        device = VexDevice(
            product_id(site, f"D{index}"),
            f"D{index}",
            "Philips" if index else None,
            "Allura" if index else None,
            "5.x" if index == 2 else "1.4.5",
            f"SN-{index}" if index else None,
            "4598 009 39471",
        )
        statements.append(VexStatement(device, cve, change, (fix,), NOW, NOW))
    statements.append(VexStatement(statements[1].device, keyed, StatusChange("affected"), (), NOW, NOW))
    publisher = VexPublisher(site, "https://hospital.example")
    return VexDocument(site, None, publisher, "VIGIL-VEX-Z-20261128", NOW, "0.1.0", tuple(statements))


def _facts(statements: tuple[VexStatement, ...]) -> list[tuple[Any, ...]]:
    return sorted(
        (s.device.product_id, s.vulnerability.label, s.vulnerability.advisory, json.dumps(s.change.detail()), s.status)
        for s in statements
    )


def test_every_format_reads_back_what_it_wrote() -> None:
    from csaf.csaf.v20._validator import validate

    document = _document()
    csaf_doc = csaf_vex(document)
    report = validate(csaf_doc, preset="basic")
    assert [(r.id, r.errors) for r in report.results if not r.passed and not r.skipped] == []
    written = {
        "csaf": json.dumps(csaf_doc).encode(),
        "cyclonedx": cyclonedx_vex(document).encode(),
        "openvex": json.dumps(openvex(document)).encode(),
    }
    for fmt, raw in written.items():
        read = read_vex(raw, f"out.{fmt}")
        assert (read.format, read.problems) == (fmt, ())
        assert _facts(read.statements) == _facts(document.statements), fmt
        serials = {s.device.product_id: (s.device.serial_number, s.device.model_number) for s in read.statements}
        assert serials[product_id("Zürich Nord", "D3")] == ("SN-3", "4598 009 39471")

    # Someone edits the status after vigil wrote it: the document's word wins over the stale marker.
    status = csaf_doc["vulnerabilities"][0]["product_status"]
    moved = status["known_affected"].pop(0)
    status["fixed"].append(moved)
    read = read_vex(json.dumps(csaf_doc).encode(), "edited.json")
    [edited] = [s for s in read.statements if s.device.product_id == moved and s.vulnerability.cve == CVE]
    assert edited.status == "fixed" and edited.change.evidence[0].kind == "file"
    assert edited.change.evidence[0].value == "edited.json" and edited.vulnerability.advisory is None
