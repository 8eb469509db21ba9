"""Users, site grants, API tokens, sessions and login back-off: the SQL, nothing else.

Secrets never reach this module in the clear except as their SHA-256 (`token_hash`, `key_hash`); the
password arrives already hashed with argon2id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.store import schema as t


@dataclass(frozen=True)
class UserRow:
    """One user_account row with its grants."""

    id: int
    """user_account.id."""
    username: str
    """As created."""
    role: str
    """admin | analyst | technician | viewer."""
    password_hash: str | None
    """argon2id PHC string, or None (no password login)."""
    all_sites: bool
    """An all-sites grant."""
    disabled: bool
    """Refused at login and for every session and token."""
    site_ids: frozenset[int]
    """Sites granted one by one."""
    created_at: datetime
    """When it was added."""


def username_key(username: str) -> str:
    return username.casefold()


def _grants(session: Session, user_ids: Iterable[int]) -> dict[int, set[int]]:
    ids = sorted(set(user_ids))
    found: dict[int, set[int]] = {user_id: set() for user_id in ids}
    if ids:
        query = select(t.UserSiteGrant.user_id, t.UserSiteGrant.site_id).where(t.UserSiteGrant.user_id.in_(ids))
        for user_id, site_id in session.execute(query):
            found[int(user_id)].add(int(site_id))
    return found


def _user_rows(session: Session, where: object | None = None) -> list[UserRow]:
    u = t.UserAccount
    query = select(u.id, u.username, u.role, u.password_hash, u.all_sites, u.disabled, u.created_at).order_by(
        u.username_key
    )
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    rows = session.execute(query).all()
    grants = _grants(session, (row.id for row in rows))
    return [
        UserRow(
            int(row.id),
            row.username,
            row.role,
            row.password_hash,
            bool(row.all_sites),
            bool(row.disabled),
            frozenset(grants[int(row.id)]),
            row.created_at,
        )
        for row in rows
    ]


def user_by_name(session: Session, username: str) -> UserRow | None:
    rows = _user_rows(session, t.UserAccount.username_key == username_key(username))
    return rows[0] if rows else None


_USER_BY_ID = select(
    t.UserAccount.id,
    t.UserAccount.username,
    t.UserAccount.role,
    t.UserAccount.password_hash,
    t.UserAccount.all_sites,
    t.UserAccount.disabled,
    t.UserAccount.created_at,
).where(t.UserAccount.id == bindparam("user_id"))
_GRANTS_OF_USER = select(t.UserSiteGrant.site_id).where(t.UserSiteGrant.user_id == bindparam("user_id"))


def user_by_id(session: Session, user_id: int) -> UserRow | None:
    """Every authenticated request asks (a token's or a session's user): statements built once, run on the
    connection (building them and the ORM's statement handling cost more than the two index lookups)."""
    connection = session.connection()
    row = connection.execute(_USER_BY_ID, {"user_id": user_id}).first()
    if row is None:
        return None
    grants = frozenset(int(site_id) for (site_id,) in connection.execute(_GRANTS_OF_USER, {"user_id": user_id}))
    return UserRow(
        int(row.id),
        row.username,
        row.role,
        row.password_hash,
        bool(row.all_sites),
        bool(row.disabled),
        grants,
        row.created_at,
    )


def all_users(session: Session) -> list[UserRow]:
    return _user_rows(session)


def insert_user(session: Session, username: str, role: str, password_hash: str | None, now: datetime) -> int:
    result = session.execute(
        insert(t.UserAccount)
        .values(
            username=username,
            username_key=username_key(username),
            role=role,
            password_hash=password_hash,
            all_sites=False,
            disabled=False,
            created_at=now,
            updated_at=now,
        )
        .returning(t.UserAccount.id)
    )
    return int(result.scalar_one())


def update_user(session: Session, user_id: int, now: datetime, **values: object) -> None:
    session.execute(update(t.UserAccount).where(t.UserAccount.id == user_id).values(updated_at=now, **values))


def add_grants(session: Session, user_id: int, site_ids: Iterable[int], now: datetime) -> list[int]:
    """Grant the sites not yet granted; returns the newly granted ids."""
    existing = _grants(session, [user_id])[user_id]
    new = sorted(set(site_ids) - existing)
    if new:
        session.execute(
            insert(t.UserSiteGrant), [{"user_id": user_id, "site_id": site_id, "granted_at": now} for site_id in new]
        )
    return new


def remove_grants(session: Session, user_id: int, site_ids: Iterable[int]) -> int:
    ids = sorted(set(site_ids))
    if not ids:
        return 0
    g = t.UserSiteGrant
    result = session.execute(delete(g).where(g.user_id == user_id, g.site_id.in_(ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------------ tokens


@dataclass(frozen=True)
class TokenRow:
    """One api_token row and its owner's name."""

    id: int
    """api_token.id (what `vigil tokens revoke` takes)."""
    user_id: int
    """The owner."""
    username: str
    """The owner's name."""
    name: str
    """The label."""
    created_at: datetime
    """When it was made."""
    expires_at: datetime | None
    """When it stops working; None: never."""
    revoked_at: datetime | None
    """When it was revoked; None: not revoked."""
    last_used_at: datetime | None
    """Last authenticated request (to the minute)."""


_TokenColumns = tuple[int, int, str, str, datetime, datetime | None, datetime | None, datetime | None]


def _token_query() -> Select[*_TokenColumns]:
    k, u = t.ApiToken, t.UserAccount
    return (
        select(k.id, k.user_id, u.username, k.name, k.created_at, k.expires_at, k.revoked_at, k.last_used_at)
        .join(u, u.id == k.user_id)
        .order_by(k.id)
    )


def _token_row(row: Row[*_TokenColumns]) -> TokenRow:
    return TokenRow(*row.tuple())


def insert_token(
    session: Session, user_id: int, name: str, token_hash: str, expires_at: datetime | None, now: datetime
) -> int:
    result = session.execute(
        insert(t.ApiToken)
        .values(user_id=user_id, name=name, token_hash=token_hash, created_at=now, expires_at=expires_at)
        .returning(t.ApiToken.id)
    )
    return int(result.scalar_one())


def tokens(session: Session, user_id: int | None = None) -> list[TokenRow]:
    query = _token_query()
    if user_id is not None:
        query = query.where(t.ApiToken.user_id == user_id)
    return [_token_row(row) for row in session.execute(query)]


def token_by_id(session: Session, token_id: int) -> TokenRow | None:
    row = session.execute(_token_query().where(t.ApiToken.id == token_id)).first()
    return None if row is None else _token_row(row)


_TOKEN_BY_HASH = _token_query().where(t.ApiToken.token_hash == bindparam("token_hash"))


def token_by_hash(session: Session, token_hash: str) -> TokenRow | None:
    """Every token-authenticated request asks: the statement is built once and run on the connection."""
    row = session.connection().execute(_TOKEN_BY_HASH, {"token_hash": token_hash}).first()
    return None if row is None else _token_row(row)


def revoke_token(session: Session, token_id: int, now: datetime) -> bool:
    k = t.ApiToken
    result = session.execute(update(k).where(k.id == token_id, k.revoked_at.is_(None)).values(revoked_at=now))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def touch_token(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(t.ApiToken).where(t.ApiToken.id == token_id).values(last_used_at=now))


# ---------------------------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class SessionRow:
    """One user_session row."""

    user_id: int
    """The owner."""
    csrf_token: str
    """The synchronizer token."""
    created_at: datetime
    """Login time."""
    last_seen_at: datetime
    """Last request (to the minute)."""
    expires_at: datetime
    """Absolute expiry."""


def insert_session(
    session: Session, token_hash: str, user_id: int, csrf_token: str, now: datetime, expires_at: datetime
) -> None:
    session.execute(
        insert(t.UserSession).values(
            token_hash=token_hash,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
    )


def session_by_hash(session: Session, token_hash: str) -> SessionRow | None:
    s = t.UserSession
    query = select(s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at).where(
        s.token_hash == token_hash
    )
    row = session.execute(query).first()
    return None if row is None else SessionRow(int(row[0]), row[1], row[2], row[3], row[4])


def touch_session(session: Session, token_hash: str, now: datetime) -> None:
    session.execute(update(t.UserSession).where(t.UserSession.token_hash == token_hash).values(last_seen_at=now))


def delete_session(session: Session, token_hash: str) -> bool:
    result = session.execute(delete(t.UserSession).where(t.UserSession.token_hash == token_hash))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def delete_user_sessions(session: Session, user_id: int) -> int:
    result = session.execute(delete(t.UserSession).where(t.UserSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delete_expired_sessions(session: Session, now: datetime, idle_before: datetime) -> int:
    s = t.UserSession
    result = session.execute(delete(s).where((s.expires_at <= now) | (s.last_seen_at <= idle_before)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -------------------------------------------------------------------------------------------- throttling


@dataclass(frozen=True)
class ThrottleRow:
    """The back-off state of one key."""

    failures: int
    """Failed logins since the count last reset."""
    last_failure_at: datetime
    """The newest of them."""
    locked_until: datetime | None
    """No login attempt is checked before this instant."""


def throttle_states(session: Session, key_hashes: Iterable[str]) -> dict[str, ThrottleRow]:
    r = t.LoginThrottle
    query = select(r.key_hash, r.failures, r.last_failure_at, r.locked_until).where(r.key_hash.in_(list(key_hashes)))
    return {row[0]: ThrottleRow(int(row[1]), row[2], row[3]) for row in session.execute(query)}


def save_throttle(session: Session, key_hash: str, state: ThrottleRow) -> None:
    """Insert or update one key's state (an upsert: two failures at once must not fail on the key)."""
    values = {"failures": state.failures, "last_failure_at": state.last_failure_at, "locked_until": state.locked_until}
    upsert = postgresql.insert if session.connection().dialect.name == "postgresql" else sqlite.insert
    statement = upsert(t.LoginThrottle).values(key_hash=key_hash, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["key_hash"], set_=values))


def clear_throttle(session: Session, key_hash: str) -> None:
    session.execute(delete(t.LoginThrottle).where(t.LoginThrottle.key_hash == key_hash))


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(t.UserAccount)) or 0)
