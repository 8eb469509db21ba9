"""`vigil audit`: list the audit trail, verify its hash chains, export their heads for anchoring."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from vigil.cli.common import EXIT_REJECTED, DbOption, FormatOption, OutputFormat, fail, opened_store, out, print_json
from vigil.services.audit import AuditQuery, AuditQueryError, chain_heads, head_line, list_entries, verify_trail

app = typer.Typer(help="Audit trail: who changed what, when; hash-chained so edits and deletions show.")

SiteOption = Annotated[str | None, typer.Option("--site", help="Site name: that site's chain only.")]
InstallationOption = Annotated[
    bool, typer.Option("--installation", help="The installation-wide chain only (advisory imports and syncs).")
]


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--since {value!r}: expected an ISO 8601 date or time, e.g. 2025-01-31 or 2025-01-31T08:00:00Z")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@app.command("list")
def list_(
    site: SiteOption = None,
    installation: InstallationOption = False,
    action: Annotated[
        list[str] | None,
        typer.Option("--action", help="Actions (inventory.import), or prefixes ending in a dot (finding.)."),
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Entries at or after this date/time (UTC).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the newest this many entries.")] = None,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Audit entries, oldest first."""
    query = AuditQuery(site, installation, _split(action), _since(since), limit)
    with opened_store(db) as store:
        try:
            entries = list_entries(store, query)
        except AuditQueryError as error:
            fail(str(error))
    if output is OutputFormat.json:
        print_json(entries)
        return
    table = Table("at", "site", "seq", "actor", "action", "subject", "detail", box=None)
    for e in entries:
        cells = (e["at"], e["site"] or "(installation)", str(e["seq"]), e["actor"], e["action"], e["subject"] or "")
        table.add_row(*(Text(c) for c in cells), Text(json.dumps(e["detail"], ensure_ascii=False)))
    out.print(table)
    out.print(f"{len(entries)} entries", markup=False)


@app.command("verify")
def verify(
    site: SiteOption = None,
    installation: InstallationOption = False,
    anchor: Annotated[
        Path | None,
        typer.Option("--anchor", help="Heads saved earlier by `vigil audit head`: each must still be in its chain."),
    ] = None,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Check every chain; exit 0 when intact, 1 when broken (one line per broken chain: site, seq, reason)."""
    with opened_store(db) as store:
        try:
            outcome = verify_trail(store, site, installation, anchor)
        except AuditQueryError as error:
            fail(str(error))
    report = outcome.report
    if output is OutputFormat.json:
        print_json(outcome.as_dict())
    else:
        for line in outcome.lines:
            out.print(line, markup=False)
        entries = sum(chain.entries for chain in report.chains)
        state = "intact" if report.intact else f"BROKEN ({len(report.broken)} of {len(report.chains)} chains)"
        out.print(f"audit trail {state}: {len(report.chains)} chains, {entries} entries", markup=False)
    if not report.intact:
        raise typer.Exit(EXIT_REJECTED)


@app.command("head")
def head(
    site: SiteOption = None,
    installation: InstallationOption = False,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Each chain's newest seq and hash: keep them outside the database, then `verify --anchor FILE`."""
    with opened_store(db) as store:
        try:
            heads = chain_heads(store, site, installation)
        except AuditQueryError as error:
            fail(str(error))
    if output is OutputFormat.json:
        print_json(heads)
        return
    for item in heads:  # plain lines, not a table: saved as is, then read back by --anchor
        typer.echo(head_line(item))
