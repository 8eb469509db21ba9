"""`vigil vex`: export a site's response statuses as VEX (CSAF 2.0, CycloneDX, OpenVEX) and import VEX back."""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import (
    EXIT_REJECTED,
    DbOption,
    err,
    fail,
    opened_store,
    out,
    print_json,
)
from vigil.services.vex import (
    PUBLISHER_NAME_ENV,
    PUBLISHER_NAMESPACE_ENV,
    NothingToExport,
    VexExportRequest,
    VexRequestError,
    export_vex,
    import_vex,
)
from vigil.sources.vex import VexFileError

app = typer.Typer(
    help="VEX out and back in: the site's device statuses as CSAF, CycloneDX or OpenVEX.", no_args_is_help=True
)


class ExportFormat(StrEnum):
    csaf = "csaf"
    cyclonedx = "cyclonedx"
    openvex = "openvex"


class ImportFormat(StrEnum):
    auto = "auto"
    csaf = "csaf"
    cyclonedx = "cyclonedx"
    openvex = "openvex"


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "vigil"


@app.command("export")
def export(
    site: Annotated[str, typer.Option("--site", help="Site name.")],
    output_format: Annotated[ExportFormat, typer.Option("--format", help="csaf, cyclonedx or openvex.")],
    out_file: Annotated[Path, typer.Option("--out", help="File to write (`-`: standard output).")],
    advisory: Annotated[str | None, typer.Option("--advisory", help="Only this advisory's findings.")] = None,
    publisher_name: Annotated[
        str | None,
        typer.Option("--publisher-name", envvar=PUBLISHER_NAME_ENV, help="Issuer name (default: the site name)."),
    ] = None,
    publisher_namespace: Annotated[
        str | None,
        typer.Option(
            "--publisher-namespace", envvar=PUBLISHER_NAMESPACE_ENV, help="Issuer URL, e.g. https://hospital.example."
        ),
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who exports (audit log; default: the login name).")] = None,
    db: DbOption = None,
) -> None:
    """Write one VEX document: every open finding of the site (one per device and CVE), or of one advisory."""
    request = VexExportRequest(site, output_format.value, advisory, publisher_name, publisher_namespace)
    with opened_store(db) as store:
        try:
            result = export_vex(store, request, by or _default_actor())
        except VexRequestError as error:
            fail(str(error))
        except NothingToExport as error:
            fail(str(error), EXIT_REJECTED)
    if str(out_file) == "-":
        sys.stdout.buffer.write(result.content)
        return
    _write_atomically(out_file, result.content)
    err.print(
        f"{out_file}: {result.statements} statements on {result.devices} devices ({result.tracking_id})", markup=False
    )


def _write_atomically(path: Path, content: bytes) -> None:
    """A reader never sees half a document, and a failed write leaves the old file."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent or Path(), prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        Path(temporary).replace(path)
    except OSError as error:
        fail(f"{path}: cannot write: {error.strerror or error}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A CSAF 2.0 csaf_vex, CycloneDX or OpenVEX JSON file.")],
    site: Annotated[str, typer.Option("--site", help="Site whose devices the statements are about.")],
    by: Annotated[str, typer.Option("--by", help="Who imports (recorded in the history and the audit log).")],
    input_format: Annotated[
        ImportFormat, typer.Option("--format", help="auto (the file says), or which it must be.")
    ] = (ImportFormat.auto),
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (for scripts).")] = False,
    db: DbOption = None,
) -> None:
    """Apply a VEX file's statuses to the site's findings. Unknown products and vulnerabilities, and changes the
    life cycle refuses, are reported one line each and skipped; the rest is applied. Exit 1 if anything was."""
    try:
        raw = file.read_bytes()
    except OSError as error:
        fail(f"{file}: cannot read: {error.strerror or error}", EXIT_REJECTED)
    with opened_store(db) as store:
        try:
            report = import_vex(store, raw, str(file), site, by, input_format.value)
        except VexRequestError as error:
            fail(str(error))
        except VexFileError as error:
            fail(str(error), EXIT_REJECTED)
    for problem in report.problems:
        err.print(problem, markup=False)
    summary = (
        f"{file}: {report.format}, {report.statements} statements: {report.applied} applied, "
        f"{report.unchanged} unchanged, {len(report.problems)} rejected"
    )
    if as_json:
        print_json(
            {
                "file": str(file),
                "format": report.format,
                "statements": report.statements,
                "applied": report.applied,
                "unchanged": report.unchanged,
                "problems": list(report.problems),
            }
        )
    else:
        out.print(summary, markup=False)
    if report.problems:
        raise typer.Exit(EXIT_REJECTED)
