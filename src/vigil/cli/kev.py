"""`vigil kev import FILE`: CISA's Known Exploited Vulnerabilities catalog (JSON feed or CSV export)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import EXIT_REJECTED, DbOption, fail, opened_store
from vigil.cli.reference import ByOption, actor_of, print_report
from vigil.services.reference_import import import_kev
from vigil.sources.reference_files import ReferenceFileError

app = typer.Typer(help="CISA's Known Exploited Vulnerabilities catalog: a listed CVE is actively exploited.")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="known_exploited_vulnerabilities.json or .csv (gzip allowed).")],
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Import (upsert) the catalog. Exit 1 if the file or any row was rejected; the good rows still land."""
    if not file.is_file():
        fail(f"{file}: no such file")
    with opened_store(db) as store:
        try:
            report = import_kev(store, file, actor_of(by))
        except ReferenceFileError as error:
            fail(f"{file}: {error}", EXIT_REJECTED)
    print_report(report)
