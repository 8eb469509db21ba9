"""Errors as RFC 9457 problem details (`application/problem+json`), the one error body of the whole API.

Every error leaves through here: a `Problem` raised by an endpoint, FastAPI's HTTPException (401 from
web/auth.py, 404 of unknown routes, 405), request validation (422, naming the field), and anything unexpected
(500, without the exception's text: it may quote untrusted input or internals). Bodies are JSON, never HTML,
so no advisory or inventory text can be reflected as markup.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://vigil.invalid/problems/"
"""Problem types are URIs that name the kind of error; nothing is served there."""

log = logging.getLogger("vigil.web")


@dataclass(frozen=True)
class FieldError:
    """One invalid input value."""

    field: str
    """Where it is: `query.limit`, `body.status`, `header.if-match`."""
    message: str
    """Why it is refused, in one line."""


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each an application/problem+json ProblemOut."""
    return {
        status: {"description": HTTPStatus(status).phrase, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
        for status in statuses
    }


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
"""The JSON schema of every error body (ProblemOut), inlined in the OpenAPI document."""


class Problem(Exception):
    """An API error; the exception handler turns it into a problem+json response."""

    def __init__(
        self,
        status: int,
        detail: str,
        kind: str | None = None,
        errors: tuple[FieldError, ...] = (),
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or _default_kind(status)
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}


def _default_kind(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "") if status in _PHRASES else "error"


_PHRASES = {s.value for s in HTTPStatus}


def not_found(detail: str) -> Problem:
    return Problem(404, detail)


def forbidden(detail: str) -> Problem:
    return Problem(403, detail)


def bad_field(field: str, message: str, status: int = 422) -> Problem:
    """One refused input value, named: `field: message` in detail, and in `errors`."""
    return Problem(status, f"{field}: {message}", "invalid-input", (FieldError(field, message),))


def problem_body(
    status: int,
    detail: str,
    kind: str,
    instance: str | None,
    errors: tuple[FieldError, ...] = (),
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + kind,
        "title": HTTPStatus(status).phrase if status in _PHRASES else "Error",
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return body | (extra or {})


def problem_response(
    request: Request | None,
    status: int,
    detail: str,
    kind: str | None = None,
    errors: tuple[FieldError, ...] = (),
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    instance = request.url.path if request is not None else None
    body = problem_body(status, detail, kind or _default_kind(status), instance, errors, extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in location) or "request"


def _validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = tuple(
        FieldError(_field_name(item.get("loc", ())), str(item.get("msg", "invalid value"))) for item in error.errors()
    )
    first = errors[0] if errors else FieldError("request", "invalid request")
    detail = f"{first.field}: {first.message}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return problem_response(request, 422, detail, "invalid-input", errors)


def _problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Problem)
    return problem_response(request, error.status, error.detail, error.kind, error.errors, error.headers, error.extra)


def _http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    return problem_response(request, error.status_code, detail, None, (), dict(error.headers or {}))


def _unexpected(request: Request, error: Exception) -> JSONResponse:
    # The log gets the type and the path; never the message, which may hold a token or untrusted text.
    log.error("unhandled %s on %s %s", type(error).__name__, request.method, request.url.path, exc_info=False)
    return problem_response(request, 500, "internal error: the server could not answer this request")


def install_handlers(app: FastAPI) -> None:
    """Make every error of `app` a problem+json response."""
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
