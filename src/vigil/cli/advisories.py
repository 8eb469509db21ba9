"""`vigil advisories`: import, sync, list and show CSAF advisories."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from vigil.cli.advisory_view import render_advisory
from vigil.cli.common import (
    EXIT_OK,
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
from vigil.services.advisory_import import ImportOutcome, ImportSummary, iter_import
from vigil.services.advisory_read import AdvisoryNotFound, list_advisories, show_advisory
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
        candidates = discover(paths, store.settings.max_document_bytes)
        total = count_json(paths) if progress_enabled(quiet) else None
        outcomes = iter_import(store, candidates, workers)
        _report(outcomes, output, quiet, total, "importing")


def _report(outcomes: Iterable[ImportOutcome], output: OutputFormat, quiet: bool, total: int | None, verb: str) -> None:
    """Print rejections as they happen, then the summary line; exit 1 if anything was rejected."""
    summary = ImportSummary()
    collected: list[ImportOutcome] = []
    for outcome in _with_progress(outcomes, quiet, total, verb):
        summary.add(outcome)
        if output is OutputFormat.json:
            collected.append(outcome)
        elif outcome.status == "rejected":
            err.print(f"rejected: {outcome.source}: {outcome.reason}", markup=False)
    if output is OutputFormat.json:
        print_json(
            {
                "imported": summary.imported,
                "unchanged": summary.counts["unchanged"],
                "rejected": summary.rejected,
                "new_advisories": summary.counts["imported"],
                "new_revisions": summary.counts["revision"],
                "skipped": summary.counts["skipped"],
                "outcomes": [vars(o) for o in collected],
            }
        )
    else:
        out.print(summary.line)
        details = []
        if summary.counts["revision"]:
            details.append(f"{summary.counts['revision']} of them new revisions of known advisories")
        if summary.counts["skipped"]:
            details.append(f"skipped {summary.counts['skipped']} non-advisory JSON files (feeds, provider metadata)")
        if details and not quiet:
            out.print("; ".join(details))
    raise typer.Exit(EXIT_REJECTED if summary.rejected else EXIT_OK)


def _with_progress(
    outcomes: Iterable[ImportOutcome], quiet: bool, total: int | None, verb: str
) -> Iterator[ImportOutcome]:
    if not progress_enabled(quiet):
        yield from outcomes
        return
    columns = (TextColumn(verb), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(verb, total=total)
        for outcome in outcomes:
            progress.advance(task)
            yield outcome


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
