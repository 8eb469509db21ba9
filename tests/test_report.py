"""`vigil report` end to end: the seed scenario (CISA's ICSMA-21-019-01, Philips' own advisory, six devices),
matched, with statuses set through the response service, reported as HTML, CSV and XLSX on both databases and
as PDF once (rendered to PNG with pdftoppm, read back with pdftotext)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select, update

from conftest import DEMO_ADVISORIES, ROOT, Cli
from vigil.config import load_settings
from vigil.outputs.report_pdf import TEMPLATES, LocalOnlyFetcher
from vigil.response.states import Evidence, StatusChange
from vigil.services.response import set_status
from vigil.services.store import open_store
from vigil.store import schema as t

SITE = "St. Elsewhere"
PHILIPS = ROOT / "demo" / "vendor-advisories" / "philips-2021-01-14-interventional-ipmi.json"
PHILIPS_ID = "PHILIPS-2021-01-14-IPMI"
CISA_ID = "ICSMA-21-019-01"
CVE = "CVE-2020-27298"
# Four of the advisory's Haswell workstations (by 12NC) running listed releases, a Dell running WorkSpot (not
# affected by Philips' account) and a workstation without a 12NC (a possible match of CISA's copy only).
INVENTORY = [
    "asset_id,manufacturer,model,model_number,software_vendor,software_name,software_version",
    "A1,Philips,Allura Xper FD20 workstation,4598 009 39471,Philips,Interventional Workspot,R1.4.5",
    "A3,Philips,Allura Xper FD10 workstation,4598 009 39481,Philips,Interventional Workspot,1.4.3",
    "A4,Philips,Azurion workstation,4598 009 70861,Philips,ViewForum,6.3V1L10",
    "A5,Philips,Azurion workstation,4598 009 98531,Philips,Interventional Workspot,1.3.2",
    "A2,Dell,OptiPlex 7050,,Philips,Interventional Workspot,1.4.5",
    "P1,Philips,Allura workstation,,Philips,ViewForum,",
]
# Every outcome due 30 days after the finding opened: with findings opened on 2024-01-02, everything still open
# on 2024-06-01 is 121 days overdue, whatever SSVC decides for this CVE.
POLICY = "due_days:\n  immediate: 30\n  out_of_cycle: 30\n  scheduled: 30\n  defer: 30\n"
OPENED = datetime(2024, 1, 2, 8, 0, tzinfo=UTC)
AS_OF = "2024-06-01"
STATED_AT = datetime(2024, 5, 30, 9, 30, tzinfo=UTC)
OWNER = "Dr. Jane Roe, CMIO"
HOSTILE_TITLE = '<script>alert("title")</script> Philips workstations'
HOSTILE_COMMENT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil.invalid","x")'


def _import(cli: Cli, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.csv"
    inventory.write_text("\n".join(INVENTORY) + "\n", encoding="utf-8")
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    assert cli("advisories", "import", "-q", str(DEMO_ADVISORIES / "icsma-21-019-01.json"), str(PHILIPS)).code == 0
    assert cli("inventory", "import", "-q", "--site", SITE, str(inventory)).code == 0


def _seed(cli: Cli, tmp_path: Path) -> None:
    """Import, match, then: A1 risk_accepted (ends 2024-06-21), A3 mitigated, A4 remediation_scheduled, A5
    affected; Philips' title made hostile (advisory text is untrusted); findings opened on 2024-01-02."""
    _import(cli, tmp_path)
    assert cli("match", "-q").code == 0
    store = open_store(load_settings(cli.database_url))
    try:
        with store.sessions() as session, session.begin():
            # Test data: a fixed opening day makes due dates, and so the overdue lists, reproducible.
            session.execute(update(t.Finding).values(opened_at=OPENED))
            advisory = select(t.Advisory.id).where(t.Advisory.tracking_id == PHILIPS_ID).scalar_subquery()
            session.execute(
                update(t.AdvisoryRevision).where(t.AdvisoryRevision.advisory_id == advisory).values(title=HOSTILE_TITLE)
            )
            query = (
                select(t.Finding.asset_id, t.Finding.id)
                .join(t.Advisory, t.Advisory.id == t.Finding.advisory_id)
                .where(t.Advisory.tracking_id == PHILIPS_ID, t.Finding.prevailing.is_(True))
            )
            ids = {asset: finding for asset, finding in session.execute(query)}
        assert sorted(ids) == ["A1", "A3", "A4", "A5"]
        accept = StatusChange(
            "risk_accepted",
            owner=OWNER,
            reason="isolated VLAN until replacement",
            expires_at=datetime(2024, 6, 21, tzinfo=UTC),
            comment=HOSTILE_COMMENT,
        )
        mitigate = StatusChange(
            "mitigated",
            evidence=(Evidence("text", "IPMI password changed"), Evidence("file", "/srv/ev/a3.pdf", "ab" * 32)),
            comment=FORMULA,
        )
        schedule = StatusChange(
            "remediation_scheduled", fco_number="FCO72200452", planned_date=date(2024, 7, 15), vendor_contact="Philips"
        )
        for asset, change in (("A1", accept), ("A3", mitigate), ("A4", schedule)):
            set_status(store, SITE, ids[asset], change, "j.doe", now=STATED_AT)
    finally:
        store.close()


def _report(cli: Cli, *args: str) -> str:
    policy = str(cli.cwd / "policy.yaml")
    result = cli("report", "--site", SITE, "--as-of", AS_OF, "--policy", policy, "--by", "auditor", *args)
    assert result.code == 0, result.stderr
    return result.stdout


class _Tables(HTMLParser):
    """Every table of an HTML page as rows of whitespace-normalised cell text (entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("br", "div", "li") and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(html: str) -> list[list[dict[str, str]]]:
    """Every table as a list of rows keyed by the header's cells."""
    parser = _Tables()
    parser.feed(html)
    return [[dict(zip(header, row, strict=True)) for row in body] for header, *body in parser.tables]


def _table(tables: list[list[dict[str, str]]], *columns: str) -> list[dict[str, str]]:
    """The one table (with at least one row) that has all these columns."""
    [found] = [rows for rows in tables if rows and all(column in rows[0] for column in columns)]
    return found


def test_html_report_counts_and_escapes(cli: Cli, tmp_path: Path) -> None:
    _seed(cli, tmp_path)
    html = _report(cli)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;script&gt;alert(&#34;title&#34;)" in html
    tables = _tables(html)

    totals = {
        row["response status"]: (row["findings"], row["devices"])
        for row in _table(tables, "response status", "findings")
    }
    assert totals == {
        "under_investigation": ("0", "0"),
        "affected": ("1", "1"),
        "not_affected": ("0", "0"),
        "mitigated": ("1", "1"),
        "remediation_scheduled": ("1", "1"),
        "fixed": ("0", "0"),
        "risk_accepted": ("1", "1"),
    }
    advisories = {row["advisory"].split()[0]: row for row in _table(tables, "advisory", "CVEs")}
    philips, cisa = advisories[PHILIPS_ID], advisories[CISA_ID]
    assert HOSTILE_TITLE in philips["advisory"] and philips["CVEs"] == CVE
    counts = list(philips)[2:]  # devices, the seven statuses (most urgent first), open actions, superseded
    assert counts[:3] == ["devices", "affected", "mitigated"] and counts[-2:] == ["open actions", "superseded"]
    # Two remediations (mitigation, vendor_fix) for each of the four devices that need action.
    assert [philips[c] for c in counts] == ["4", "1", "1", "1", "0", "1", "0", "0", "8", "0"]
    # CISA's copy: Philips' own advisory prevails for every device it names, so none is counted under it.
    assert [cisa[c] for c in counts] == ["0"] * 9 + ["6"]

    [expiring] = _table(tables, "device", "owner")
    assert (expiring["device"], expiring["owner"], expiring["days left"]) == ("A1", OWNER, "20")
    evidence = {row["device"]: row for row in _table(tables, "device", "statement")}
    assert sorted(evidence) == ["A1", "A3", "A4"]
    assert HOSTILE_COMMENT in evidence["A1"]["statement"]
    assert "FCO72200452" in evidence["A4"]["statement"] and "2024-07-15" in evidence["A4"]["statement"]
    assert "sha256 " + "ab" * 32 in evidence["A3"]["evidence"]
    assert "by j.doe" in evidence["A3"]["response status"]

    overdue = _table(tables, "device", "outcome")
    assert [(row["device"], row["due"], row["days overdue"]) for row in overdue] == [
        ("A3", "2024-02-01", "121"),
        ("A4", "2024-02-01", "121"),
        ("A5", "2024-02-01", "121"),
    ]  # A1's risk acceptance answers its due date until it ends
    actions = _table(tables, "device", "assignee")
    assert sorted(row["device"] for row in actions) == ["A3", "A3", "A4", "A4", "A5", "A5"]
    assert {row["action"].split()[-1] for row in actions} == {"mitigation", "vendor_fix"}

    assert _report(cli) == html  # same database, same --as-of: the same report
    store = open_store(load_settings(cli.database_url))
    try:
        with store.sessions() as session:
            entries = session.execute(
                select(t.AuditEntry.actor, t.AuditEntry.subject, t.AuditEntry.detail).where(
                    t.AuditEntry.action == "report.generate"
                )
            ).all()
    finally:
        store.close()
    assert len(entries) == 2  # one entry per generation
    actor, subject, detail = entries[0]
    assert (actor, subject) == ("auditor", "html report")
    assert (detail["format"], detail["as_of"], detail["overdue"], detail["expiring"]) == ("html", AS_OF, 3, 1)


def _csv_blocks(text: str) -> dict[str, list[list[str]]]:
    """`[name]` line, header, rows, empty line: each section's header and rows."""
    blocks: dict[str, list[list[str]]] = {}
    block: list[list[str]] = []
    for row in [*csv.reader(io.StringIO(text)), []]:
        if row:
            block.append(row)
            continue
        (name,), *rows = block
        blocks[name.strip("[]")] = rows
        block = []
    return blocks


def _csv_sections(text: str) -> dict[str, list[dict[str, str]]]:
    """Each section's rows keyed by its header."""
    return {
        name: [dict(zip(header, values, strict=True)) for values in rows]
        for name, (header, *rows) in _csv_blocks(text).items()
    }


def test_csv_and_xlsx_report(cli: Cli, tmp_path: Path) -> None:
    _seed(cli, tmp_path)
    text = _report(cli, "--format", "csv")
    assert _report(cli, "--format", "csv") == text  # reproducible with --as-of
    sections, blocks = _csv_sections(text), _csv_blocks(text)
    assert list(sections) == [
        "report",
        "totals",
        "advisories",
        "overdue",
        "overdue_actions",
        "expiring_risk_acceptances",
        "evidence",
    ]
    assert {row["field"]: row["value"] for row in sections["report"]}["site"] == SITE
    advisories = {row["tracking_id"]: row for row in sections["advisories"]}
    philips = advisories[PHILIPS_ID]
    assert philips["title"] == HOSTILE_TITLE and philips["cves"] == CVE
    assert [philips[key] for key in ("devices", "affected", "mitigated", "remediation_scheduled", "risk_accepted")] == [
        "4",
        "1",
        "1",
        "1",
        "1",
    ]
    assert (philips["open_actions"], advisories[CISA_ID]["superseded"]) == ("8", "6")
    assert [(row["asset_id"], row["days_overdue"]) for row in sections["overdue"]] == [
        ("A3", "121"),
        ("A4", "121"),
        ("A5", "121"),
    ]
    assert len(sections["overdue_actions"]) == 6
    [expiring] = sections["expiring_risk_acceptances"]
    assert (expiring["asset_id"], expiring["owner"], expiring["days_left"]) == ("A1", OWNER, "20")
    evidence = {row["asset_id"]: row for row in sections["evidence"]}
    assert evidence["A3"]["comment"] == "'" + FORMULA  # neutralised: shown as text, never evaluated
    assert evidence["A4"]["fco_number"] == "FCO72200452" and evidence["A4"]["planned_date"] == "2024-07-15"

    out = tmp_path / "report.xlsx"
    assert "written to" in _report(cli, "--format", "xlsx", "--out", str(out))
    book = load_workbook(out)
    assert book.sheetnames == list(sections)
    for sheet in book.worksheets:
        assert [cell.value for cell in sheet[1]] == blocks[sheet.title][0]
        assert sheet.max_row == len(blocks[sheet.title])  # header + the same rows as the CSV
        for row in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in row), sheet.title  # no formula anywhere
    sheet = book["evidence"]
    header = [cell.value for cell in sheet[1]]
    rows = {row[1].value: row for row in sheet.iter_rows(min_row=2)}
    assert rows["A3"][header.index("comment")].value == "'" + FORMULA
    assert sorted(rows) == ["A1", "A3", "A4"]
    overdue = book["overdue"]
    assert [(row[1].value, row[7].value) for row in overdue.iter_rows(min_row=2)] == [
        ("A3", 121),
        ("A4", 121),
        ("A5", 121),
    ]


def test_advisory_filter_and_window(cli: Cli, tmp_path: Path) -> None:
    _seed(cli, tmp_path)
    only_cisa = _csv_sections(_report(cli, "--format", "csv", "--advisory", CISA_ID.lower()))
    assert [row["tracking_id"] for row in only_cisa["advisories"]] == [CISA_ID]
    assert {row["response_status"]: row["findings"] for row in only_cisa["totals"]} == dict.fromkeys(
        ("under_investigation", "affected", "not_affected", "mitigated", "remediation_scheduled", "fixed"), "0"
    ) | {"risk_accepted": "0"}
    assert only_cisa["evidence"] == [] and only_cisa["overdue"] == [] and only_cisa["expiring_risk_acceptances"] == []

    only_philips = _csv_sections(_report(cli, "--format", "csv", "--advisory", PHILIPS_ID))
    assert [row["tracking_id"] for row in only_philips["advisories"]] == [PHILIPS_ID]
    assert len(only_philips["evidence"]) == 3 and len(only_philips["overdue"]) == 3

    # The acceptance ends in 20 days: outside a 10-day window; lapsed (not yet reopened) 4 days after it ends.
    assert _csv_sections(_report(cli, "--format", "csv", "--expiring-within", "10"))["expiring_risk_acceptances"] == []
    later = cli("report", "--site", SITE, "--format", "csv", "--as-of", "2024-06-25")
    assert later.code == 0, later.stderr
    [lapsed] = _csv_sections(later.stdout)["expiring_risk_acceptances"]
    assert lapsed["days_left"] == "-4"


def test_bad_arguments_get_one_line_and_exit_2(cli: Cli, tmp_path: Path) -> None:
    _import(cli, tmp_path)
    cases = {
        ("--site", "Nowhere"): "no site named 'Nowhere'",
        ("--site", SITE, "--advisory", "NOPE-1"): "no advisory with tracking id 'NOPE-1'",
        ("--site", SITE, "--format", "pdf"): "--format pdf needs --out FILE",
        ("--site", SITE, "--format", "xlsx"): "--format xlsx needs --out FILE",
        ("--site", SITE, "--as-of", "June 1st"): "--as-of 'June 1st': expected a date as YYYY-MM-DD",
        ("--site", SITE, "--out", str(tmp_path / "missing" / "r.html")): "does not exist",
        ("--site", SITE, "--policy", str(tmp_path / "nothing.yaml")): "nothing.yaml",
    }
    for args, message in cases.items():
        result = cli("report", *args)
        assert result.code == 2, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, result.stderr)
        assert result.stdout == ""
    assert cli("report", "--site", SITE, "--format", "docx").code == 2  # Typer's own usage error
    assert not (tmp_path / "missing").exists()


def _tool(name: str) -> str:
    """The poppler tool, or a skip outside CI (a failure in CI, where .ci/run installs poppler-utils)."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found: install poppler-utils to check the PDF report's pages"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _ink(page: Path, box: tuple[float, float, float, float] = (0, 0, 1, 1)) -> float:
    """Share of non-white pixels of a page PNG within `box` (fractions of width and height)."""
    with Image.open(page) as image:
        grey = image.convert("L")
        width, height = grey.size
        left, top, right, bottom = box
        area = grey.crop((int(left * width), int(top * height), int(right * width), int(bottom * height)))
        histogram = area.histogram()
    return 1 - sum(histogram[240:]) / sum(histogram)


def test_pdf_report_pages(tmp_path: Path) -> None:
    pdftoppm, pdftotext = _tool("pdftoppm"), _tool("pdftotext")
    cli = Cli(f"sqlite:///{tmp_path / 'vigil.db'}", tmp_path)  # rendering once is enough: same model as HTML
    _seed(cli, tmp_path)
    out = tmp_path / "report.pdf"
    _report(cli, "--format", "pdf", "--out", str(out))
    assert out.read_bytes().startswith(b"%PDF-")

    subprocess.run([pdftoppm, "-png", "-r", "60", str(out), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 3  # A4 landscape: totals and advisories; overdue items; acceptances and evidence
    for number, page in enumerate(pages, start=1):
        with Image.open(page) as image:
            assert image.width > image.height  # landscape
        assert _ink(page) > 0.01, page.name  # not blank
        assert _ink(page, (0, 0, 1, 0.07)) > 0.001, page.name  # the running header (site, date)
        text = subprocess.run(
            [pdftotext, "-layout", "-f", str(number), "-l", str(number), str(out), "-"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        assert SITE in text and f"as of {AS_OF}" in text and f"page {number} of {len(pages)}" in text

    text = subprocess.run([pdftotext, str(out), "-"], check=True, capture_output=True, text=True, timeout=60).stdout
    for expected in (SITE, CVE, PHILIPS_ID, "A1", "A3", "A4", "A5", OWNER, "FCO72200452", HOSTILE_COMMENT):
        assert expected in text, expected


def test_pdf_fetcher_stays_local() -> None:
    fetcher = LocalOnlyFetcher()
    for url in ("http://127.0.0.1:9/logo.png", "https://example.invalid/font.woff", "ftp://127.0.0.1/x"):
        with pytest.raises(ValueError, match="no network access"):
            fetcher.fetch(url)
    with pytest.raises(ValueError, match="only files of the report templates"):
        fetcher.fetch("file:///etc/passwd")
    with pytest.raises(ValueError, match="only files of the report templates"):
        fetcher.fetch((TEMPLATES / ".." / "report_pdf.py").as_uri())
    response = fetcher.fetch((TEMPLATES / "report.css").as_uri())
    try:
        assert b"@page" in response.read()
    finally:
        response.close()
    assert fetcher.fetch("data:text/plain,ok").read() == b"ok"
