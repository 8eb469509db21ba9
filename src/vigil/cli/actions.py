"""`vigil actions`: the advisories' remediations per affected device — list, assign, complete with evidence."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from vigil.cli.common import DbOption, FormatOption, OutputFormat, fail, opened_store, out, print_json
from vigil.cli.status_options import ByOption
from vigil.services.actions import (
    ActionError,
    ActionQuery,
    assign_action,
    complete_action,
    list_actions,
    rollup,
)

app = typer.Typer(help="Action items: each advisory remediation, per affected device.", no_args_is_help=True)
SiteOption = Annotated[str, typer.Option("--site", help="Site name.")]
STATES = ("open", "done", "void")


@app.command("list")
def list_(
    site: SiteOption,
    advisory: Annotated[str | None, typer.Option("--advisory", help="Tracking id.")] = None,
    state: Annotated[list[str] | None, typer.Option("--state", help="open (default), done, void; or all.")] = None,
    assignee: Annotated[str | None, typer.Option("--assignee", help="Only this person's items.")] = None,
    asset: Annotated[str | None, typer.Option("--asset", help="Only this device's items.")] = None,
    summary: Annotated[bool, typer.Option("--summary", help="Roll up per advisory and category.")] = False,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """List action items (brought up to date with the findings first)."""
    wanted = [part for value in state or ["open"] for part in value.split(",") if part]
    states = STATES if "all" in wanted else tuple(wanted)
    for value in states:
        if value not in STATES:
            fail(f"unknown state {value!r}: expected open, done, void or all")
    with opened_store(db) as store:
        try:
            items = list_actions(store, ActionQuery(site, advisory, states, assignee, asset))
        except ActionError as error:
            fail(str(error))
    if summary:
        rows = rollup(items)
        if output is OutputFormat.json:
            print_json(rows)
            return
        table = Table("advisory", "category", "open", "done", "void", "devices")
        for row in rows:
            table.add_row(*(str(row[k]) for k in ("advisory", "category", "open", "done", "void", "devices")))
        out.print(table)
        return
    if output is OutputFormat.json:
        print_json(items)
        return
    table = Table("id", "asset", "advisory", "category", "state", "assignee", "details", "url")
    for item in items:
        table.add_row(
            str(item["id"]),
            item["asset_id"],
            item["advisory"],
            item["category"],
            item["state"],
            item["assignee"] or "",
            _short(item["details"]),
            item["url"] or "",
        )
    out.print(table)


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("assign")
def assign(
    item_id: Annotated[int, typer.Argument(help="Action item id.")],
    site: SiteOption,
    to: Annotated[str, typer.Option("--to", help="Assignee.")],
    by: ByOption,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Assign an open item to a person."""
    with opened_store(db) as store:
        try:
            item = assign_action(store, site, item_id, to, by)
        except ActionError as error:
            fail(str(error))
    if output is OutputFormat.json:
        print_json(item)
    else:
        out.print(f"action {item_id} assigned to {to}", markup=False)


@app.command("complete")
def complete(
    item_id: Annotated[int, typer.Argument(help="Action item id.")],
    site: SiteOption,
    by: ByOption,
    evidence: Annotated[str, typer.Option("--evidence", help="What was done and how it was checked.")],
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Complete an item with evidence. A mitigation or workaround completed on a device mitigates the affected
    findings it answers."""
    with opened_store(db) as store:
        try:
            item, changes = complete_action(store, site, item_id, by, evidence)
        except ActionError as error:
            fail(str(error))
    if output is OutputFormat.json:
        print_json({**item, "status_changes": changes})
        return
    out.print(f"action {item_id} done by {by}", markup=False)
    for change in changes:
        if "refused" in change:
            out.print(f"  finding {change['finding_id']}: not mitigated: {change['refused']}", markup=False)
        else:
            out.print(f"  finding {change['finding_id']}: {change['from']} -> {change['to']}", markup=False)
