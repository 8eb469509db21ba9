"""Who is asking, and may they: sessions, API tokens, CSRF, login/logout, the token endpoints.

The app keeps the open `Store` at `request.app.state.store` (set by `create_app`), and optionally
`AuthSettings` at `request.app.state.auth_settings` (read from the environment otherwise).
Dependencies raise `HTTPException`; the app's problem handler turns them into application/problem+json.
"""

from __future__ import annotations

import html
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from vigil.services import access
from vigil.services import users as users_service
from vigil.services.store import Store
from vigil.services.users import AuthSettings, LoginFailed, LoginThrottled, UserAccess, UserError
from vigil.web.problems import bad_field, problem_response

SESSION_COOKIE = "vigil_session"
LOGIN_CSRF_COOKIE = "vigil_login_csrf"
"""Double-submit token of the login form: no session exists yet, so login CSRF is stopped this way."""
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Principal:
    """The authenticated user of one request."""

    user_id: int
    """user_account.id."""
    username: str
    """The login name; also the audit actor."""
    role: str
    """'admin' | 'analyst' | 'technician' | 'viewer' (see vigil.services.access)."""
    site_ids: frozenset[int] | None
    """Granted site ids; None means every site (an all-sites grant, or the admin role)."""
    via: Literal["session", "token"]
    """How the request authenticated: a browser session cookie or an `Authorization: Bearer` token."""

    def can(self, permission: str) -> bool:
        return access.can(self.role, permission)

    def sees_site(self, site_id: int) -> bool:
        return self.site_ids is None or site_id in self.site_ids


def _principal(user: UserAccess, via: Literal["session", "token"]) -> Principal:
    return Principal(user.user_id, user.username, user.role, user.site_ids, via)


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def auth_settings(request: Request) -> AuthSettings:
    """The app's AuthSettings, read from the environment once and cached on the app."""
    settings: AuthSettings | None = getattr(request.app.state, "auth_settings", None)
    if settings is None:
        settings = users_service.load_auth_settings()
        request.app.state.auth_settings = settings
    return settings


def _from_trusted_proxy(request: Request, settings: AuthSettings) -> bool:
    return request.client is not None and request.client.host in settings.trusted_proxies


def client_address(request: Request) -> str:
    """The client's address: the peer, or the nearest X-Forwarded-For hop when the peer is a trusted proxy."""
    settings = auth_settings(request)
    peer = request.client.host if request.client is not None else "unknown"
    if _from_trusted_proxy(request, settings):
        hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
        if hops:
            return hops[-1][:100]
    return peer[:100]


def is_https(request: Request) -> bool:
    """HTTPS as the browser sees it: the URL scheme, or X-Forwarded-Proto from a trusted proxy."""
    if _from_trusted_proxy(request, auth_settings(request)):
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if forwarded:
            return forwarded == "https"
    return request.url.scheme == "https"


def secure_cookies(request: Request) -> bool:
    configured = auth_settings(request).secure_cookies
    return is_https(request) if configured is None else configured


def _unauthorized(detail: str = "Log in, or send an API token as `Authorization: Bearer <token>`.") -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": 'Bearer realm="vigil"'})


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorized("The Authorization header must be `Bearer <token>`.")
    return value.strip()


def current_principal(request: Request) -> Principal:
    """The request's user: a Bearer token if one is sent (it must be valid), else the session cookie; 401
    otherwise. Caches the result on `request.state` so several dependencies resolve it once."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    store, settings = store_of(request), auth_settings(request)
    token = _bearer(request)
    principal: Principal | None = None
    if token is not None:
        user = users_service.token_access(store, token)
        if user is None:
            raise _unauthorized("The API token is unknown, revoked or expired.")
        principal = _principal(user, "token")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            found = users_service.session_access(store, cookie, settings)
            if found is not None:
                principal = _principal(found.user, "session")
                request.state.csrf_token = found.csrf_token
    if principal is None:
        raise _unauthorized()
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def optional_principal(request: Request) -> Principal | None:
    """The request's user, or None (the UI redirects anonymous visitors to /login instead of a 401)."""
    try:
        return current_principal(request)
    except HTTPException:
        return None


def csrf_token(request: Request) -> str:
    """The session's CSRF token for forms and htmx headers (the Jinja2 helper); "" without a session."""
    token: str | None = getattr(request.state, "csrf_token", None)
    if token is None:
        principal = optional_principal(request)
        token = getattr(request.state, "csrf_token", None) if principal is not None else None
    return token or ""


async def csrf_protect(request: Request, principal: CurrentPrincipal) -> Principal:
    """For unsafe methods on a cookie session: the session's CSRF token must come back, as the `X-CSRF-Token`
    header (htmx) or the `csrf_token` form field. Token-authenticated requests are exempt (no ambient
    credential a third-party page could ride on)."""
    if request.method not in UNSAFE_METHODS or principal.via == "token":
        return principal
    expected = getattr(request.state, "csrf_token", None) or ""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not expected or sent is None or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong: reload the page and try again.")
    return principal


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in {"application/x-www-form-urlencoded", "multipart/form-data"}


def require(permission: str) -> Callable[..., Any]:
    """A dependency: the Principal when its role holds `permission` (and CSRF passes for unsafe cookie
    requests), else 403. Site checks are the caller's: `principal.sees_site(id)` or 404."""
    if permission not in access.ALL_PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def dependency(principal: Annotated[Principal, Depends(csrf_protect)]) -> Principal:
        if not principal.can(permission):
            raise HTTPException(status_code=403, detail=f"Your role ({principal.role}) may not {permission}.")
        return principal

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency


def visible_site_ids(principal: Principal, session: Session) -> list[int]:
    """Ids of the existing sites the principal may see, ascending."""
    return access.visible_site_ids(principal.site_ids, session)


# ---------------------------------------------------------------------------------------------- routes

auth_router = APIRouter(tags=["auth"])


def _safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect to another origin (`//evil`, `/\\evil`, `https://...`)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\n" in target:
        return "/"
    return target


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _login_page(request: Request, csrf: str, next_path: str, error: str | None, status: int) -> Response:
    """The app's `login.html` template when the UI provides one, else a plain built-in form."""
    templates = getattr(request.app.state, "templates", None)
    context = {"request": request, "csrf_token": csrf, "next": next_path, "error": error}
    if templates is not None:
        try:
            templates.get_template("login.html")
        except Exception:  # the UI has no login template (yet): fall back to the built-in form
            templates = None
    if templates is not None:
        response: Response = templates.TemplateResponse(request, "login.html", context, status_code=status)
    else:
        response = HTMLResponse(_builtin_login(csrf, next_path, error), status_code=status)
    return response


def _builtin_login(csrf: str, next_path: str, error: str | None) -> str:
    message = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in · vigil</title></head><body>'
        f'<main><h1>vigil</h1>{message}<form method="post" action="/login">'
        f'<input type="hidden" name="csrf_token" value="{html.escape(csrf)}">'
        f'<input type="hidden" name="next" value="{html.escape(next_path)}">'
        '<label>Username <input name="username" autocomplete="username" required></label>'
        '<label>Password <input name="password" type="password" autocomplete="current-password" required></label>'
        '<button type="submit">Log in</button></form></main></body></html>'
    )


def _set_login_csrf(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        value,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )


@auth_router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = _login_page(request, csrf, _safe_next(next), None, 200)
    _set_login_csrf(request, response, csrf)
    return response


@auth_router.post("/login", include_in_schema=False)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Form login: 303 to `next` with the session cookie; 401 with the form again (same message whether or not
    the user exists); 429 with Retry-After while throttled; 403 without the login form's CSRF token."""
    next_path = _safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf_token.encode(), expected.encode()):
        return problem_response(request, 403, "Login form expired (CSRF token missing or wrong): reload and try again.")
    store, settings = store_of(request), auth_settings(request)
    try:
        new = users_service.login(store, username, password, client_address(request), settings)
    except LoginThrottled as throttled:
        seconds = max(1, math.ceil(throttled.retry_after))
        headers = {"Retry-After": str(seconds)}
        detail = f"Too many failed logins: try again in {seconds} s."
        if _wants_html(request):
            page = _login_page(request, expected, next_path, detail, 429)
            page.headers.update(headers)
            return page
        return problem_response(request, 429, detail, headers=headers)
    except LoginFailed:
        detail = "Wrong username or password."
        if _wants_html(request):
            return _login_page(request, expected, next_path, detail, 401)
        return problem_response(request, 401, detail)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=int(settings.session_absolute.total_seconds()),
        path="/",
        httponly=True,
        samesite=settings.same_site,
        secure=secure_cookies(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@auth_router.post("/logout", include_in_schema=False)
def logout(request: Request, principal: Annotated[Principal, Depends(csrf_protect)]) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if principal.via == "session" and cookie:
        users_service.logout(store_of(request), cookie, client_address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite=auth_settings(request).same_site)
    return response


class TokenCreate(BaseModel):
    """Body of POST /api/v1/tokens."""

    name: str = Field(default="api", min_length=1, max_length=100, description="A label to recognise it by.")
    expires: date | None = Field(default=None, description="Last day the token works (UTC); none: no expiry.")
    username: str | None = Field(default=None, max_length=200, description="Admins: another user's token.")


class TokenCreated(BaseModel):
    """The new token: `token` is shown this once and stored only as its SHA-256."""

    id: int
    name: str
    username: str
    token: str
    expires_at: datetime | None


class TokenOut(BaseModel):
    """An API token as listed: never the token itself."""

    id: int
    name: str
    username: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def _token_out(info: users_service.TokenInfo) -> TokenOut:
    return TokenOut(
        id=info.id,
        name=info.name,
        username=info.username,
        created_at=info.created_at,
        expires_at=info.expires_at,
        revoked_at=info.revoked_at,
        last_used_at=info.last_used_at,
    )


def _minting_principal(principal: Annotated[Principal, Depends(require(access.TOKENS_OWN))]) -> Principal:
    # A leaked token must not be able to mint fresh, longer-lived ones.
    if principal.via != "session":
        raise HTTPException(status_code=403, detail="API tokens are created from a browser session or the CLI.")
    return principal


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


@auth_router.post("/api/v1/tokens", status_code=201, response_model=TokenCreated)
def create_token(
    request: Request, body: TokenCreate, principal: Annotated[Principal, Depends(_minting_principal)]
) -> TokenCreated:
    owner = body.username or principal.username
    if owner != principal.username and not principal.can(access.USERS_ADMIN):
        raise HTTPException(status_code=403, detail="Only an admin creates tokens for another user (username).")
    expires = _end_of_day(body.expires) if body.expires is not None else None
    try:
        new = users_service.create_token(store_of(request), owner, body.name, expires, actor=principal.username)
    except users_service.UnknownUser as error:
        raise bad_field("body.username", str(error)) from None
    except UserError as error:
        field = "body.expires" if "expiry" in str(error) else "body.name"
        raise bad_field(field, str(error)) from None
    return TokenCreated(id=new.id, name=new.name, username=new.username, token=new.token, expires_at=new.expires_at)


@auth_router.get("/api/v1/tokens", response_model=list[TokenOut])
def list_tokens(
    request: Request, principal: Annotated[Principal, Depends(require(access.TOKENS_OWN))]
) -> list[TokenOut]:
    """Your own tokens (an admin: everyone's)."""
    owner = None if principal.can(access.USERS_ADMIN) else principal.user_id
    return [_token_out(info) for info in users_service.list_tokens(store_of(request), owner)]


@auth_router.delete("/api/v1/tokens/{token_id}", status_code=204)
def revoke_token(
    request: Request,
    token_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    principal: Annotated[Principal, Depends(require(access.TOKENS_OWN))],
) -> Response:
    """Revoke one of your tokens (an admin: anyone's); 404 for a token you may not see."""
    owner = None if principal.can(access.USERS_ADMIN) else principal.user_id
    try:
        users_service.revoke_token(store_of(request), token_id, actor=principal.username, owner_user_id=owner)
    except users_service.UnknownToken:
        raise HTTPException(status_code=404, detail=f"No API token {token_id}.") from None
    return Response(status_code=204)


class Me(BaseModel):
    """The authenticated user as the API sees them."""

    username: str
    role: str
    all_sites: bool
    site_ids: list[int]
    permissions: list[str]
    via: str


@auth_router.get("/api/v1/me", response_model=Me)
def me(principal: CurrentPrincipal) -> Me:
    return Me(
        username=principal.username,
        role=principal.role,
        all_sites=principal.site_ids is None,
        site_ids=sorted(principal.site_ids or ()),
        permissions=[name for name in access.ALL_PERMISSIONS if principal.can(name)],
        via=principal.via,
    )
