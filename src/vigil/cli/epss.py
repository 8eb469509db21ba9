"""`vigil epss import FILE`: FIRST's daily EPSS scores (epss_scores-YYYY-MM-DD.csv.gz)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import EXIT_REJECTED, DbOption, fail, opened_store
from vigil.cli.reference import ByOption, actor_of, print_report
from vigil.services.reference_import import import_epss
from vigil.sources.reference_files import ReferenceFileError

app = typer.Typer(help="FIRST's EPSS scores: the probability a CVE is exploited in the next 30 days.")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="epss_scores-YYYY-MM-DD.csv or .csv.gz.")],
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Import (upsert) the scores; a score never goes back to an older score_date. Exit 1 if the file or any row
    was rejected; the good rows still land."""
    if not file.is_file():
        fail(f"{file}: no such file")
    with opened_store(db) as store:
        try:
            report = import_epss(store, file, actor_of(by))
        except ReferenceFileError as error:
            fail(f"{file}: {error}", EXIT_REJECTED)
    print_report(report)
