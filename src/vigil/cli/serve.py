"""`vigil serve`: the web UI and the REST API (uvicorn), on 127.0.0.1:8000 unless told otherwise."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from vigil import __version__
from vigil.cli.common import EXIT_USAGE, DbOption, fail, out
from vigil.config import load_settings
from vigil.store.db import DatabaseError


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Server processes (about one per CPU core).")
    ] = 1,
    db: DbOption = None,
) -> None:
    """Serve the web UI at / and the REST API at /api/v1 (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn  # imported on use: every other command starts faster without the web stack

    from vigil.services.store import open_store
    from vigil.web.app import create_app

    settings = load_settings(db)
    shown = f"[{host}]" if ":" in host else host
    banner = f"vigil {__version__}: serving http://{shown}:{port}/ (API docs: http://{shown}:{port}/docs)"
    options = {"host": host, "port": port, "log_level": "info", "server_header": False, "proxy_headers": False}
    if workers == 1:
        try:
            app = create_app(settings)
        except DatabaseError as error:
            fail(str(error), EXIT_USAGE)
        out.print(banner, markup=False)
        uvicorn.run(app, **options)  # type: ignore[arg-type]
        return
    # Several processes: each builds its own app (uvicorn imports the factory in every worker), after the
    # schema is migrated once here rather than by N processes racing. Jobs live in the database, so any worker
    # answers for a job another one runs (services/jobs.py).
    try:
        open_store(settings).close()
    except DatabaseError as error:
        fail(str(error), EXIT_USAGE)
    os.environ["VIGIL_DATABASE_URL"] = settings.database_url
    out.print(f"{banner}, {workers} processes", markup=False)
    uvicorn.run("vigil.web.app:create_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]
