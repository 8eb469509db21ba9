"""Use cases of users and access: add/list/grant users, log in and out, sessions, API tokens.

Every change and every login attempt writes an entry to the installation-wide audit chain in the same
transaction; no entry ever holds a password or a token (tokens appear by id, unknown usernames only as a
SHA-256 prefix: people type passwords into the username field). See docs/users.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.services import access, passwords
from vigil.services.passwords import WeakPassword
from vigil.services.store import Store
from vigil.store import audit
from vigil.store import users as db
from vigil.store.db import transaction
from vigil.store.inventory import all_sites, site_ids

__all__ = ["WeakPassword"]

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
TOKEN_PREFIX = "vigil_"  # noqa: S105 (not a secret: lets scanners recognise leaked tokens)
TOUCH_EVERY = timedelta(minutes=1)
"""last_seen_at / last_used_at move at most this often: reads stay reads."""

USER_FREE_FAILURES, ADDRESS_FREE_FAILURES = 5, 20
"""Failed logins allowed per username / per client address before back-off starts."""
BACKOFF_BASE, BACKOFF_MAX = timedelta(seconds=30), timedelta(minutes=15)
"""Each failure past the free ones doubles the lock: 30 s, 1 min, 2 min, ... at most 15 min."""
FAILURE_MEMORY = timedelta(hours=1)
"""A key's failure count starts again after this long without failures."""


class UserError(ValueError):
    """Bad input to a user or token change; the message is one line naming the problem."""


class UnknownUser(UserError, LookupError):
    """No user by that name."""


class DuplicateUser(UserError):
    """A user by that name (case-insensitively) exists."""


class UnknownSite(UserError, LookupError):
    """No site by that name."""


class UnknownToken(UserError, LookupError):
    """No API token by that id (or not one the caller may see)."""


class LoginFailed(Exception):
    """Wrong username or password, or a disabled account: deliberately one case."""


class LoginThrottled(Exception):
    """Too many recent failures for this username or address."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class AuthSettings:
    """How sessions and cookies behave (environment: docs/users.md)."""

    secure_cookies: bool | None = None
    """True/False forces the cookies' Secure flag; None: Secure when the request is HTTPS (`VIGIL_SECURE_COOKIES`)."""
    trusted_proxies: frozenset[str] = frozenset()
    """Peer addresses whose X-Forwarded-For/-Proto are believed (`VIGIL_TRUSTED_PROXIES`, comma-separated)."""
    same_site: Literal["lax", "strict"] = "lax"
    """The session cookie's SameSite (`VIGIL_COOKIE_SAMESITE`); lax keeps links from e-mail working."""
    session_idle: timedelta = timedelta(hours=1)
    """A session unused this long ends (`VIGIL_SESSION_IDLE_MINUTES`)."""
    session_absolute: timedelta = timedelta(hours=12)
    """A session ends this long after login, used or not (`VIGIL_SESSION_MAX_HOURS`)."""


def load_auth_settings() -> AuthSettings:
    """AuthSettings from the environment; a bad value raises ValueError naming the variable."""
    env = os.environ
    secure_text = env.get("VIGIL_SECURE_COOKIES", "auto").strip().lower()
    secure = {"auto": None, "true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    if secure_text not in secure:
        raise ValueError(f"VIGIL_SECURE_COOKIES must be auto, true or false, not {secure_text!r}")
    same_site = env.get("VIGIL_COOKIE_SAMESITE", "lax").strip().lower()
    if same_site not in ("lax", "strict"):
        raise ValueError(f"VIGIL_COOKIE_SAMESITE must be lax or strict, not {same_site!r}")
    proxies = frozenset(part.strip() for part in env.get("VIGIL_TRUSTED_PROXIES", "").split(",") if part.strip())
    return AuthSettings(
        secure_cookies=secure[secure_text],
        trusted_proxies=proxies,
        same_site="strict" if same_site == "strict" else "lax",
        session_idle=timedelta(minutes=_positive(env, "VIGIL_SESSION_IDLE_MINUTES", 60)),
        session_absolute=timedelta(hours=_positive(env, "VIGIL_SESSION_MAX_HOURS", 12)),
    )


def _positive(env: os._Environ[str], name: str, default: int) -> int:
    text = env.get(name)
    if text is None:
        return default
    if not text.strip().isdigit() or int(text) <= 0:
        raise ValueError(f"{name} must be a positive whole number, not {text!r}")
    return int(text)


@dataclass(frozen=True)
class UserAccess:
    """Who a session or token authenticates, and what they may see."""

    user_id: int
    """user_account.id."""
    username: str
    """The login name."""
    role: str
    """admin | analyst | technician | viewer."""
    site_ids: frozenset[int] | None
    """Visible sites; None: every site."""


@dataclass(frozen=True)
class UserInfo:
    """A user as `vigil users list` shows them."""

    id: int
    """user_account.id."""
    username: str
    """The login name."""
    role: str
    """admin | analyst | technician | viewer."""
    all_sites: bool
    """True: every site (an all-sites grant or the admin role)."""
    sites: tuple[str, ...]
    """Names of the sites granted one by one."""
    has_password: bool
    """False: API tokens only."""
    disabled: bool
    """Refused everywhere."""
    created_at: datetime
    """When added."""


@dataclass(frozen=True)
class NewSession:
    """A session just opened by a login."""

    token: str
    """The cookie value; only its SHA-256 is stored."""
    csrf_token: str
    """The session's synchronizer token."""
    user: UserAccess
    """Who logged in."""
    expires_at: datetime
    """Absolute expiry."""


@dataclass(frozen=True)
class SessionAccess:
    """A valid session's user and CSRF token."""

    user: UserAccess
    """Who the session belongs to."""
    csrf_token: str
    """What unsafe requests must send back."""


@dataclass(frozen=True)
class NewToken:
    """An API token just created: `token` is shown once and never again."""

    id: int
    """api_token.id."""
    name: str
    """The label."""
    username: str
    """The owner."""
    token: str
    """The secret."""
    expires_at: datetime | None
    """None: no expiry."""


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed: never the secret."""

    id: int
    """api_token.id."""
    username: str
    """The owner."""
    name: str
    """The label."""
    created_at: datetime
    """When made."""
    expires_at: datetime | None
    """None: no expiry."""
    revoked_at: datetime | None
    """None: not revoked."""
    last_used_at: datetime | None
    """Last use, to the minute."""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _access(user: db.UserRow) -> UserAccess:
    return UserAccess(
        user.id, user.username, user.role, access.effective_site_ids(user.role, user.all_sites, user.site_ids)
    )


def _check_role(role: str) -> None:
    if not access.is_role(role):
        raise UserError(f"unknown role {role!r}: use one of {', '.join(access.ROLES)}")


def _existing(session: Session, username: str) -> db.UserRow:
    user = db.user_by_name(session, username)
    if user is None:
        raise UnknownUser(f"no user named {username!r}")
    return user


# ------------------------------------------------------------------------------------------- management


def add_user(
    store: Store, username: str, role: str, password: str | None, actor: str, now: datetime | None = None
) -> UserInfo:
    """Create a user (no sites yet: grant them). `password` None: API tokens only."""
    if not USERNAME.fullmatch(username):
        raise UserError(f"invalid username {username!r}: 1-64 letters, digits, '.', '_', '-', '@', not first")
    _check_role(role)
    if password is not None:
        passwords.check_policy(password, username)
    hashed = passwords.hash_password(password) if password is not None else None
    at = _now(now)
    try:
        with transaction(store.sessions) as session:
            if db.user_by_name(session, username) is not None:
                raise DuplicateUser(f"a user named {username!r} exists")
            user_id = db.insert_user(session, username, role, hashed, at)
            detail = {"role": role, "password": hashed is not None}
            audit.append(session, None, actor, "user.add", username, detail, at)
    except IntegrityError:  # a concurrent add of the same name
        raise DuplicateUser(f"a user named {username!r} exists") from None
    return UserInfo(user_id, username, role, role in access.ALL_SITES_ROLES, (), hashed is not None, False, at)


def list_users(store: Store) -> list[UserInfo]:
    with store.sessions() as session:
        names = dict(all_sites(session))
        return [
            UserInfo(
                user.id,
                user.username,
                user.role,
                user.all_sites or user.role in access.ALL_SITES_ROLES,
                tuple(sorted(names[site_id] for site_id in user.site_ids if site_id in names)),
                user.password_hash is not None,
                user.disabled,
                user.created_at,
            )
            for user in db.all_users(session)
        ]


def grant(
    store: Store,
    username: str,
    sites: Sequence[str] | None,
    actor: str,
    revoke: bool = False,
    now: datetime | None = None,
) -> UserInfo:
    """Grant (or with `revoke`, withdraw) the named sites; `sites` None: the all-sites grant."""
    at = _now(now)
    with transaction(store.sessions) as session:
        user = _existing(session, username)
        if sites is None:
            db.update_user(session, user.id, at, all_sites=not revoke)
            detail: dict[str, object] = {"all_sites": not revoke}
        else:
            if not sites:
                raise UserError("name at least one site (--site), or --all-sites")
            found = site_ids(session, sites, create=False)
            missing = sorted(set(sites) - found.keys())
            if missing:
                raise UnknownSite(f"no site named {missing[0]!r}")
            if revoke:
                db.remove_grants(session, user.id, found.values())
            else:
                db.add_grants(session, user.id, found.values(), at)
            detail = {"revoked" if revoke else "granted": sorted(found)}
        audit.append(session, None, actor, "user.revoke" if revoke else "user.grant", user.username, detail, at)
    return next(info for info in list_users(store) if info.id == user.id)


def set_role(store: Store, username: str, role: str, actor: str, now: datetime | None = None) -> None:
    _check_role(role)
    at = _now(now)
    with transaction(store.sessions) as session:
        user = _existing(session, username)
        db.update_user(session, user.id, at, role=role)
        audit.append(session, None, actor, "user.role", user.username, {"from": user.role, "to": role}, at)


def set_password(store: Store, username: str, password: str, actor: str, now: datetime | None = None) -> None:
    """A new password; every open session of the user ends (tokens stay: revoke them separately)."""
    at = _now(now)
    with transaction(store.sessions) as session:
        user = _existing(session, username)
        passwords.check_policy(password, user.username)
        db.update_user(session, user.id, at, password_hash=passwords.hash_password(password))
        ended = db.delete_user_sessions(session, user.id)
        audit.append(session, None, actor, "user.password", user.username, {"sessions_ended": ended}, at)


def set_disabled(store: Store, username: str, disabled: bool, actor: str, now: datetime | None = None) -> None:
    """Disable (every session ends, tokens stop working) or enable a user."""
    at = _now(now)
    with transaction(store.sessions) as session:
        user = _existing(session, username)
        db.update_user(session, user.id, at, disabled=disabled)
        ended = db.delete_user_sessions(session, user.id) if disabled else 0
        action = "user.disable" if disabled else "user.enable"
        audit.append(session, None, actor, action, user.username, {"sessions_ended": ended}, at)


# -------------------------------------------------------------------------------------------- logging in


def _throttle_keys(username: str, client: str) -> tuple[str, str]:
    return sha256("user:" + db.username_key(username)), sha256("addr:" + client)


def _locked_for(states: dict[str, db.ThrottleRow], at: datetime) -> float:
    waits = [(state.locked_until - at).total_seconds() for state in states.values() if state.locked_until]
    return max([0.0, *waits])


def _next_state(state: db.ThrottleRow | None, free: int, at: datetime) -> db.ThrottleRow:
    failures = 1 if state is None or at - state.last_failure_at > FAILURE_MEMORY else state.failures + 1
    locked = None
    if failures >= free:
        locked = at + min(BACKOFF_BASE * 2 ** (failures - free), BACKOFF_MAX)
    return db.ThrottleRow(failures, at, locked)


def login(
    store: Store, username: str, password: str, client: str, settings: AuthSettings, now: datetime | None = None
) -> NewSession:
    """Check a password and open a session. LoginThrottled while the username or the address is backing off
    (checked first, whether or not the user exists); LoginFailed for every kind of wrong."""
    at = _now(now)
    user_key, address_key = _throttle_keys(username[:200], client)
    with store.sessions() as session:
        states = db.throttle_states(session, [user_key, address_key])
        user = db.user_by_name(session, username[:200]) if USERNAME.fullmatch(username) else None
    wait = _locked_for(states, at)
    if wait > 0:
        raise LoginThrottled(wait)
    stored = user.password_hash if user is not None and not user.disabled else None
    # Unknown, disabled and password-less users cost one argon2 verification too: timing tells nothing.
    matched = passwords.verify(stored or passwords.dummy_hash(), password)
    if user is None or stored is None or not matched:
        _record_failure(store, username, user, client, states, user_key, address_key, at)
        raise LoginFailed()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = at + settings.session_absolute
    with transaction(store.sessions) as session:
        db.insert_session(session, sha256(token), user.id, csrf, at, expires)
        if user.password_hash and passwords.needs_rehash(user.password_hash):
            db.update_user(session, user.id, at, password_hash=passwords.hash_password(password))
        db.clear_throttle(session, user_key)  # not the address's: one good account must not reset a spray
        db.delete_expired_sessions(session, at, at - settings.session_idle)
        audit.append(session, None, user.username, "login.success", user.username, {"client": client}, at)
    return NewSession(token, csrf, _access(user), expires)


def _record_failure(
    store: Store,
    username: str,
    user: db.UserRow | None,
    client: str,
    states: dict[str, db.ThrottleRow],
    user_key: str,
    address_key: str,
    at: datetime,
) -> None:
    user_state = _next_state(states.get(user_key), USER_FREE_FAILURES, at)
    address_state = _next_state(states.get(address_key), ADDRESS_FREE_FAILURES, at)
    detail: dict[str, object] = {"client": client, "failures": user_state.failures}
    if user is None:
        detail["reason"] = "unknown user"
        detail["username_sha256"] = sha256(username)[:16]  # the name typed may be a password
    else:
        detail["reason"] = "disabled" if user.disabled else "wrong password"
    locked = [state.locked_until for state in (user_state, address_state) if state.locked_until]
    if locked:
        detail["throttled_until"] = max(locked).isoformat()
    with transaction(store.sessions) as session:
        db.save_throttle(session, user_key, user_state)
        db.save_throttle(session, address_key, address_state)
        subject = user.username if user is not None else None
        audit.append(session, None, user.username if user else "anonymous", "login.failure", subject, detail, at)


def session_access(
    store: Store, token: str, settings: AuthSettings, now: datetime | None = None
) -> SessionAccess | None:
    """The session's user and CSRF token, or None when unknown, idle too long, past its absolute expiry or its
    user is disabled (an ended session's row is deleted)."""
    at = _now(now)
    digest = sha256(token)
    with store.sessions() as session:
        found = db.session_by_hash(session, digest)
        user = db.user_by_id(session, found.user_id) if found is not None else None
    if found is None or user is None:
        return None
    if at >= found.expires_at or at - found.last_seen_at >= settings.session_idle or user.disabled:
        with transaction(store.sessions) as session:
            db.delete_session(session, digest)
        return None
    if at - found.last_seen_at >= TOUCH_EVERY:
        with transaction(store.sessions) as session:
            db.touch_session(session, digest, at)
    return SessionAccess(_access(user), found.csrf_token)


def logout(store: Store, token: str, client: str, now: datetime | None = None) -> None:
    at = _now(now)
    digest = sha256(token)
    with transaction(store.sessions) as session:
        found = db.session_by_hash(session, digest)
        if found is None or not db.delete_session(session, digest):
            return
        user = db.user_by_id(session, found.user_id)
        name = user.username if user is not None else "unknown"
        audit.append(session, None, name, "logout", name, {"client": client}, at)


# ------------------------------------------------------------------------------------------------ tokens


def create_token(
    store: Store,
    username: str,
    name: str,
    expires_at: datetime | None,
    actor: str,
    now: datetime | None = None,
) -> NewToken:
    """A new API token for `username` (shown once); `expires_at` must lie in the future."""
    at = _now(now)
    label = name.strip()
    if not label or len(label) > 100:
        raise UserError("token name must be 1-100 characters")
    if expires_at is not None and expires_at <= at:
        raise UserError(f"expiry {expires_at.isoformat()} is not in the future")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction(store.sessions) as session:
        user = _existing(session, username)
        token_id = db.insert_token(session, user.id, label, sha256(secret), expires_at, at)
        detail = {"token_id": token_id, "name": label, "expires_at": expires_at.isoformat() if expires_at else None}
        audit.append(session, None, actor, "token.create", user.username, detail, at)
    return NewToken(token_id, label, user.username, secret, expires_at)


def _info(row: db.TokenRow) -> TokenInfo:
    return TokenInfo(row.id, row.username, row.name, row.created_at, row.expires_at, row.revoked_at, row.last_used_at)


def list_tokens(store: Store, user_id: int | None = None, username: str | None = None) -> list[TokenInfo]:
    """Every token (one user's, by id or name), revoked and expired ones included."""
    with store.sessions() as session:
        if username is not None:
            user_id = _existing(session, username).id
        return [_info(row) for row in db.tokens(session, user_id)]


def revoke_token(
    store: Store, token_id: int, actor: str, owner_user_id: int | None = None, now: datetime | None = None
) -> TokenInfo:
    """Revoke a token (idempotent); `owner_user_id`: only if it belongs to that user, else UnknownToken."""
    at = _now(now)
    with transaction(store.sessions) as session:
        row = db.token_by_id(session, token_id)
        if row is None or (owner_user_id is not None and row.user_id != owner_user_id):
            raise UnknownToken(f"no API token {token_id}")
        if db.revoke_token(session, token_id, at):
            detail = {"token_id": token_id, "name": row.name}
            audit.append(session, None, actor, "token.revoke", row.username, detail, at)
        row = db.token_by_id(session, token_id) or row
    return _info(row)


def token_access(store: Store, token: str, now: datetime | None = None) -> UserAccess | None:
    """The token's user, or None for an unknown, revoked or expired token or a disabled user."""
    at = _now(now)
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with store.sessions() as session:
        row = db.token_by_hash(session, sha256(token))
        user = db.user_by_id(session, row.user_id) if row is not None else None
    if row is None or user is None or user.disabled or row.revoked_at is not None:
        return None
    if row.expires_at is not None and at >= row.expires_at:
        return None
    if row.last_used_at is None or at - row.last_used_at >= TOUCH_EVERY:
        with transaction(store.sessions) as session:
            db.touch_token(session, row.id, at)
    return _access(user)
