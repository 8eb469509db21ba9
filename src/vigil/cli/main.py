"""The `vigil` command: one Typer app, one sub-app per domain."""

from __future__ import annotations

import typer

from vigil import __version__
from vigil.cli import actions, advisories, db, decisions, findings, inventory, keys, matching
from vigil.cli import audit as audit_command
from vigil.cli import epss as epss_cli
from vigil.cli import kev as kev_cli
from vigil.cli import priorities as priorities_cli
from vigil.cli import report as report_command
from vigil.cli import serve as serve_cli
from vigil.cli import tokens as tokens_cli
from vigil.cli import users as users_cli
from vigil.cli import vex as vex_cli

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
app.command("priorities")(priorities_cli.priorities)
app.add_typer(kev_cli.app, name="kev")
app.add_typer(epss_cli.app, name="epss")
app.add_typer(decisions.app, name="decisions")
app.add_typer(actions.app, name="actions")
app.command("report")(report_command.report)
app.add_typer(audit_command.app, name="audit")
app.add_typer(vex_cli.app, name="vex")
app.command("serve")(serve_cli.serve)
app.add_typer(users_cli.app, name="users")
app.add_typer(tokens_cli.app, name="tokens")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vigil {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """vigil: advisories in, per-device action out."""
