"""KEV and EPSS files: both of CISA's KEV formats and FIRST's EPSS CSV (plain and gzip), imports on both
databases with one audit entry each, and bad input: one line naming file, row and field; good rows still land."""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import TEST_DATA, Cli
from vigil.config import load_settings
from vigil.services.reference_import import import_epss, import_kev
from vigil.services.store import Store, open_store
from vigil.sources.epss import read_epss
from vigil.sources.kev import read_kev
from vigil.sources.reference_files import ReferenceFileError
from vigil.store import schema as t
from vigil.store.audit import verify
from vigil.store.reference_scores import epss_scores, kev_entries

KEV_JSON = TEST_DATA / "kev" / "known_exploited_vulnerabilities.json"
KEV_CSV = TEST_DATA / "kev" / "known_exploited_vulnerabilities.csv"
EPSS_CSV = TEST_DATA / "epss" / "epss_scores-2026-11-20.csv"
EPSS_GZ = TEST_DATA / "epss" / "epss_scores-2026-11-20.csv.gz"
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
EPSS_HEADER = "#model_version:v2025.03.14,score_date:{day}T12:55:00Z\ncve,epss,percentile\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- reading ---------------------------------------------------------------------------------------------------


def test_kev_json_and_csv_export_read_the_same_entries() -> None:
    from_json, from_csv = read_kev(KEV_JSON), read_kev(KEV_CSV)
    assert (from_json.format, from_json.version, from_json.label) == ("json", "2026.11.20", "CISA KEV 2026.11.20")
    assert (from_csv.format, from_csv.version, from_csv.label) == ("csv", None, "CISA KEV (CSV export)")
    assert from_json.entries == from_csv.entries
    log4shell = from_json.entries[0]
    assert (log4shell.cve, log4shell.date_added, log4shell.due_date, log4shell.known_ransomware) == (
        "CVE-2021-44228",
        "2021-12-10",
        "2021-12-24",
        "Known",
    )
    assert from_json.rejected == from_csv.rejected == ()


def test_kev_gzip_is_read_by_content(tmp_path: Path) -> None:
    packed = tmp_path / "kev.json.gz"
    packed.write_bytes(gzip.compress(KEV_JSON.read_bytes()))
    assert read_kev(packed).entries == read_kev(KEV_JSON).entries


def test_epss_comment_line_plain_and_gzip() -> None:
    plain, packed = read_epss(EPSS_CSV), read_epss(EPSS_GZ)
    assert (plain.model_version, plain.score_date) == ("v2025.03.14", "2026-11-20")
    assert plain.label == "FIRST EPSS v2025.03.14 2026-11-20"
    assert plain.scores == packed.scores and len(plain.scores) == 5
    ghostcat = next(s for s in plain.scores if s.cve == "CVE-2020-1938")
    assert (ghostcat.epss, ghostcat.percentile) == (0.94434, 0.9996)


def test_epss_without_comment_line(tmp_path: Path) -> None:
    scores = read_epss(_write(tmp_path / "e.csv", "cve,epss,percentile\ncve-2021-44228,0.9,0.99\n"))
    assert (scores.model_version, scores.score_date, scores.label) == (None, None, "FIRST EPSS")
    assert [s.cve for s in scores.scores] == ["CVE-2021-44228"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('{"title": "x"}', "no `vulnerabilities` list"),
        ("vendorProject,product\nApache,Tomcat\n", "no cveID column"),
        ("", "no cveID column"),
    ],
)
def test_kev_unreadable_file_is_refused(tmp_path: Path, content: str, reason: str) -> None:
    with pytest.raises(ReferenceFileError, match=reason):
        read_kev(_write(tmp_path / "kev.txt", content))


def test_kev_bad_rows_are_rejected_alone(tmp_path: Path) -> None:
    rows = [
        "cveID,vendorProject,product,dateAdded,dueDate",
        "CVE-2021-44228,Apache,Log4j2,2021-12-10,2021-12-24",
        "CVE-21-1,Acme,Widget,2021-12-10,2021-12-24",
        ",Acme,Widget,2021-12-10,2021-12-24",
        "CVE-2020-1938,Apache,Tomcat,03/03/2022,2022-03-17",
        "CVE-2021-44228,Apache,Log4j2,2021-12-10,2021-12-24",
    ]
    catalog = read_kev(_write(tmp_path / "kev.csv", "\n".join(rows) + "\n"))
    assert [e.cve for e in catalog.entries] == ["CVE-2021-44228"]
    assert [r.line("kev.csv") for r in catalog.rejected] == [
        "kev.csv: row 3: cveID: 'CVE-21-1' is not a CVE id (CVE-YYYY-NNNN)",
        "kev.csv: row 4: cveID: missing",
        "kev.csv: row 5: dateAdded: '03/03/2022' is not a date (YYYY-MM-DD)",
        "kev.csv: row 6: cveID: CVE-2021-44228 already given in row 2",
    ]


def test_kev_json_bad_entries(tmp_path: Path) -> None:
    text = '{"vulnerabilities": [{"cveID": "CVE-2021-44228"}, "oops", {"cveID": "CVE-2020-1938", "product": 7}]}'
    catalog = read_kev(_write(tmp_path / "kev.json", text))
    assert [e.cve for e in catalog.entries] == ["CVE-2021-44228"]
    assert [(r.row, r.field) for r in catalog.rejected] == [(2, "entry"), (3, "product")]


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        ("CVE-2021-44228,abc,0.5", "epss", "'abc' is not a number"),
        ("CVE-2021-44228,1.5,0.5", "epss", "1.5 is not a probability between 0 and 1"),
        ("CVE-2021-44228,0.5,nan", "percentile", "nan is not a probability between 0 and 1"),
        ("CVE-2021-44228,0.5,", "percentile", "missing"),
        ("NOT-A-CVE,0.5,0.5", "cve", "'NOT-A-CVE' is not a CVE id (CVE-YYYY-NNNN)"),
    ],
)
def test_epss_bad_row(tmp_path: Path, line: str, field: str, reason: str) -> None:
    text = EPSS_HEADER.format(day="2026-11-20") + "CVE-2020-1938,0.9,0.99\n" + line + "\n"
    scores = read_epss(_write(tmp_path / "e.csv", text))
    assert [s.cve for s in scores.scores] == ["CVE-2020-1938"]
    [rejected] = scores.rejected
    assert (rejected.row, rejected.field, rejected.reason) == (4, field, reason)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"cve,score\nCVE-2021-44228,0.5\n", "no epss, percentile column"),
        (b"\xff\xfe not utf-8", "not UTF-8"),
        # mtime=0: a parameter's id is its value, and every xdist worker must collect the same ids.
        (gzip.compress(b"cve,epss,percentile\n" * 100, mtime=0)[:-12], "gzip"),
    ],
    ids=["no-epss-column", "not-utf8", "truncated-gzip"],
)
def test_epss_unreadable_file_is_refused(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "e.csv.gz"
    path.write_bytes(data)
    with pytest.raises(ReferenceFileError, match=reason):
        read_epss(path)


# --- importing, both databases -------------------------------------------------------------------------------


def _audit(store: Store) -> list[t.AuditEntry]:
    with store.sessions() as session:
        return list(session.scalars(select(t.AuditEntry).order_by(t.AuditEntry.seq)))


def test_kev_import_upserts_with_one_audit_entry(store: Store) -> None:
    report = import_kev(store, KEV_JSON, "j.doe", NOW)
    assert (report.imported, report.rejected) == (3, ())
    assert report.summary.startswith("kev: 3 imported from ") and "(CISA KEV 2026.11.20)" in report.summary
    again = import_kev(store, KEV_CSV, "j.doe", NOW)
    assert again.imported == 3
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(t.KevEntry)) == 3
        entry = kev_entries(session, ["cve-2020-1938"])["CVE-2020-1938"]
        assert entry.source == "CISA KEV (CSV export) (known_exploited_vulnerabilities.csv)"
        assert (entry.date_added, entry.vendor_project) == ("2022-03-03", "Apache")
        assert verify(session).intact
    entries = _audit(store)
    assert [(e.site_id, e.action, e.actor) for e in entries] == [(0, "kev.import", "j.doe")] * 2
    assert entries[0].detail["imported"] == 3 and entries[0].detail["catalog_version"] == "2026.11.20"
    assert entries[0].subject == "CISA KEV 2026.11.20 (known_exploited_vulnerabilities.json)"


def test_epss_import_never_goes_back_to_older_scores(store: Store, tmp_path: Path) -> None:
    assert import_epss(store, EPSS_GZ, "j.doe", NOW).imported == 5
    older = _write(
        tmp_path / "old.csv", EPSS_HEADER.format(day="2026-10-01") + "CVE-2020-1938,0.1,0.2\nCVE-2099-0001,0.3,0.4\n"
    )
    assert import_epss(store, older, "j.doe", NOW).imported == 2
    with store.sessions() as session:
        scores = epss_scores(session, ["CVE-2020-1938", "CVE-2099-0001"])
    assert (scores["CVE-2020-1938"].epss, scores["CVE-2020-1938"].score_date) == (0.94434, "2026-11-20")
    assert (scores["CVE-2099-0001"].epss, scores["CVE-2099-0001"].score_date) == (0.3, "2026-10-01")
    assert [e.action for e in _audit(store)] == ["epss.import", "epss.import"]


def test_unreadable_file_changes_nothing(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ReferenceFileError):
        import_kev(store, _write(tmp_path / "kev.json", "{"), "j.doe", NOW)
    assert _audit(store) == []


# --- the CLI, both databases ---------------------------------------------------------------------------------


def _counts(database_url: str) -> tuple[int, int]:
    store = open_store(load_settings(database_url))
    try:
        with store.sessions() as session:
            kev = session.scalar(select(func.count()).select_from(t.KevEntry)) or 0
            epss = session.scalar(select(func.count()).select_from(t.EpssScore)) or 0
    finally:
        store.close()
    return kev, epss


def test_cli_imports_and_bad_input(cli: Cli, database_url: str, tmp_path: Path) -> None:
    good = cli("kev", "import", str(KEV_JSON), "--by", "j.doe")
    assert good.code == 0, good.stderr
    assert "kev: 3 imported" in good.stdout and good.stderr == ""

    bad_kev = tmp_path / "kev.json"
    shutil.copy(KEV_JSON, bad_kev)
    bad_kev.write_text(bad_kev.read_text().replace('"CVE-2021-27104"', '"CVE-2021-27"'), encoding="utf-8")
    result = cli("kev", "import", str(bad_kev))
    assert result.code == 1
    assert result.stderr.strip() == f"rejected: {bad_kev}: row 3: cveID: 'CVE-2021-27' is not a CVE id (CVE-YYYY-NNNN)"
    assert "kev: 2 imported" in result.stdout and "1 rejected" in result.stdout

    text = EPSS_HEADER.format(day="2026-11-21") + "CVE-2020-1938,0.95,0.9997\nCVE-2021-44228,high,0.9\n"
    result = cli("epss", "import", str(_write(tmp_path / "epss.csv", text)))
    assert result.code == 1
    assert result.stderr.strip().endswith("epss.csv: row 4: epss: 'high' is not a number")
    assert _counts(database_url) == (3, 1)

    for args in (["kev", "import", str(_write(tmp_path / "x.json", "[1, 2"))], ["epss", "import", str(bad_kev)]):
        refused = cli(*args)
        assert refused.code == 1 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert refused.stderr.startswith(f"error: {args[2]}: ")
    missing = cli("epss", "import", str(tmp_path / "absent.csv"))
    assert missing.code == 2 and "no such file" in missing.stderr
    assert _counts(database_url) == (3, 1)
