"""Cursor pagination, the same for every list: `?limit=N&cursor=C`, answered by
`{"items": [...], "next_cursor": C | null, "limit": N}` and a `Link: <...>; rel="next"` header.

A cursor is opaque to clients (URL-safe base64 of a small JSON value). Lists keyed for scale (findings, assets,
audit entries) put their last key in it (keyset: a page costs the same at the millionth row); small lists
(advisories, decisions, priorities) put an offset. Either way the client only passes it back.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from vigil.web.problems import bad_field

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
"""Hard maximum page size: no request reads an unbounded list."""
MAX_CURSOR = 2048


@dataclass(frozen=True)
class PageRequest:
    """What the client asked for."""

    limit: int
    """Items per page, 1..MAX_LIMIT."""
    cursor: Any
    """The decoded cursor (a list or an int), None for the first page."""


def encode_cursor(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> Any:
    if len(text) > MAX_CURSOR:
        raise bad_field("query.cursor", "not a cursor this API issued")
    try:
        padded = text + "=" * (-len(text) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise bad_field("query.cursor", "not a cursor this API issued") from None


LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (at most {MAX_LIMIT}).")]
CursorQuery = Annotated[
    str | None, Query(max_length=MAX_CURSOR, description="`next_cursor` of the previous page; omit for the first.")
]


def page_request(limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None) -> PageRequest:
    """FastAPI dependency: the page parameters, checked."""
    return PageRequest(limit, decode_cursor(cursor) if cursor else None)


def offset_of(page: PageRequest) -> int:
    """The offset an offset cursor carries (0 for the first page)."""
    if page.cursor is None:
        return 0
    if not isinstance(page.cursor, int) or isinstance(page.cursor, bool) or page.cursor < 0:
        raise bad_field("query.cursor", "not a cursor of this list")
    return page.cursor


class Page(BaseModel):
    """One page of a list."""

    items: list[dict[str, Any]]
    """The items, in the list's order."""
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page."""
    limit: int
    """The page size used."""


class FastJSON(JSONResponse):
    """JSON rendered by orjson: lists are what the API serves most, and the services' dicts are JSON-ready
    already, so they are written as they are (FastAPI's validation and encoding of them cost more than the
    query; bench/api.py)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def page_response(request: Request, items: list[dict[str, Any]], limit: int, next_key: Any | None) -> FastJSON:
    """The page (the Page schema), plus a `Link` header to the next page when there is one."""
    cursor = encode_cursor(next_key) if next_key is not None else None
    headers = {}
    if cursor is not None:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"] + [("cursor", cursor)]
        headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
    return FastJSON({"items": items, "next_cursor": cursor, "limit": limit}, headers=headers)


def offset_page(request: Request, page: PageRequest, fetched: list[dict[str, Any]]) -> FastJSON:
    """A page of an offset-paginated list; `fetched` is up to limit + 1 items from the page's offset."""
    start = offset_of(page)
    more = len(fetched) > page.limit
    return page_response(request, fetched[: page.limit], page.limit, start + page.limit if more else None)
