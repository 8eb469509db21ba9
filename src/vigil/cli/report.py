"""`vigil report`: a site's response report as HTML, PDF, CSV or XLSX."""

from __future__ import annotations

import secrets
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import EXIT_USAGE, DbOption, fail, opened_store, out
from vigil.response.policy import ENV_VAR, PolicyError, load_policy
from vigil.services.audit import system_actor
from vigil.services.reports import DEFAULT_EXPIRING_WITHIN, ReportError, ReportQuery, generate_report


class ReportFormat(StrEnum):
    html = "html"
    pdf = "pdf"
    csv = "csv"
    xlsx = "xlsx"


_BINARY = (ReportFormat.pdf, ReportFormat.xlsx)


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--as-of {value!r}: expected a date as YYYY-MM-DD")


def _check_out(out_path: Path | None, fmt: ReportFormat) -> None:
    """Refuse before generating (and auditing) a report that could not be written."""
    if out_path is None:
        if fmt in _BINARY:
            fail(f"--format {fmt.value} needs --out FILE (binary output is not written to a terminal or pipe)")
        return
    if out_path.is_dir():
        fail(f"--out {out_path}: is a directory")
    if not out_path.parent.is_dir():
        fail(f"--out {out_path}: directory {out_path.parent} does not exist")


def _write(out_path: Path, content: bytes) -> None:
    """Write next to the target, then rename: a reader never sees half a report, a failure leaves no stub."""
    temporary = out_path.parent / f".{out_path.name}.{secrets.token_hex(4)}.part"
    try:
        with temporary.open("xb") as stream:  # mode from the umask, like any file the user creates
            stream.write(content)
        temporary.replace(out_path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        fail(f"--out {out_path}: {error.strerror or error}", EXIT_USAGE)


def report(
    site: Annotated[str, typer.Option("--site", help="Site name.")],
    fmt: Annotated[ReportFormat, typer.Option("--format", help="html, pdf, csv or xlsx.")] = ReportFormat.html,
    advisory: Annotated[str | None, typer.Option("--advisory", help="Only this advisory (tracking id).")] = None,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="Write here (required for pdf and xlsx; html and csv default to stdout)."),
    ] = None,
    expiring_within: Annotated[
        int, typer.Option("--expiring-within", min=0, help="List risk acceptances ending within this many days.")
    ] = DEFAULT_EXPIRING_WITHIN,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Reference date YYYY-MM-DD (00:00 UTC) for overdue and expiry; default now."),
    ] = None,
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy", envvar=ENV_VAR, help="Prioritisation policy YAML (due days), as for vigil priorities."
        ),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who generates the report (audit trail); default the OS account.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Per-advisory and per-site response status, overdue items, risk acceptances near expiry, evidence."""
    query = ReportQuery(site=site, advisory=advisory, expiring_within=expiring_within, as_of=_as_of(as_of))
    _check_out(out_path, fmt)
    actor = by.strip() if by and by.strip() else system_actor()
    try:
        policy = load_policy(policy_file)
    except PolicyError as error:
        fail(str(error))
    with opened_store(db) as store:
        try:
            built, content = generate_report(store, query, fmt.value, actor, policy=policy)
        except ReportError as error:
            fail(str(error))
    if out_path is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return
    _write(out_path, content)
    out.print(
        f"report for {built.site} ({fmt.value}, as of {built.as_of.isoformat()}) written to {out_path}: "
        f"{len(built.advisories)} advisories, {built.devices} devices, {len(built.overdue)} overdue, "
        f"{len(built.expiring)} risk acceptances ending within {built.expiring_within} days, "
        f"{len(built.evidence)} with evidence",
        markup=False,
    )
