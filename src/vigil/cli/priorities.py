"""`vigil priorities`: open findings, most urgent first, with SSVC's deployer decision explained."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from vigil.cli.common import DbOption, fail, opened_store, out
from vigil.outputs.spreadsheet import write_csv
from vigil.response.policy import ENV_VAR, PolicyError, load_policy
from vigil.response.ssvc import OUTCOMES
from vigil.services.priorities import (
    CSV_COLUMNS,
    PriorityQuery,
    PriorityQueryError,
    PriorityRow,
    csv_row,
    list_priorities,
)


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


# Short column heads for the table: the JSON and CSV carry the full names and every source.
_SHORT = {
    "Exploitation": "E",
    "System Exposure": "X",
    "Automatable": "A",
    "Safety Impact": "SI",
    "Mission Impact": "MI",
    "Human Impact": "HI",
}


def priorities(
    site: Annotated[str | None, typer.Option("--site", help="Site name.")] = None,
    advisory: Annotated[str | None, typer.Option("--advisory", help="Document tracking id.")] = None,
    cve: Annotated[str | None, typer.Option("--cve", help="One CVE id.")] = None,
    asset: Annotated[str | None, typer.Option("--asset", help="Asset id.")] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help=f"Only one of {', '.join(OUTCOMES)}.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only findings past their due date.")] = False,
    resolved: Annotated[
        bool, typer.Option("--include-resolved", help="Findings already not_affected or fixed too.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Table format: print every decision point's source under its row.")
    ] = False,
    output: Annotated[ListFormat, typer.Option("--format", help="table, json or csv.")] = ListFormat.table,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many findings.")] = None,
    policy_file: Annotated[
        Path | None,
        typer.Option("--policy", envvar=ENV_VAR, help="Policy YAML overriding the built-in one (due days, zones)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Open findings, most urgent first (SSVC deployer outcome, CVSS, EPSS), with due dates and their sources."""
    if outcome is not None and outcome not in OUTCOMES:
        fail(f"unknown outcome {outcome!r}: expected one of {', '.join(OUTCOMES)}")
    try:
        policy = load_policy(policy_file)
    except PolicyError as error:
        fail(str(error))
    query = PriorityQuery(site, advisory, cve, asset, resolved, outcome, overdue)
    with opened_store(db) as store:
        try:
            rows = list_priorities(store, query, policy=policy, limit=limit)
        except PriorityQueryError as error:
            fail(str(error))
    if output is ListFormat.json:
        # orjson: a site's list runs to tens of MB of explained points; the stdlib took seconds more (measured).
        sys.stdout.buffer.write(orjson.dumps([row.as_json() for row in rows], option=orjson.OPT_INDENT_2) + b"\n")
    elif output is ListFormat.csv:
        write_csv(sys.stdout, CSV_COLUMNS, (csv_row(row) for row in rows))
    else:
        _print_explained(rows) if explain else _print_table(rows)
        out.print(f"{len(rows)} findings ({policy.source})", markup=False)


def _print_table(rows: list[PriorityRow]) -> None:
    table = Table(
        "outcome", "due", "id", "site", "asset", "advisory", "cve", "status", "cvss", "epss", "kev",
        *_SHORT.values(), box=None,
    )  # fmt: skip
    for row in rows:
        due = row.due_date.isoformat() if row.due_date else "-"
        table.add_row(
            row.outcome,
            f"{due} OVERDUE" if row.overdue else due,
            str(row.finding_id),
            row.site,
            row.asset_id,
            row.advisory,
            row.cve or row.vulnerability,
            row.response_status,
            f"{row.cvss.base_score:.1f} ({row.cvss.version})" if row.cvss else "-",
            f"{row.epss:.3f}" if row.epss is not None else "-",
            "yes" if row.kev else "no",
            *(point.value for point in row.points),
        )
    out.print(table)


def _print_explained(rows: list[PriorityRow]) -> None:
    for row in rows:
        due = f"due {row.due_date.isoformat()}" if row.due_date else "no due date"
        cvss = f"CVSS {row.cvss.base_score:.1f} ({row.cvss.version})" if row.cvss else "no CVSS"
        epss = f"EPSS {row.epss:.3f}" if row.epss is not None else "no EPSS"
        out.print(
            f"{row.outcome} {due}{' OVERDUE' if row.overdue else ''} | finding {row.finding_id} | {row.site} / "
            f"{row.asset_id} | {row.advisory} {row.cve or row.vulnerability} | {row.response_status} | {cvss} | "
            f"{epss} | KEV {'yes' if row.kev else 'no'}",
            markup=False,
        )
        for point in row.points:
            out.print(f"    {point.name}: {point.value} — {point.source}", markup=False)
