"""What every UI page shares: the Jinja2 environment (autoescaped: all advisory and inventory text is
untrusted), who is asking (anonymous visitors are sent to /login, not given a 401), the visible sites, and
the HTML error pages. Pages call services only."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from vigil.response.states import JUSTIFICATIONS, RESPONSE_STATUSES
from vigil.services import access
from vigil.services.site_scope import SiteRef, visible_sites
from vigil.services.store import Store
from vigil.web.auth import Principal, csrf_token, optional_principal, require, store_of

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


def _json_pretty(value: Any) -> str:
    """JSON for <pre> blocks (escaped by autoescape like any other text)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _when(value: str | None) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM` (UTC)."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


@jinja2.pass_context
def _query(context: Any, **changes: Any) -> str:
    """The current query string with some parameters replaced (None removes one): pagers and filter links."""
    request: Request = context["request"]
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None]
    return "?" + urlencode(params) if params else "?"


def _web_url(value: str | None) -> str | None:
    """An advisory's URL as a link target only when it is http(s): never `javascript:` or `data:`."""
    if not value:
        return None
    text = value.strip()
    return text if text.lower().startswith(("https://", "http://")) and len(text) < 2000 else None


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its name: nothing untrusted is ever rendered raw
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty"] = _json_pretty
    env.filters["when"] = _when
    env.filters["web_url"] = _web_url
    env.filters["urlpart"] = lambda value: quote(str(value), safe="")
    env.globals["RESPONSE_STATUSES"] = RESPONSE_STATUSES
    env.globals["JUSTIFICATIONS"] = JUSTIFICATIONS
    env.globals["query"] = _query
    return env


templates = Jinja2Templates(env=_environment())
"""The UI's templates; the app sets `app.state.templates = templates` so /login renders `login.html` too."""


# Who may post a form: the role holds the permission and the form carried the session's CSRF token.
Reader = Annotated[Principal, Depends(require(access.READ))]
StatusSetter = Annotated[Principal, Depends(require(access.FINDINGS_STATUS))]
Reviewer = Annotated[Principal, Depends(require(access.FINDINGS_REVIEW))]
Completer = Annotated[Principal, Depends(require(access.ACTIONS_COMPLETE))]
Exporter = Annotated[Principal, Depends(require(access.EXPORTS))]


def store(request: Request) -> Store:
    return store_of(request)


def viewer(request: Request, permission: str = access.READ) -> Principal | Response:
    """The logged-in user holding `permission`; else a redirect to /login (anonymous) or a 403 page."""
    principal = optional_principal(request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if not principal.can(permission):
        return error_page(request, principal, 403, f"Your role ({principal.role}) may not {permission}.")
    return principal


def sites_of(request: Request, principal: Principal) -> list[SiteRef]:
    """The sites the user may see, by name."""
    return sorted(visible_sites(store(request), principal.site_ids), key=lambda s: s.name)


def render(
    request: Request, principal: Principal | None, name: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    base: dict[str, Any] = {"principal": principal, "path": request.url.path, "csrf_token": "", "site_ids": {}}
    if principal is not None:
        base["csrf_token"] = csrf_token(request)
        base["site_ids"] = {s.name: s.id for s in sites_of(request, principal)}
    response: HTMLResponse = templates.TemplateResponse(request, name, base | context, status_code=status)
    return response


def error_page(request: Request, principal: Principal | None, status: int, message: str) -> HTMLResponse:
    return render(request, principal, "error.html", {"status": status, "message": message}, status)


def not_found(request: Request, principal: Principal, what: str) -> HTMLResponse:
    """404 for what does not exist and for what the user may not see alike."""
    return error_page(request, principal, 404, f"{what}: not found.")


def see_other(path: str, **params: str) -> RedirectResponse:
    """Post/redirect/get back to a page, with a flash message in the query string."""
    return RedirectResponse(path + ("?" + urlencode(params) if params else ""), status_code=303)


def can(principal: Principal, permission: str) -> bool:
    return principal.can(permission)
