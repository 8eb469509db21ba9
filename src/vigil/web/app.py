"""The FastAPI application: one open store, security headers with a strict Content-Security-Policy, request
size limits, problem+json errors, /healthz, the OpenAPI 3.1 document at /openapi.json with Swagger UI at /docs
(served from the package, no CDN), the login routes, the API under /api/v1 and the UI at /."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil import __version__
from vigil.config import Settings, load_settings
from vigil.services.health import database_reachable
from vigil.services.jobs import JobRunner
from vigil.services.store import open_store
from vigil.web.api import API_ERRORS, API_PREFIX, api_router
from vigil.web.auth import auth_router
from vigil.web.problems import install_handlers, problem_body, problem_responses

WEB_DIR = Path(__file__).resolve().parent
DOCS_STATIC = WEB_DIR / "api" / "docs_static"
UI_STATIC = WEB_DIR / "static"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
"""No inline script, no eval, nothing from another origin: injected markup cannot run."""
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
"""Swagger UI sets style attributes; scripts stay as strict as everywhere."""
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
UPLOAD_PATHS = (f"{API_PREFIX}/advisories", f"{API_PREFIX}/assets/import")
"""API routes whose body is a file (streamed, limited by max_upload_bytes)."""
UI_UPLOAD_PREFIXES = ("/import",)
"""The UI's upload forms live under /import...: they get the upload limit too."""


@dataclass(frozen=True)
class WebLimits:
    """Bounds on what a request may send."""

    max_body_bytes: int = 1024 * 1024
    """Any request body but an upload (`VIGIL_MAX_BODY_BYTES`)."""
    max_upload_bytes: int = 512 * 1024 * 1024
    """An inventory upload (`VIGIL_MAX_UPLOAD_BYTES`); advisories are bounded by VIGIL_MAX_DOCUMENT_BYTES."""


def load_limits() -> WebLimits:
    defaults = WebLimits()
    return WebLimits(
        int(os.environ.get("VIGIL_MAX_BODY_BYTES", defaults.max_body_bytes)),
        int(os.environ.get("VIGIL_MAX_UPLOAD_BYTES", defaults.max_upload_bytes)),
    )


class _TooLarge(StarletteHTTPException):
    """A body that outgrew its limit while arriving: an HTTPException, so that whoever reads the body (FastAPI's
    JSON parsing, an upload's stream) lets it through to the problem handler as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class GuardMiddleware:
    """Security headers on every response; `no-store` on API answers; request bodies over the limit refused
    (413, before or while they arrive); NUL characters in the URL refused (422: no database stores them)."""

    def __init__(self, app: ASGIApp, limits: WebLimits, max_document_bytes: int) -> None:
        self.app, self.limits, self.max_document_bytes = app, limits, max_document_bytes

    def _limit(self, path: str) -> int:
        if path == f"{API_PREFIX}/advisories":
            return self.max_document_bytes
        if path in UPLOAD_PATHS or path.startswith(UI_UPLOAD_PREFIXES):
            return self.limits.max_upload_bytes
        return self.limits.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        csp = (DOCS_CSP if path == "/docs" else CSP).encode()
        extra = [(b"content-security-policy", csp), *SECURITY_HEADERS]
        if path.startswith(API_PREFIX):
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        raw_query: bytes = scope.get("query_string", b"")
        if b"%00" in raw_query or b"\x00" in raw_query or "\x00" in path or b"%00" in scope.get("raw_path", b""):
            await self._problem(scope, send_with_headers, 422, "the URL must not contain NUL characters")
            return
        limit = self._limit(path)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._problem(scope, send_with_headers, 413, f"the request body is larger than {limit} bytes")
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        await self.app(scope, counted, send_with_headers)

    async def _problem(self, scope: Scope, send: Send, status: int, detail: str) -> None:
        kind = "too-large" if status == 413 else "invalid-input"
        body = problem_body(status, detail, kind, None)
        response = JSONResponse(body, status_code=status, media_type="application/problem+json")
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vigil API</title>
<link rel="stylesheet" href="/api-docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api-docs/swagger-ui-bundle.js"></script><script src="/api-docs/init.js"></script></body></html>
"""


def create_app(settings: Settings | None = None, limits: WebLimits | None = None) -> FastAPI:
    """The application over one store, opened (and migrated) here and closed at shutdown with the job runner."""
    settings = settings or load_settings()
    limits = limits or load_limits()
    store = open_store(settings)
    jobs = JobRunner(store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.shutdown()
        store.close()

    app = FastAPI(
        title="vigil",
        version=__version__,
        description="Medical-device security advisories turned into verified, per-device action. docs/api.md",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.jobs = jobs
    app.state.limits = limits
    install_handlers(app)
    app.add_middleware(GuardMiddleware, limits=limits, max_document_bytes=settings.max_document_bytes)

    @app.get(
        "/healthz",
        tags=["health"],
        summary="Liveness and database reachability",
        responses={503: {"description": "The database is unreachable"}},
    )
    def healthz() -> JSONResponse:
        ok = database_reachable(store)
        body: dict[str, Any] = {"status": "ok" if ok else "unavailable", "version": __version__}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/docs", include_in_schema=False)
    def docs(_: Request) -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE)

    app.mount("/api-docs", StaticFiles(directory=DOCS_STATIC), name="api-docs")
    if UI_STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=UI_STATIC), name="static")
    app.include_router(auth_router)
    app.include_router(api_router())
    _include_ui(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with every API operation's errors stated as they are: problem+json bodies (FastAPI
    would describe its own 422 body, which the app replaces)."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        errors = problem_responses(*API_ERRORS)
        for path, operations in document.get("paths", {}).items():
            if not path.startswith(API_PREFIX):
                continue
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, spec in errors.items():
                    responses[str(status)] = spec
        schemas = document.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = document
    return app.openapi_schema


def _include_ui(app: FastAPI) -> None:
    """The UI router at / (after the API, whose paths it must not shadow)."""
    if importlib.util.find_spec("vigil.web.ui") is None:
        return
    from vigil.web.ui import router as ui_router
    from vigil.web.ui import templates

    app.state.templates = templates
    app.include_router(ui_router)
