"""`vigil decisions`: decide once for every copy of a product, list and revoke decisions."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from vigil.cli.common import DbOption, FormatOption, OutputFormat, fail, opened_store, out, print_json
from vigil.cli.status_options import (
    ByOption,
    CommentOption,
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
from vigil.services.decisions import DecisionError, DecisionRequest, add_decision, list_decisions, revoke_decision

app = typer.Typer(help="Decide once: a status for every current and future device of a model.", no_args_is_help=True)
SiteOption = Annotated[str, typer.Option("--site", help="Site name.")]


@app.command("add")
def add(
    status: StatusArgument,
    site: SiteOption,
    manufacturer: Annotated[str, typer.Option("--manufacturer", help="Manufacturer (aliases understood).")],
    model: Annotated[str, typer.Option("--model", help="Device model, or software product installed on it.")],
    by: ByOption,
    cve: Annotated[str | None, typer.Option("--cve", help="The CVE decided on.")] = None,
    advisory: Annotated[str | None, typer.Option("--advisory", help="Or the advisory's tracking id.")] = None,
    release: Annotated[
        str | None, typer.Option("--release", help="Version of the model or product; `*` and `?` wildcards.")
    ] = None,
    model_number: Annotated[str | None, typer.Option("--model-number", help="Model number, e.g. a 12NC.")] = None,
    comment: CommentOption = None,
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
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Decide for (CVE or advisory) x (manufacturer, model, release, model number): applied now to every
    matching device, and after each match run to devices that match later. A device whose status a person set
    directly keeps it; devices where the life cycle refuses the status are listed with the reason."""
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
    request = DecisionRequest(site, change, manufacturer, model, cve, advisory, release, model_number)
    with opened_store(db) as store:
        try:
            decision, applied = add_decision(store, request, by)
        except DecisionError as error:
            fail(str(error))
    if output is OutputFormat.json:
        print_json({**decision, "result": applied.as_json()})
        return
    out.print(
        f"decision {decision['id']}: {status} for {decision['manufacturer']} {decision['model']}"
        f" — applied to {len(applied.applied)} device finding(s), {len(applied.unchanged)} unchanged,"
        f" {len(applied.refused)} refused",
        markup=False,
    )
    for finding_id, why in applied.refused:
        out.print(f"  finding {finding_id}: {why}", markup=False)


@app.command("list")
def list_(
    site: SiteOption,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked decisions.")] = False,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """The site's decisions."""
    with opened_store(db) as store:
        try:
            decisions = list_decisions(store, site, revoked)
        except DecisionError as error:
            fail(str(error))
    if output is OutputFormat.json:
        print_json(decisions)
        return
    table = Table("id", "about", "manufacturer", "model", "release", "model number", "status", "by", "detail")
    for d in decisions:
        about = d["cve"] or d["advisory"]
        status = d["status"] + (" (revoked)" if d["revoked_at"] else "")
        detail = json.dumps(d["detail"], ensure_ascii=False)
        table.add_row(
            str(d["id"]),
            about,
            d["manufacturer"],
            d["model"],
            d["release"] or "*",
            d["model_number"] or "*",
            status,
            d["actor"],
            detail,
        )
    out.print(table)


@app.command("revoke")
def revoke(
    decision_id: Annotated[int, typer.Argument(help="Decision id.")],
    site: SiteOption,
    by: ByOption,
    db: DbOption = None,
) -> None:
    """Revoke a decision: the devices it set go back to where the advisory puts them (with history)."""
    with opened_store(db) as store:
        try:
            reset = revoke_decision(store, site, decision_id, by)
        except DecisionError as error:
            fail(str(error))
    out.print(f"decision {decision_id} revoked: {reset} device finding(s) reset", markup=False)
