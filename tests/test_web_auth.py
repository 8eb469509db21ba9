"""The web side of users and access: login, cookies, sessions, CSRF, throttling, API tokens, roles, sites.

A minimal FastAPI app is built from `auth_router` plus three probe routes that use `require` and
`sees_site` the way the real API does; the last tests run the same checks through `create_app`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from vigil.services import users as service
from vigil.services.store import Store
from vigil.store import schema as t
from vigil.store.db import transaction
from vigil.store.inventory import site_ids
from vigil.web.auth import (
    CSRF_HEADER,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Principal,
    auth_router,
    csrf_token,
    current_principal,
    require,
    visible_site_ids,
)
from vigil.web.problems import install_handlers, not_found

PASSWORD = "correct horse battery staple"
SITES = ("North", "South")


def build_app(store: Store, settings: service.AuthSettings | None = None) -> FastAPI:
    app = FastAPI()
    install_handlers(app)
    app.state.store = store
    app.state.auth_settings = settings or service.AuthSettings()
    app.include_router(auth_router)

    @app.get("/probe/read")
    def read(principal: Annotated[Principal, Depends(require("read"))]) -> dict[str, object]:
        with store.sessions() as session:
            return {"user": principal.username, "sites": visible_site_ids(principal, session)}

    @app.post("/probe/status")
    def status(principal: Annotated[Principal, Depends(require("findings.status"))]) -> dict[str, str]:
        return {"ok": principal.username}

    @app.get("/probe/sites/{site_id}")
    def site(site_id: int, principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, int]:
        if not principal.sees_site(site_id):
            raise not_found(f"no site {site_id}")
        return {"site": site_id}

    @app.get("/probe/csrf")
    def csrf(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request)}

    return app


@pytest.fixture
def sites(store: Store) -> dict[str, int]:
    with transaction(store.sessions) as session:
        return site_ids(session, SITES, create=True)


def add(store: Store, name: str, role: str, sites: list[str] | None = None, all_sites: bool = False) -> None:
    service.add_user(store, name, role, PASSWORD, actor="test")
    if sites:
        service.grant(store, name, sites, actor="test")
    if all_sites:
        service.grant(store, name, None, actor="test")


@pytest.fixture
def client(store: Store, sites: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(build_app(store), follow_redirects=False) as test_client:
        yield test_client


def login(
    client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/probe/read", **headers: str
) -> Any:
    form = client.get("/login", headers=headers)
    assert form.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert match is not None
    # The form's cookie is Secure when the app believes it is on HTTPS; the test client talks plain http.
    client.cookies.set(LOGIN_CSRF_COOKIE, match.group(1))
    data = {"username": username, "password": password, "csrf_token": match.group(1), "next": next_path}
    return client.post("/login", data=data, headers=headers)


def session_csrf(client: TestClient) -> str:
    token = client.get("/probe/csrf").json()["token"]
    assert token
    return str(token)


def test_login_sets_a_session_cookie_with_safe_flags(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst", ["North"])
    response = login(client, "alice")
    assert response.status_code == 303
    assert response.headers["location"] == "/probe/read"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "samesite", "max-age"} <= flags
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in flags  # plain http, no configuration: a Secure cookie would never come back
    raw = cookie.split(";")[0].split("=", 1)[1]
    with store.sessions() as session:
        stored = session.scalars(select(t.UserSession.token_hash)).all()
    assert stored == [service.sha256(raw)]  # only the hash is kept
    assert client.get("/probe/read").json() == {"user": "alice", "sites": [store_site(store, "North")]}


def store_site(store: Store, name: str) -> int:
    with store.sessions() as session:
        return site_ids(session, [name], create=False)[name]


@pytest.mark.parametrize(
    ("settings", "headers", "secure"),
    [
        (service.AuthSettings(secure_cookies=True), {}, True),
        (service.AuthSettings(trusted_proxies=frozenset({"testclient"})), {"X-Forwarded-Proto": "https"}, True),
        (service.AuthSettings(), {"X-Forwarded-Proto": "https"}, False),  # an untrusted peer's header is ignored
        (service.AuthSettings(same_site="strict", secure_cookies=True), {}, True),
    ],
)
def test_secure_flag_follows_configuration_and_trusted_proxy(
    store: Store, sites: dict[str, int], settings: service.AuthSettings, headers: dict[str, str], secure: bool
) -> None:
    add(store, "alice", "analyst", ["North"])
    with TestClient(build_app(store, settings), follow_redirects=False) as test_client:
        response = login(test_client, "alice", **headers)
    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
    assert ("; secure" in cookie.lower()) is secure
    assert f"samesite={settings.same_site}" in cookie.lower()


def test_failed_login_says_the_same_for_unknown_users_and_wrong_passwords(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst")
    wrong = login(client, "alice", "not the right password")
    unknown = login(client, "mallory", "not the right password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == unknown.headers["content-type"] == "application/problem+json"
    assert wrong.json()["detail"] == unknown.json()["detail"] == "Wrong username or password."
    assert SESSION_COOKIE not in client.cookies
    browser = login(client, "alice", "not the right password", accept="text/html")
    assert browser.status_code == 401
    assert "Wrong username or password." in browser.text


def test_login_is_throttled_per_username_with_retry_after(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst")
    codes = [login(client, "alice", f"wrong password {n}").status_code for n in range(service.USER_FREE_FAILURES)]
    assert codes == [401] * service.USER_FREE_FAILURES
    throttled = login(client, "alice")  # even the right password waits
    assert throttled.status_code == 429
    assert throttled.headers["content-type"] == "application/problem+json"
    assert 1 <= int(throttled.headers["retry-after"]) <= service.BACKOFF_BASE.total_seconds()
    # An unknown name backs off the same way: throttling does not reveal who exists.
    for n in range(service.USER_FREE_FAILURES):
        assert login(client, "nobody", f"wrong password {n}").status_code == 401
    assert login(client, "nobody").status_code == 429


def test_login_is_throttled_per_client_address(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst")
    for n in range(service.ADDRESS_FREE_FAILURES):
        assert login(client, f"user{n}", "wrong password here").status_code == 401
    assert login(client, "alice").status_code == 429  # a spray from one address stops every name


def test_login_refused_without_the_login_forms_csrf_token(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst")
    client.get("/login")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_login_never_redirects_off_site(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = login(client, "alice", next_path=target)
        assert response.status_code == 303
        assert response.headers["location"] == "/"


def test_unsafe_cookie_request_needs_the_csrf_token(store: Store, client: TestClient) -> None:
    add(store, "tech", "technician", ["North"])
    assert login(client, "tech").status_code == 303
    refused = client.post("/probe/status")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "CSRF" in refused.json()["detail"]
    assert client.post("/probe/status", headers={CSRF_HEADER: "wrong"}).status_code == 403
    token = session_csrf(client)
    assert client.post("/probe/status", headers={CSRF_HEADER: token}).json() == {"ok": "tech"}
    assert client.post("/probe/status", data={"csrf_token": token}).status_code == 200


def test_anonymous_and_bad_credentials_get_401(store: Store, client: TestClient) -> None:
    anonymous = client.get("/probe/read")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/probe/read", headers={"Authorization": "Bearer vigil_made_up"}).status_code == 401
    assert client.get("/probe/read", headers={"Authorization": "Basic YTpi"}).status_code == 401
    client.cookies.set(SESSION_COOKIE, "forged-session")
    assert client.get("/probe/read").status_code == 401


def test_api_token_lifecycle_over_http(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst", ["North"])
    login(client, "alice")
    csrf = session_csrf(client)
    assert client.post("/api/v1/tokens", json={"name": "siem"}).status_code == 403  # CSRF applies here too
    created = client.post("/api/v1/tokens", json={"name": "siem"}, headers={CSRF_HEADER: csrf})
    assert created.status_code == 201
    body = created.json()
    token = body["token"]
    assert token.startswith(service.TOKEN_PREFIX)
    bearer = {"Authorization": f"Bearer {token}"}
    with TestClient(client.app, follow_redirects=False) as api:  # no cookies: the token alone
        assert api.get("/probe/read", headers=bearer).json()["user"] == "alice"
        assert api.post("/probe/status", headers=bearer).status_code == 200  # tokens need no CSRF token
        assert api.get("/api/v1/me", headers=bearer).json()["via"] == "token"
        minted = api.post("/api/v1/tokens", json={"name": "more"}, headers=bearer)
        assert minted.status_code == 403  # a leaked token cannot mint fresh ones
        listed = client.get("/api/v1/tokens").json()
        assert [item["name"] for item in listed] == ["siem"]
        assert "token" not in listed[0]
        assert listed[0]["last_used_at"] is not None
        revoked = client.delete(f"/api/v1/tokens/{body['id']}", headers={CSRF_HEADER: csrf})
        assert revoked.status_code == 204
        assert api.get("/probe/read", headers=bearer).status_code == 401


def test_token_creation_bad_input_names_the_field(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst")
    login(client, "alice")
    headers = {CSRF_HEADER: session_csrf(client)}
    past = client.post("/api/v1/tokens", json={"name": "x", "expires": "2000-01-01"}, headers=headers)
    assert past.status_code == 422
    assert past.json()["detail"].startswith("body.expires:")
    other = client.post("/api/v1/tokens", json={"name": "x", "username": "bob"}, headers=headers)
    assert other.status_code == 403  # only an admin mints tokens for others


def test_someone_elses_token_is_not_found(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst")
    add(store, "bob", "analyst")
    bobs = service.create_token(store, "bob", "bob's", None, actor="test")
    login(client, "alice")
    response = client.delete(f"/api/v1/tokens/{bobs.id}", headers={CSRF_HEADER: session_csrf(client)})
    assert response.status_code == 404
    assert service.token_access(store, bobs.token) is not None
    # Ids past the database's 64-bit key are refused before any query (they were a 500).
    for bad in (2**63, 0):
        response = client.delete(f"/api/v1/tokens/{bad}", headers={CSRF_HEADER: session_csrf(client)})
        assert response.status_code == 422, bad


def test_expired_and_revoked_tokens_are_refused(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst")
    past = datetime.now(UTC) - timedelta(days=30)
    expired = service.create_token(store, "alice", "old", past + timedelta(days=1), actor="test", now=past)
    revoked = service.create_token(store, "alice", "gone", None, actor="test")
    service.revoke_token(store, revoked.id, actor="test")
    for token in (expired.token, revoked.token):
        assert client.get("/probe/read", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_roles_are_enforced_with_403(store: Store, client: TestClient) -> None:
    add(store, "watcher", "viewer", ["North"])
    login(client, "watcher")
    assert client.get("/probe/read").status_code == 200
    refused = client.post("/probe/status", headers={CSRF_HEADER: session_csrf(client)})
    assert refused.status_code == 403
    assert "viewer" in refused.json()["detail"]


def test_a_user_sees_only_granted_sites(store: Store, client: TestClient, sites: dict[str, int]) -> None:
    add(store, "north", "analyst", ["North"])
    add(store, "group", "viewer", all_sites=True)
    login(client, "north")
    assert client.get(f"/probe/sites/{sites['North']}").status_code == 200
    assert client.get(f"/probe/sites/{sites['South']}").status_code == 404
    assert client.get("/probe/read").json()["sites"] == [sites["North"]]
    me = client.get("/api/v1/me").json()
    assert me["site_ids"] == [sites["North"]] and me["all_sites"] is False
    assert "findings.status" in me["permissions"] and "users.admin" not in me["permissions"]
    with TestClient(client.app, follow_redirects=False) as other:
        login(other, "group")
        assert other.get(f"/probe/sites/{sites['South']}").status_code == 200
        assert other.get("/probe/read").json()["sites"] == sorted(sites.values())


def test_logout_ends_the_session(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst")
    login(client, "alice")
    cookie = client.cookies[SESSION_COOKIE]
    assert client.post("/logout").status_code == 403  # CSRF: a third-party page cannot log you out
    response = client.post("/logout", headers={CSRF_HEADER: session_csrf(client)})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    client.cookies.set(SESSION_COOKIE, cookie)  # a replayed cookie is dead too
    assert client.get("/probe/read").status_code == 401


def test_password_change_and_disabling_end_sessions(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst")
    login(client, "alice")
    service.set_password(store, "alice", "another long passphrase here", actor="test")
    assert client.get("/probe/read").status_code == 401
    login(client, "alice", "another long passphrase here")
    assert client.get("/probe/read").status_code == 200
    service.set_disabled(store, "alice", True, actor="test")
    assert client.get("/probe/read").status_code == 401
    assert login(client, "alice", "another long passphrase here").status_code == 401


def test_logins_are_audited_without_secrets(store: Store, client: TestClient) -> None:
    add(store, "alice", "analyst")
    login(client, "alice", "wrong password one")
    login(client, "hunter2-typed-as-a-name", "wrong password two")
    login(client, "alice")
    login(client, "alice")
    headers = {CSRF_HEADER: session_csrf(client)}
    token = client.post("/api/v1/tokens", json={"name": "ci"}, headers=headers).json()["token"]
    with store.sessions() as session:
        entries = session.execute(
            select(t.AuditEntry.action, t.AuditEntry.actor, t.AuditEntry.detail).order_by(t.AuditEntry.seq)
        ).all()
    actions = [entry.action for entry in entries]
    assert actions == ["user.add", "login.failure", "login.failure", "login.success", "login.success", "token.create"]
    text = repr(entries)
    for secret in (PASSWORD, "wrong password one", "wrong password two", "hunter2-typed-as-a-name", token):
        assert secret not in text


def test_through_create_app(store: Store, sites: dict[str, int]) -> None:
    app_module = pytest.importorskip("vigil.web.app")
    app = app_module.create_app(store.settings)
    add(store, "alice", "analyst", ["North"])
    with TestClient(app, follow_redirects=False) as test_client:
        assert test_client.get("/api/v1/me").status_code == 401
        response = login(test_client, "alice")
        assert response.status_code == 303
        me = test_client.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["username"] == "alice"
        headers = {CSRF_HEADER: session_csrf_from(test_client)}
        created = test_client.post("/api/v1/tokens", json={"name": "x"}, headers=headers)
        assert created.status_code == 201
        assert test_client.post("/api/v1/tokens", json={"name": "y"}).status_code == 403


def session_csrf_from(client: TestClient) -> str:
    """The CSRF token without the probe route: the session row holds it."""
    with client.app.state.store.sessions() as session:  # type: ignore[attr-defined]
        token_hash = service.sha256(client.cookies[SESSION_COOKIE])
        value = session.scalar(select(t.UserSession.csrf_token).where(t.UserSession.token_hash == token_hash))
    assert value
    return str(value)
