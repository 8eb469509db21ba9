"""`vigil match`: bring every site's findings up to date with the current advisories and inventory."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from vigil.cli.common import DbOption, FormatOption, OutputFormat, QuietOption, err, fail, opened_store, out, print_json
from vigil.services.matching import MatchReport, run_match


def match(
    full: Annotated[bool, typer.Option("--full", help="Re-evaluate every advisory against every asset.")] = False,
    site: Annotated[list[str] | None, typer.Option("--site", help="Only these sites (repeatable).")] = None,
    stats: Annotated[
        bool, typer.Option("--stats", help="Also count the advisories' version leaves per notation (unparsed too).")
    ] = False,
    db: DbOption = None,
    quiet: QuietOption = False,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Match advisories to devices. Incremental unless --full: only what changed since the last run."""
    with opened_store(db) as store:
        try:
            report = run_match(store, full=full, site_names=site, stats=stats)
        except LookupError as error:
            fail(str(error))
    if output is OutputFormat.json:
        print_json(report_dict(report))
        return
    if not quiet:
        _print_table(report)
    out.print(report.line, markup=False)
    if not report.sites:
        err.print("no sites: import an inventory first (vigil inventory import FILE)", markup=False)


def report_dict(report: MatchReport) -> dict[str, Any]:
    data: dict[str, Any] = {
        "summary": report.line,
        "compiled_revisions": report.compiled_revisions,
        "sites": [
            {
                "site": s.site,
                "mode": s.mode,
                "revisions": s.revisions,
                "assets": s.assets,
                **{kind: s.counts[kind] for kind in _KINDS},
                "open_findings": s.open_findings,
                "review_pending": s.review_pending,
                "seconds": round(s.seconds, 3),
            }
            for s in report.sites
        ],
    }
    if report.notations is not None:
        total = sum(report.notations.values())
        unparsed = report.notations.get("unparsed", 0)
        data["notations"] = dict(report.notations)
        data["leaves"] = total
        data["unparsed_share"] = round(unparsed / total, 5) if total else 0.0
    return data


_KINDS = ("opened", "changed", "revised", "reopened", "closed", "unchanged", "superseded", "prevails")


def _print_table(report: MatchReport) -> None:
    table = Table("site", "mode", "assets", *_KINDS[:6], "open", "review", "seconds", box=None)
    for s in report.sites:
        counts = [str(s.counts[kind]) for kind in _KINDS[:6]]
        table.add_row(
            s.site,
            s.mode,
            str(s.assets),
            *counts,
            "-" if s.open_findings is None else str(s.open_findings),
            str(s.review_pending),
            f"{s.seconds:.2f}",
        )
    if report.sites:
        out.print(table)
    if report.notations is not None:
        total = sum(report.notations.values())
        notes = Table("notation", "leaves", "share", box=None, title="Version leaves of current advisories")
        for notation, count in report.notations.most_common():
            notes.add_row(notation, str(count), f"{count / total:.2%}" if total else "-")
        out.print(notes)
