"""`vigil advisories`: import, sync, list and show CSAF advisories."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vigil.cli.advisory_view import render_advisory
from vigil.cli.common import (
    EXIT_REJECTED,
    DbOption,
    FormatOption,
    OutputFormat,
    QuietOption,
    err,
    fail,
    opened_store,
    out,
    print_json,
    progress_enabled,
)
from vigil.cli.outcomes import OutcomePrinter
from vigil.services.advisory_import import iter_import
from vigil.services.advisory_read import AdvisoryNotFound, list_advisories, show_advisory
from vigil.services.advisory_sync import SyncError, sync
from vigil.sources.csaf.files import count_json, discover

app = typer.Typer(help="CSAF advisories: import, sync, list, show.", no_args_is_help=True)

MaxSizeOption = Annotated[
    int | None,
    typer.Option("--max-size", envvar="VIGIL_MAX_DOCUMENT_BYTES", help="Reject documents larger than this many bytes."),
]
WorkersOption = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Processes that validate in parallel (default: one per core)."),
]


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="CSAF files or directories (searched recursively for *.json).")],
    db: DbOption = None,
    quiet: QuietOption = False,
    output: FormatOption = OutputFormat.table,
    max_size: MaxSizeOption = None,
    workers: WorkersOption = None,
) -> None:
    """Validate and store advisories; every revision is kept. Exit 1 if any document was rejected."""
    with opened_store(db, max_size) as store:
        total = count_json(paths) if progress_enabled(quiet) else None
        with OutcomePrinter(output, quiet, "importing", total) as printer:
            for outcome in iter_import(store, discover(paths, store.settings.max_document_bytes), workers):
                printer.add(outcome)
    raise typer.Exit(printer.finish())


@app.command("sync")
def sync_(
    source: Annotated[
        str,
        typer.Argument(help="provider-metadata.json URL, distribution directory URL, or a provider-like directory."),
    ],
    allow_private: Annotated[
        bool, typer.Option("--allow-private", help="Allow private and loopback addresses (in-house mirrors).")
    ] = False,
    db: DbOption = None,
    quiet: QuietOption = False,
    output: FormatOption = OutputFormat.table,
    max_size: MaxSizeOption = None,
) -> None:
    """Fetch what changed since the last sync from a trusted provider, verify it, and import it."""
    with opened_store(db, max_size) as store, OutcomePrinter(output, quiet, "syncing") as printer:
        try:
            report = sync(store, source, allow_private, on_outcome=printer.add)
        except SyncError as error:
            fail(str(error))
    code = printer.finish()
    if not quiet and output is OutputFormat.table:
        err.print(
            f"{report.source}: {report.entries_seen} entries listed, "
            f"{report.documents_fetched} documents fetched, {report.requests} requests",
            markup=False,
        )
    raise typer.Exit(code)


@app.command("list")
def list_(
    db: DbOption = None,
    output: FormatOption = OutputFormat.table,
    publisher: Annotated[str | None, typer.Option(help="Only publishers whose name contains this.")] = None,
    cve: Annotated[str | None, typer.Option(help="Only advisories naming this CVE.")] = None,
    search: Annotated[str | None, typer.Option(help="Only titles or tracking ids containing this.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many first.")] = 0,
) -> None:
    """Current revision of every advisory, newest first."""
    with opened_store(db) as store:
        rows = list_advisories(store, publisher, cve, search, limit, offset)
    if output is OutputFormat.json:
        print_json(rows)
        return
    table = Table("tracking id", "version", "released", "publisher", "title", "CVEs", "flags", box=None)
    for row in rows:
        table.add_row(
            row["tracking_id"],
            row["version"],
            (row["current_release_date"] or "")[:10],
            row["publisher"],
            row["title"],
            str(len(row["cves"])),
            ",".join(row["quality_flags"]),
        )
    out.print(table)
    out.print(f"{len(rows)} advisories")


@app.command("show")
def show(
    ident: Annotated[str, typer.Argument(metavar="ID", help="Tracking id, e.g. ICSMA-21-019-01.")],
    db: DbOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Products, vulnerabilities with CVSS, remediations, quality flags and revisions of one advisory."""
    with opened_store(db) as store:
        try:
            detail = show_advisory(store, ident)
        except AdvisoryNotFound as error:
            fail(str(error), EXIT_REJECTED)
    if output is OutputFormat.json:
        print_json(detail)
    else:
        render_advisory(out, detail)
