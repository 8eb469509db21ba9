"""Users and access below the web: password hashing and policy, the role permission matrix, site scoping,
sessions' expiry, tokens, throttling in the service, and the `vigil users` / `vigil tokens` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from vigil.services import access, passwords
from vigil.services import users as service
from vigil.services.store import Store
from vigil.store import schema as t
from vigil.store.db import transaction
from vigil.store.inventory import site_ids

PASSWORD = "correct horse battery staple"
SETTINGS = service.AuthSettings()

# The documented matrix (docs/users.md), written out independently of access.PERMISSIONS.
EXPECTED = {
    "admin": set(access.ALL_PERMISSIONS),
    "analyst": {
        "read",
        "findings.status",
        "findings.review",
        "actions.complete",
        "decisions.write",
        "advisories.import",
        "inventory.import",
        "exports",
        "audit.read",
        "tokens.own",
    },
    "technician": {"read", "findings.status", "actions.complete", "tokens.own"},
    "viewer": {"read", "exports", "audit.read", "tokens.own"},
}


def test_hash_is_argon2id_with_visible_parameters() -> None:
    hashed = passwords.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify(hashed, PASSWORD)
    assert not passwords.verify(hashed, PASSWORD + " ")
    assert not passwords.verify("not a hash at all", PASSWORD)
    assert passwords.hash_password(PASSWORD) != hashed  # salted
    assert not passwords.needs_rehash(hashed)
    weaker = "$argon2id$v=19$m=8192,t=1,p=1$" + hashed.rsplit("$", 2)[1] + "$" + hashed.rsplit("$", 1)[1]
    assert passwords.needs_rehash(weaker)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "too short"),
        ("aaaaaaaaaaaaaaaa", "repetitive"),
        ("alice-is-my-secret-1", "username"),
        ("qwertyuiopasdf", "keyboard"),
        ("123456789012", "sequence"),
        ("Password1234!", "common word"),
        ("Welcome2026!!", "common word"),
        ("adminadmin12345", "common word"),
        ("1234!5678#9012$", "common word"),
        ("x" * 1025, "too long"),
    ],
)
def test_weak_passwords_are_refused(password: str, reason: str) -> None:
    with pytest.raises(passwords.WeakPassword, match=reason):
        passwords.check_policy(password, "alice")


@pytest.mark.parametrize("password", [PASSWORD, "Tr0ub4dor&3-but-longer", "päßwörter sind lang genug"])
def test_reasonable_passwords_pass(password: str) -> None:
    passwords.check_policy(password, "alice")


def test_permission_matrix() -> None:
    assert set(access.ROLES) == set(EXPECTED)
    for role, allowed in EXPECTED.items():
        for permission in access.ALL_PERMISSIONS:
            assert access.can(role, permission) is (permission in allowed), (role, permission)
    assert not access.can("superuser", "read")  # unknown roles hold nothing
    with pytest.raises(ValueError, match="unknown permission"):
        access.can("admin", "read.everything")


def test_effective_sites() -> None:
    assert access.effective_site_ids("admin", False, []) is None
    assert access.effective_site_ids("viewer", True, [3]) is None
    assert access.effective_site_ids("analyst", False, [3, 1]) == frozenset({1, 3})
    assert access.effective_site_ids("technician", False, []) == frozenset()


@pytest.fixture
def sites(store: Store) -> dict[str, int]:
    with transaction(store.sessions) as session:
        return site_ids(session, ["North", "South", "East"], create=True)


def test_add_list_and_bad_input(store: Store) -> None:
    user = service.add_user(store, "alice", "analyst", PASSWORD, actor="test")
    assert (user.username, user.role, user.all_sites, user.sites) == ("alice", "analyst", False, ())
    with pytest.raises(service.DuplicateUser, match="exists"):
        service.add_user(store, "ALICE", "viewer", PASSWORD, actor="test")
    with pytest.raises(service.UserError, match="unknown role"):
        service.add_user(store, "bob", "root", PASSWORD, actor="test")
    with pytest.raises(service.UserError, match="invalid username"):
        service.add_user(store, "bob smith", "viewer", PASSWORD, actor="test")
    with pytest.raises(passwords.WeakPassword):
        service.add_user(store, "bob", "viewer", "password", actor="test")
    service.add_user(store, "robot", "viewer", None, actor="test")
    listed = {info.username: info for info in service.list_users(store)}
    assert sorted(listed) == ["alice", "robot"]
    assert not listed["robot"].has_password
    with pytest.raises(service.LoginFailed):  # no password: no password login, not even an empty one
        service.login(store, "robot", "", "127.0.0.1", SETTINGS)


def test_grants_scope_visible_sites(store: Store, sites: dict[str, int]) -> None:
    service.add_user(store, "alice", "analyst", PASSWORD, actor="test")
    granted = service.grant(store, "alice", ["North", "South"], actor="test")
    assert granted.sites == ("North", "South")
    with store.sessions() as session:
        alice = service.session_access(store, service.login(store, "alice", PASSWORD, "c", SETTINGS).token, SETTINGS)
        assert alice is not None
        assert access.visible_site_ids(alice.user.site_ids, session) == sorted([sites["North"], sites["South"]])
    service.grant(store, "alice", ["South"], actor="test", revoke=True)
    assert service.list_users(store)[0].sites == ("North",)
    everywhere = service.grant(store, "alice", None, actor="test")
    assert everywhere.all_sites
    with store.sessions() as session:
        assert access.visible_site_ids(None, session) == sorted(sites.values())
        assert access.visible_site_ids(frozenset(), session) == []
    with pytest.raises(service.UnknownSite, match="Atlantis"):
        service.grant(store, "alice", ["North", "Atlantis"], actor="test")
    with pytest.raises(service.UnknownUser):
        service.grant(store, "nobody", ["North"], actor="test")


def test_session_idle_and_absolute_expiry(store: Store) -> None:
    service.add_user(store, "alice", "analyst", PASSWORD, actor="test")
    start = datetime.now(UTC)
    opened = service.login(store, "alice", PASSWORD, "c", SETTINGS, now=start)
    assert opened.expires_at == start + SETTINGS.session_absolute
    half_idle = SETTINGS.session_idle / 2
    assert service.session_access(store, opened.token, SETTINGS, now=start + half_idle) is not None
    # Used every half idle period it lives on, but never past the absolute limit.
    at = start
    while at + half_idle < start + SETTINGS.session_absolute:
        at += half_idle
        assert service.session_access(store, opened.token, SETTINGS, now=at) is not None
    assert service.session_access(store, opened.token, SETTINGS, now=start + SETTINGS.session_absolute) is None
    idle = service.login(store, "alice", PASSWORD, "c", SETTINGS, now=start)
    assert service.session_access(store, idle.token, SETTINGS, now=start + SETTINGS.session_idle) is None
    assert service.session_access(store, idle.token, SETTINGS, now=start) is None  # the row is gone


def test_throttle_backs_off_exponentially_and_forgets(store: Store) -> None:
    service.add_user(store, "alice", "analyst", PASSWORD, actor="test")
    at = datetime.now(UTC)
    for _ in range(service.USER_FREE_FAILURES - 1):
        with pytest.raises(service.LoginFailed):
            service.login(store, "alice", "wrong password", "10.0.0.1", SETTINGS, now=at)
    waits = []
    for _ in range(3):
        with pytest.raises(service.LoginFailed):
            service.login(store, "alice", "wrong password", "10.0.0.1", SETTINGS, now=at)
        with pytest.raises(service.LoginThrottled) as throttled:  # even the right password waits
            service.login(store, "alice", PASSWORD, "10.0.0.2", SETTINGS, now=at)
        waits.append(throttled.value.retry_after)
        at += timedelta(seconds=throttled.value.retry_after)
    base = service.BACKOFF_BASE.total_seconds()
    assert waits == [base, base * 2, base * 4]
    later = at + service.FAILURE_MEMORY + timedelta(seconds=1)
    assert service.login(store, "alice", PASSWORD, "10.0.0.1", SETTINGS, now=later).user.username == "alice"


def test_tokens_scope_expire_revoke_and_record_use(store: Store, sites: dict[str, int]) -> None:
    service.add_user(store, "alice", "technician", PASSWORD, actor="test")
    service.grant(store, "alice", ["East"], actor="test")
    now = datetime.now(UTC)
    new = service.create_token(store, "alice", "cmms", now + timedelta(days=1), actor="test", now=now)
    user = service.token_access(store, new.token, now=now)
    assert user is not None and (user.username, user.role, user.site_ids) == (
        "alice",
        "technician",
        frozenset({sites["East"]}),
    )
    with store.sessions() as session:
        stored = session.execute(select(t.ApiToken.token_hash, t.ApiToken.last_used_at)).one()
    assert stored.token_hash == service.sha256(new.token) and stored.last_used_at is not None
    assert service.token_access(store, new.token, now=now + timedelta(days=2)) is None  # expired
    assert service.token_access(store, new.token + "x", now=now) is None
    service.revoke_token(store, new.id, actor="test")
    assert service.token_access(store, new.token, now=now) is None
    with pytest.raises(service.UnknownToken):
        service.revoke_token(store, 999_999, actor="test")
    with pytest.raises(service.UserError, match="not in the future"):
        service.create_token(store, "alice", "x", now - timedelta(days=1), actor="test", now=now)
    with pytest.raises(service.UnknownUser):
        service.create_token(store, "nobody", "x", None, actor="test")


def test_every_change_is_audited_installation_wide(store: Store, sites: dict[str, int]) -> None:
    service.add_user(store, "alice", "analyst", PASSWORD, actor="os:root")
    service.grant(store, "alice", ["North"], actor="os:root")
    service.grant(store, "alice", None, actor="os:root")
    service.set_role(store, "alice", "viewer", actor="os:root")
    service.set_password(store, "alice", "a different passphrase", actor="os:root")
    token = service.create_token(store, "alice", "ci", None, actor="os:root")
    service.revoke_token(store, token.id, actor="os:root")
    service.set_disabled(store, "alice", True, actor="os:root")
    with store.sessions() as session:
        rows = session.execute(
            select(t.AuditEntry.site_id, t.AuditEntry.action, t.AuditEntry.detail).order_by(t.AuditEntry.seq)
        ).all()
    assert [row.action for row in rows] == [
        "user.add",
        "user.grant",
        "user.grant",
        "user.role",
        "user.password",
        "token.create",
        "token.revoke",
        "user.disable",
    ]
    assert {row.site_id for row in rows} == {0}
    text = repr(rows)
    assert PASSWORD not in text and "a different passphrase" not in text and token.token not in text


# ------------------------------------------------------------------------------------------------- CLI


def vigil(database_url: str, cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_DATABASE_URL": database_url, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "vigil", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def test_cli_users(store: Store, sites: dict[str, int], database_url: str, tmp_path: Path) -> None:
    added = vigil(
        database_url, tmp_path, "users", "add", "alice", "--role", "analyst", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert added.returncode == 0, added.stderr
    assert "added alice (analyst)" in added.stdout
    duplicate = vigil(database_url, tmp_path, "users", "add", "Alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert (duplicate.returncode, duplicate.stderr.strip()) == (1, "error: a user named 'Alice' exists")
    weak = vigil(database_url, tmp_path, "users", "add", "bob", "--password-stdin", stdin="bob12345\n")
    assert weak.returncode == 1 and "too short" in weak.stderr and "bob12345" not in weak.stderr
    no_terminal = vigil(database_url, tmp_path, "users", "add", "bob")
    assert no_terminal.returncode == 2 and "--password-stdin" in no_terminal.stderr
    bad_role = vigil(database_url, tmp_path, "users", "add", "bob", "--role", "root", "--no-password")
    assert bad_role.returncode == 2 and "unknown role 'root'" in bad_role.stderr
    granted = vigil(database_url, tmp_path, "users", "grant", "alice", "--site", "North", "--site", "South")
    assert granted.returncode == 0, granted.stderr
    assert granted.stdout.strip() == "alice sees North, South"
    unknown_user = vigil(database_url, tmp_path, "users", "grant", "nobody", "--site", "North")
    assert (unknown_user.returncode, unknown_user.stderr.strip()) == (1, "error: no user named 'nobody'")
    unknown_site = vigil(database_url, tmp_path, "users", "grant", "alice", "--site", "Atlantis")
    assert unknown_site.returncode == 1 and "Atlantis" in unknown_site.stderr
    both = vigil(database_url, tmp_path, "users", "grant", "alice", "--site", "North", "--all-sites")
    assert both.returncode == 2
    assert vigil(database_url, tmp_path, "users", "add", "auditor", "--role", "viewer", "--no-password").returncode == 0
    assert vigil(database_url, tmp_path, "users", "grant", "auditor", "--all-sites").returncode == 0
    listed = vigil(database_url, tmp_path, "users", "list", "--format", "json")
    users = {user["username"]: user for user in json.loads(listed.stdout)}
    assert users["alice"]["sites"] == ["North", "South"] and users["alice"]["role"] == "analyst"
    assert users["auditor"]["all_sites"] is True and users["auditor"]["password"] is False
    assert service.login(store, "alice", PASSWORD, "c", SETTINGS).user.site_ids == frozenset(
        {sites["North"], sites["South"]}
    )


def test_cli_tokens(store: Store, database_url: str, tmp_path: Path) -> None:
    service.add_user(store, "alice", "analyst", PASSWORD, actor="test")
    created = vigil(
        database_url, tmp_path, "tokens", "create", "--user", "alice", "--name", "siem", "--expires", "2999-12-31"
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith(service.TOKEN_PREFIX) and "not shown again" in created.stderr
    user = service.token_access(store, token)
    assert user is not None and user.username == "alice"
    listed = json.loads(vigil(database_url, tmp_path, "tokens", "list", "--format", "json").stdout)
    assert [(item["user"], item["name"]) for item in listed] == [("alice", "siem")]
    assert token not in json.dumps(listed)
    revoked = vigil(database_url, tmp_path, "tokens", "revoke", str(listed[0]["id"]))
    assert revoked.returncode == 0 and "revoked token" in revoked.stdout
    assert service.token_access(store, token) is None
    assert vigil(database_url, tmp_path, "tokens", "revoke", "424242").returncode == 1
    unknown = vigil(database_url, tmp_path, "tokens", "create", "--user", "nobody")
    assert (unknown.returncode, unknown.stderr.strip()) == (1, "error: no user named 'nobody'")
    bad_date = vigil(database_url, tmp_path, "tokens", "create", "--user", "alice", "--expires", "next week")
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
    past = vigil(database_url, tmp_path, "tokens", "create", "--user", "alice", "--expires", "2001-01-01")
    assert past.returncode == 1 and "not in the future" in past.stderr
