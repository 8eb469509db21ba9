"""`vigil findings`: list (filtered, or grouped per asset and CVE), show with history, review `possible` ones."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from vigil.cli.common import (
    EXIT_CONFLICT,
    EXIT_REJECTED,
    DbOption,
    FormatOption,
    OutputFormat,
    fail,
    opened_store,
    out,
    print_json,
)
from vigil.cli.status_options import ByOption as StatusByOption
from vigil.cli.status_options import CommentOption as StatusCommentOption
from vigil.cli.status_options import (
    ContactOption,
    EvidenceFileOption,
    EvidenceOption,
    ExpiresOption,
    FcoOption,
    JustificationOption,
    OptionError,
    OwnerOption,
    PlannedOption,
    ReasonOption,
    StatusArgument,
    VerificationOption,
    status_change,
)
from vigil.outputs.spreadsheet import write_csv
from vigil.response.states import IllegalTransition
from vigil.services.findings_read import (
    CSV_COLUMNS,
    FindingQuery,
    FindingQueryError,
    find_findings,
    group_by_cve,
    review_finding,
    show_finding,
)
from vigil.services.response import FindingNotFound, ResponseConflict, set_status

app = typer.Typer(
    help="Findings: which devices an advisory affects, with evidence; review possible matches.",
    invoke_without_command=True,
)


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _split(values: list[str] | None) -> list[str]:
    """`--match exact,probable` and `--match exact --match probable` both."""
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


@app.callback()
def list_(
    ctx: typer.Context,
    output: Annotated[ListFormat, typer.Option("--format", help="table, json or csv.")] = ListFormat.table,
    advisory: Annotated[str | None, typer.Option("--advisory", help="Document tracking id.")] = None,
    asset: Annotated[str | None, typer.Option("--asset", help="Asset id.")] = None,
    site: Annotated[str | None, typer.Option("--site", help="Site name.")] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="affected, fixed, not_affected, under_investigation.")
    ] = None,
    match: Annotated[list[str] | None, typer.Option("--match", help="exact,probable,possible.")] = None,
    response_status: Annotated[
        list[str] | None,
        typer.Option("--response-status", help="The site's status: affected,mitigated,risk_accepted,... (any of)."),
    ] = None,
    review: Annotated[str | None, typer.Option("--review", help="pending, confirmed or rejected.")] = None,
    cve: Annotated[str | None, typer.Option("--cve", help="One CVE id.")] = None,
    closed: Annotated[bool, typer.Option("--closed", help="Include closed findings.")] = False,
    superseded: Annotated[
        bool, typer.Option("--superseded", help="Include findings a vendor's own advisory prevails over.")
    ] = False,
    by_cve: Annotated[bool, typer.Option("--by-cve", help="Group per asset and CVE, showing every source.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many findings.")] = None,
    db: DbOption = None,
) -> None:
    """List findings (open, prevailing ones unless --closed / --superseded)."""
    if ctx.invoked_subcommand is not None:
        return
    query = FindingQuery(
        site=site,
        advisory=advisory,
        asset_id=asset,
        statuses=_split(status),
        matches=_split(match),
        review=review,
        cve=cve,
        include_closed=closed,
        include_superseded=superseded or by_cve,
        response_statuses=_split(response_status),
    )
    with opened_store(db) as store:
        try:
            findings = find_findings(store, query, limit)
        except FindingQueryError as error:
            fail(str(error))
    if by_cve:
        _print_groups(group_by_cve(findings), output)
        return
    if output is ListFormat.json:
        print_json(findings)
    elif output is ListFormat.csv:
        write_csv(sys.stdout, CSV_COLUMNS, (_csv_row(f) for f in findings))
    else:
        _print_table(findings)


def _csv_row(finding: dict[str, Any]) -> list[Any]:
    return ["|".join(value) if isinstance(value := finding[column], list) else value for column in CSV_COLUMNS]


def _print_table(findings: list[dict[str, Any]]) -> None:
    table = Table(
        "id", "site", "asset", "advisory", "cve", "status", "match", "review", "response", "products", box=None
    )
    for f in findings:
        review = f["review"] or ""
        table.add_row(
            str(f["id"]),
            f["site"],
            f["asset_id"],
            f["advisory_id"],
            ",".join(f["cves"]),
            f["status"],
            f["match"],
            review,
            f["response_status"],
            ",".join(f["product_ids"]),
        )
    out.print(table)
    out.print(f"{len(findings)} findings", markup=False)


def _print_groups(groups: list[dict[str, Any]], output: ListFormat) -> None:
    if output is ListFormat.json:
        print_json(groups)
        return
    if output is ListFormat.csv:
        rows = (
            [
                g["site"],
                g["asset_id"],
                g["cve"],
                g["status"],
                s["advisory_id"],
                s["publisher"],
                s["prevailing"],
                s["reason"],
            ]
            for g in groups
            for s in g["sources"]
        )
        write_csv(
            sys.stdout, ("site", "asset_id", "cve", "status", "advisory_id", "publisher", "prevailing", "reason"), rows
        )
        return
    table = Table("site", "asset", "cve", "status", "source", "prevails", "why not", box=None)
    for g in groups:
        for s in g["sources"]:
            table.add_row(
                g["site"],
                g["asset_id"],
                g["cve"],
                g["status"] or "-",
                f"{s['advisory_id']} ({s['publisher']})",
                "yes" if s["prevailing"] else "no",
                s["reason"] or "",
            )
    out.print(table)


@app.command("show")
def show(
    finding_id: Annotated[int, typer.Argument(help="Finding id.")],
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """One finding with its evidence and history."""
    with opened_store(db) as store:
        try:
            finding = show_finding(store, finding_id)
        except FindingQueryError as error:
            fail(str(error))
    if output is OutputFormat.json:
        print_json(finding)
        return
    _print_finding(finding)


def _print_finding(finding: dict[str, Any]) -> None:
    fields = Table("field", "value", box=None, title=f"finding {finding['id']}")
    for key in (
        "site",
        "asset_id",
        "advisory_id",
        "publisher",
        "cves",
        "status",
        "csaf_status",
        "match",
        "review",
        "product_ids",
        "prevailing",
        "superseded_by",
        "scope_reason",
        "opened_at",
        "closed_at",
        "closed_reason",
    ):
        value = finding[key]
        fields.add_row(key, ", ".join(value) if isinstance(value, list) else "" if value is None else str(value))
    out.print(fields)
    out.print("evidence:", markup=False)
    out.print(json.dumps(finding["evidence"], indent=2, ensure_ascii=False), markup=False)
    history = Table("at", "event", "by", "detail", box=None, title="History")
    for event in finding["history"]:
        history.add_row(event["at"], event["kind"], event["actor"], json.dumps(event["detail"], ensure_ascii=False))
    out.print(history)


def _review(finding_id: int, decision: str, by: str, comment: str | None, output: OutputFormat, db: str | None) -> None:
    with opened_store(db) as store:
        try:
            finding = review_finding(store, finding_id, decision, by, comment)
        except (FindingQueryError, ValueError) as error:
            fail(str(error))
    if output is OutputFormat.json:
        print_json(finding)
    else:
        out.print(f"finding {finding_id}: {decision} by {by}", markup=False)


ByOption = Annotated[str, typer.Option("--by", help="Who decides (recorded in the history).")]
CommentOption = Annotated[str | None, typer.Option("--comment", help="Why.")]


@app.command("confirm")
def confirm(
    finding_id: Annotated[int, typer.Argument(help="Finding id of a possible match.")],
    by: ByOption,
    comment: CommentOption = None,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Confirm a possible match: the device is the advisory's product (it then counts as affected)."""
    _review(finding_id, "confirmed", by, comment, output, db)


@app.command("reject")
def reject(
    finding_id: Annotated[int, typer.Argument(help="Finding id of a possible match.")],
    by: ByOption,
    comment: CommentOption = None,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Reject a possible match: the device is not the advisory's product."""
    _review(finding_id, "rejected", by, comment, output, db)


@app.command("set-status")
def set_status_(
    finding_id: Annotated[int, typer.Argument(help="Finding id.")],
    status: StatusArgument,
    by: StatusByOption,
    comment: StatusCommentOption = None,
    evidence: EvidenceOption = None,
    evidence_file: EvidenceFileOption = None,
    verification: VerificationOption = None,
    justification: JustificationOption = None,
    fco: FcoOption = None,
    planned_date: PlannedOption = None,
    vendor_contact: ContactOption = None,
    owner: OwnerOption = None,
    reason: ReasonOption = None,
    expires: ExpiresOption = None,
    expect_version: Annotated[
        int | None,
        typer.Option("--expect-version", help="Refuse (exit 3) unless the finding is still at this response_version."),
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="The finding's site (checked).")] = None,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Set one device's response status (a per-device override: decide-once rules leave it alone after).

    Illegal moves and missing requirements are refused with the reason (exit 1); a finding another writer
    changed since --expect-version is refused as a conflict (exit 3): reload and retry.
    """
    try:
        change = status_change(
            status,
            comment,
            evidence,
            evidence_file,
            verification,
            justification,
            fco,
            planned_date,
            vendor_contact,
            owner,
            reason,
            expires,
        )
    except OptionError as error:
        fail(str(error))
    with opened_store(db) as store:
        try:
            result = set_status(store, site, finding_id, change, by, expect_version)
        except FindingNotFound as error:
            fail(str(error))
        except IllegalTransition as error:
            fail(f"finding {finding_id}: {error}", EXIT_REJECTED)
        except ResponseConflict as error:
            fail(f"conflict: {error}", EXIT_CONFLICT)
        finding = show_finding(store, finding_id)
    if output is OutputFormat.json:
        print_json(finding)
    else:
        out.print(
            f"finding {finding_id}: {result.before} -> {result.after} by {by} (version {result.version})",
            markup=False,
        )
