"""What `vigil kev` and `vigil epss` share: who imports, and the report."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from vigil.cli.common import EXIT_OK, EXIT_REJECTED, err, out
from vigil.services.reference_import import ReferenceImportReport

ByOption = Annotated[
    str | None, typer.Option("--by", help="Who imports (recorded in the audit trail); default: the OS user.")
]


def actor_of(by: str | None) -> str:
    if by and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database (containers)
        return "vigil"


def print_report(report: ReferenceImportReport) -> None:
    """One stderr line per rejected row, the summary on stdout; exit 1 when anything was rejected."""
    for line in report.lines:
        err.print(f"rejected: {line}", markup=False)
    out.print(report.summary, markup=False)
    raise typer.Exit(EXIT_REJECTED if report.rejected else EXIT_OK)
