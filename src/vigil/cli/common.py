"""What every command shares: database options, opening the store, output, exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from vigil.config import load_settings
from vigil.services.store import Store, open_store
from vigil.store.db import DatabaseError

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_CONFLICT = 0, 1, 2, 3
"""EXIT_CONFLICT: another writer changed the record since it was read (optimistic locking): reload, retry."""

# Piped output is read by scripts and pagers: don't wrap tables at Rich's 80-column default.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="VIGIL_DATABASE_URL",
        help="Database URL (default sqlite:///./vigil.db), e.g. postgresql://user@host/db.",
        show_default=False,
    ),
]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table for people, json for scripts.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, only errors and the summary.")]


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One line on stderr, then exit."""
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


@contextmanager
def opened_store(db: str | None, max_document_bytes: int | None = None) -> Iterator[Store]:
    try:
        store = open_store(load_settings(db, max_document_bytes))
    except DatabaseError as error:
        fail(str(error))
    try:
        yield store
    finally:
        store.close()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def progress_enabled(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()
