"""The `vigil` command: one Typer app, one sub-app per domain."""

from __future__ import annotations

import typer

from vigil import __version__
from vigil.cli import advisories, db, findings, inventory, keys, matching

app = typer.Typer(
    name="vigil",
    help="Medical-device security advisories turned into verified, per-device action.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(advisories.app, name="advisories")
app.add_typer(inventory.app, name="inventory")
app.add_typer(findings.app, name="findings")
app.command("match")(matching.match)
app.add_typer(keys.app, name="keys")
app.add_typer(db.app, name="db")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vigil {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """vigil: advisories in, per-device action out."""
