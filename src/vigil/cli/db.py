"""`vigil db`: database maintenance."""

from __future__ import annotations

import typer

from vigil.cli.common import DbOption, opened_store, out

app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(db: DbOption = None) -> None:
    """Create the database or migrate it to the newest schema (every command also does this)."""
    with opened_store(db) as store:
        out.print(f"database at {store.engine.url.render_as_string(hide_password=True)} is up to date")
