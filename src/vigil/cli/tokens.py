"""`vigil tokens`: API tokens (`Authorization: Bearer ...`), shown once, stored as SHA-256."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

import typer

from vigil.cli.common import (
    EXIT_REJECTED,
    DbOption,
    FormatOption,
    OutputFormat,
    fail,
    opened_store,
    out,
    print_json,
)
from vigil.services import users as service
from vigil.services.audit import system_actor

app = typer.Typer(help="API tokens: scoped to a user, optional expiry, revocable.", no_args_is_help=True)


def _expiry(text: str | None) -> datetime | None:
    """YYYY-MM-DD: the token works through the end of that day (UTC)."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        fail(f"--expires {text!r}: not a date (YYYY-MM-DD)")
    return datetime.combine(day, time.max, tzinfo=UTC)


@app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", help="Whose token: it acts with their role and sites.")],
    name: Annotated[str, typer.Option("--name", help="A label to recognise it by.")] = "api",
    expires: Annotated[
        str | None, typer.Option("--expires", help="Last day it works, YYYY-MM-DD (UTC); default: no expiry.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a token and print it once: it cannot be shown again."""
    expires_at = _expiry(expires)
    with opened_store(db) as store:
        try:
            new = service.create_token(store, user, name, expires_at, actor=system_actor())
        except service.UserError as error:
            fail(str(error), EXIT_REJECTED)
    typer.echo(new.token)
    until = new.expires_at.date().isoformat() if new.expires_at else "no expiry"
    typer.echo(
        f"token {new.id} ({new.name}) for {new.username}, {until}: store it now, it is not shown again", err=True
    )


@app.command("list")
def list_(
    user: Annotated[str | None, typer.Option("--user", help="One user's tokens.")] = None,
    db: DbOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """List tokens (never the tokens themselves)."""
    with opened_store(db) as store:
        try:
            tokens = service.list_tokens(store, username=user)
        except service.UserError as error:
            fail(str(error), EXIT_REJECTED)
    rows = [
        {
            "id": token.id,
            "user": token.username,
            "name": token.name,
            "created_at": token.created_at.isoformat(),
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        }
        for token in tokens
    ]
    if output is OutputFormat.json:
        print_json(rows)
        return
    for row in rows:
        state = "revoked" if row["revoked_at"] else f"expires {row['expires_at'] or 'never'}"
        used = row["last_used_at"] or "never used"
        out.print(f"{row['id']}  {row['user']}  {row['name']}  {state}  {used}", markup=False)
    if not rows:
        out.print("no API tokens")


@app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (vigil tokens list).")], db: DbOption = None
) -> None:
    """Revoke a token: it stops working at once."""
    with opened_store(db) as store:
        try:
            info = service.revoke_token(store, token_id, actor=system_actor())
        except service.UserError as error:
            fail(str(error), EXIT_REJECTED)
    out.print(f"revoked token {info.id} ({info.name}) of {info.username}", markup=False)
