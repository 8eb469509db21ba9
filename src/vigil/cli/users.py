"""`vigil users`: local users, their roles and the sites they may see (docs/users.md)."""

from __future__ import annotations

import getpass
import sys
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
from vigil.services import access
from vigil.services import users as service
from vigil.services.audit import system_actor

app = typer.Typer(help="Local users: roles (admin, analyst, technician, viewer) and site grants.", no_args_is_help=True)

RoleOption = Annotated[str, typer.Option("--role", help=f"One of {', '.join(access.ROLES)}.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]


def _read_password(from_stdin: bool) -> str:
    """From stdin (scripts) or a hidden, confirmed prompt (a terminal); never from the command line."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        fail("no terminal to ask for the password: pass --password-stdin (or --no-password)")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        fail("the passwords differ", EXIT_REJECTED)
    return first


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Login name: letters, digits, '.', '_', '-', '@'.")],
    role: RoleOption = "viewer",
    password_stdin: PasswordStdin = False,
    no_password: Annotated[bool, typer.Option("--no-password", help="No password login: API tokens only.")] = False,
    db: DbOption = None,
) -> None:
    """Add a user (no sites yet: `vigil users grant`)."""
    if password_stdin and no_password:
        fail("--password-stdin and --no-password contradict each other: give one")
    if not access.is_role(role):
        fail(f"unknown role {role!r}: use one of {', '.join(access.ROLES)}")
    password = None if no_password else _read_password(password_stdin)
    with opened_store(db) as store:
        try:
            user = service.add_user(store, name, role, password, actor=system_actor())
        except service.UserError as error:  # duplicate, bad name, weak password
            fail(str(error), EXIT_REJECTED)
    sites = "every site" if user.all_sites else "no sites yet (vigil users grant)"
    out.print(f"added {user.username} ({user.role}); sees {sites}", markup=False)


@app.command("list")
def list_(db: DbOption = None, output: FormatOption = OutputFormat.table) -> None:
    """List users, their roles and sites."""
    with opened_store(db) as store:
        users = service.list_users(store)
    if output is OutputFormat.json:
        print_json(
            [
                {
                    "username": user.username,
                    "role": user.role,
                    "all_sites": user.all_sites,
                    "sites": list(user.sites),
                    "password": user.has_password,
                    "disabled": user.disabled,
                    "created_at": user.created_at.isoformat(),
                }
                for user in users
            ]
        )
        return
    for user in users:
        sites = "(all sites)" if user.all_sites else ", ".join(user.sites) or "(no sites)"
        flags = "".join([" [disabled]" if user.disabled else "", "" if user.has_password else " [tokens only]"])
        out.print(f"{user.username}  {user.role}  {sites}{flags}", markup=False)
    if not users:
        out.print("no users yet: vigil users add NAME --role admin")


@app.command("grant")
def grant(
    name: str,
    site: Annotated[list[str] | None, typer.Option("--site", help="A site to grant (repeatable).")] = None,
    all_sites: Annotated[bool, typer.Option("--all-sites", help="Every site, present and future.")] = False,
    revoke: Annotated[bool, typer.Option("--revoke", help="Withdraw the grant instead.")] = False,
    db: DbOption = None,
) -> None:
    """Let a user see and change a site's data (or every site's)."""
    if bool(site) == all_sites:
        fail("give --site S (repeatable) or --all-sites")
    with opened_store(db) as store:
        try:
            user = service.grant(store, name, None if all_sites else site, actor=system_actor(), revoke=revoke)
        except service.UserError as error:
            fail(str(error), EXIT_REJECTED)
    sites = "(all sites)" if user.all_sites else ", ".join(user.sites) or "(no sites)"
    out.print(f"{user.username} sees {sites}", markup=False)


@app.command("set-role")
def set_role(
    name: str, role: Annotated[str, typer.Argument(help="admin, analyst, technician or viewer.")], db: DbOption = None
) -> None:
    """Change a user's role."""
    with opened_store(db) as store:
        try:
            service.set_role(store, name, role, actor=system_actor())
        except service.UserError as error:
            fail(str(error), EXIT_REJECTED)
    out.print(f"{name} is now {role}", markup=False)


@app.command("set-password")
def set_password(name: str, password_stdin: PasswordStdin = False, db: DbOption = None) -> None:
    """Set a new password; the user's open sessions end."""
    password = _read_password(password_stdin)
    with opened_store(db) as store:
        try:
            service.set_password(store, name, password, actor=system_actor())
        except service.UserError as error:
            fail(str(error), EXIT_REJECTED)
    out.print(f"password of {name} changed; open sessions ended", markup=False)


@app.command("disable")
def disable(name: str, db: DbOption = None) -> None:
    """Lock a user out: sessions end, tokens stop working (until `enable`)."""
    _set_disabled(name, True, db)


@app.command("enable")
def enable(name: str, db: DbOption = None) -> None:
    """Let a disabled user in again."""
    _set_disabled(name, False, db)


def _set_disabled(name: str, disabled: bool, db: str | None) -> None:
    with opened_store(db) as store:
        try:
            service.set_disabled(store, name, disabled, actor=system_actor())
        except service.UserError as error:
            fail(str(error), EXIT_REJECTED)
    out.print(f"{name} {'disabled' if disabled else 'enabled'}", markup=False)
