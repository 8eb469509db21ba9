"""`vigil serve`: the web UI and the REST API (uvicorn), on 127.0.0.1:8000 unless told otherwise.

Several processes (`--workers N`, about one per core) each bind the port with SO_REUSEPORT, so the kernel
spreads new connections over them. uvicorn's own `workers=N` shares one listening socket instead, and the
process that wakes first accepts every waiting connection: 20 keep-alive clients connecting at once all
landed on one process while the other idled (docs/api.md, Benchmark).
"""

from __future__ import annotations

import os
import signal
import socket
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli.common import EXIT_USAGE, DbOption, fail, out
from vigil.config import load_settings
from vigil.store.db import DatabaseError

if TYPE_CHECKING:
    from fastapi import FastAPI

DEFAULT_THREADS = 2
"""Requests one process works on at once. FastAPI runs sync endpoints on a pool of 40 threads, but the work is
mostly Python under one GIL: 20 at once only switch more and keep more SQLite page caches cold (100 requests
a second against 170 with one or two; docs/api.md)."""


class _ThreadLimit:
    """The app, with the thread pool's size set once the event loop runs (anyio's limiter lives in it)."""

    def __init__(self, app: FastAPI, threads: int) -> None:
        self.app = app
        self.threads = threads

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = self.threads
        await self.app(scope, receive, send)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Server processes (about one per CPU core).")
    ] = 1,
    threads: Annotated[
        int, typer.Option("--threads", min=1, max=64, help="Requests each process works on at once.")
    ] = DEFAULT_THREADS,
    db: DbOption = None,
) -> None:
    """Serve the web UI at / and the REST API at /api/v1 (OpenAPI at /openapi.json, docs at /docs)."""
    from vigil.web.app import create_app  # imported on use: every other command starts faster without the web stack

    settings = load_settings(db)
    try:
        app = create_app(settings)  # opens (and migrates) the store once, before any worker starts
    except DatabaseError as error:
        fail(str(error), EXIT_USAGE)
    shown = f"[{host}]" if ":" in host else host
    processes = f", {workers} processes" if workers > 1 else ""
    out.print(
        f"vigil {app.version}: serving http://{shown}:{port}/ (API docs: http://{shown}:{port}/docs){processes}",
        markup=False,
    )
    if workers == 1:
        _run(_ThreadLimit(app, threads), _bound(host, port, reuse_port=False))
        return
    app.state.store.close()
    _supervise([(settings.database_url, host, port, threads) for _ in range(workers)])


def _bound(host: str, port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        fail(f"cannot listen on {host}:{port}: {error.strerror}", EXIT_USAGE)
    sock.set_inheritable(True)
    return sock


def _run(app: Any, sock: socket.socket) -> None:
    import uvicorn

    config = uvicorn.Config(app, log_level="info", server_header=False, proxy_headers=False)
    uvicorn.Server(config).run(sockets=[sock])


def _worker(database_url: str, host: str, port: int, threads: int) -> None:
    """One server process (started by `_supervise`): its own app and store, its own socket on the port."""
    from vigil.web.app import create_app

    _run(_ThreadLimit(create_app(load_settings(database_url)), threads), _bound(host, port, reuse_port=True))


def _supervise(arguments: list[tuple[str, str, int, int]]) -> None:
    """Start one process per argument tuple; stop them all on SIGINT/SIGTERM, or when one of them ends."""
    import multiprocessing
    import multiprocessing.connection

    context = multiprocessing.get_context("spawn")  # a fresh interpreter each: no engine or thread forked
    children = [context.Process(target=_worker, args=a, name=f"vigil-serve-{n}") for n, a in enumerate(arguments)]

    def stop(*_: Any) -> None:
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)  # uvicorn's graceful shutdown: jobs are marked failed

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.start()
    multiprocessing.connection.wait([c.sentinel for c in children])  # the first to end (or be stopped) ...
    stop()  # ... ends the rest: half a server would answer some requests and refuse others
    for child in children:
        child.join()
    failed = [c.exitcode for c in children if c.exitcode not in (0, -signal.SIGTERM)]
    if failed:
        raise typer.Exit(1)
