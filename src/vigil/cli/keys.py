"""`vigil keys`: the OpenPGP keys whose advisory signatures must verify."""

from __future__ import annotations

from pathlib import Path
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
from vigil.services.keys import add_key, list_keys, remove_key

app = typer.Typer(
    help="OpenPGP public keys: once one is configured, every advisory with a .asc must verify.",
    no_args_is_help=True,
)


@app.command("add")
def add(file: Annotated[Path, typer.Argument(help="Public key file, armored or binary.")], db: DbOption = None) -> None:
    """Trust a provider's public key."""
    try:
        armored = file.read_bytes()
    except OSError as error:
        fail(f"{file}: cannot read: {error.strerror or error}", EXIT_REJECTED)
    with opened_store(db) as store:
        try:
            key, new = add_key(store, armored)
        except ValueError as error:
            fail(f"{file}: {error}", EXIT_REJECTED)
    verb = "added" if new else "already configured:"
    out.print(f"{verb} {key.fingerprint} {', '.join(key.user_ids)}", markup=False)


@app.command("list")
def list_(db: DbOption = None, output: FormatOption = OutputFormat.table) -> None:
    """List configured keys."""
    with opened_store(db) as store:
        keys = list_keys(store)
    if output is OutputFormat.json:
        print_json([{"fingerprint": k.fingerprint, "user_ids": list(k.user_ids)} for k in keys])
        return
    for key in keys:
        out.print(f"{key.fingerprint}  {', '.join(key.user_ids)}", markup=False)
    if not keys:
        out.print("no keys configured: signatures are recorded as unchecked")


@app.command("remove")
def remove(fingerprint: str, db: DbOption = None) -> None:
    """Stop trusting a key."""
    with opened_store(db) as store:
        if not remove_key(store, fingerprint):
            fail(f"no configured key with fingerprint {fingerprint}", EXIT_REJECTED)
    out.print(f"removed {fingerprint.lower()}")
