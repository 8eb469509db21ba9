"""Use case: read the audit trail back (list), check it (verify), and export its heads for anchoring.

Writing happens where the changes happen: every service that changes the database calls
`vigil.store.audit.append` inside its own transaction. See docs/audit.md.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from vigil.outputs.timestamps import iso_utc
from vigil.services.store import Store
from vigil.store import schema as t
from vigil.store.audit import INSTALLATION, ChainHead, VerifyReport, heads, verify
from vigil.store.inventory import all_sites, site_ids

INSTALLATION_NAME = "(installation)"
"""How people see chain 0, the installation-wide events (advisory imports and syncs)."""


class AuditQueryError(LookupError):
    """An unknown site, or an unreadable anchor file; the message names it."""


def system_actor() -> str:
    """Who ran a change no person named (imports, syncs, match runs): the operating-system account, marked
    `os:` because nothing vouches for it beyond the machine's own login (vigil has no logins yet)."""
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER: a container, say
        return "os:unknown"


@dataclass(frozen=True)
class AuditQuery:
    """Filters of `vigil audit list`, as people type them."""

    site: str | None = None
    """Site name: that site's chain only."""
    installation: bool = False
    """The installation-wide chain only (advisory imports and syncs)."""
    actions: Sequence[str] = ()
    """Actions (`advisory.import`), or prefixes ending in `.` (`finding.`)."""
    since: datetime | None = None
    """Entries at or after this instant."""
    limit: int | None = None
    """The newest this many entries (still printed oldest first)."""


def _chain_filter(store: Store, site: str | None, installation: bool) -> int | None:
    if site is not None and installation:
        raise AuditQueryError("--site and --installation name two different chains: give one")
    if installation:
        return INSTALLATION
    if site is None:
        return None
    with store.sessions() as session:
        found = site_ids(session, [site], create=False)
    if not found:
        raise AuditQueryError(f"no site named {site!r}")
    return found[site]


def _site_names(store: Store) -> dict[int, str]:
    with store.sessions() as session:
        return {INSTALLATION: INSTALLATION_NAME} | dict(all_sites(session))


def list_entries(store: Store, query: AuditQuery) -> list[dict[str, Any]]:
    """Entries matching `query`, oldest first (the `vigil audit list --format json` contract)."""
    chain = _chain_filter(store, query.site, query.installation)
    names = _site_names(store)
    e = t.AuditEntry
    statement = select(e)
    if chain is not None:
        statement = statement.where(e.site_id == chain)
    if query.since is not None:
        statement = statement.where(e.at >= query.since)
    exact = [a for a in query.actions if not a.endswith(".")]
    prefixes = [a for a in query.actions if a.endswith(".")]
    if query.actions:
        statement = statement.where(or_(e.action.in_(exact), *(e.action.startswith(p) for p in prefixes)))
    newest_first = statement.order_by(e.at.desc(), e.site_id.desc(), e.seq.desc())
    if query.limit is not None:
        newest_first = newest_first.limit(query.limit)
    with store.sessions() as session:
        rows = list(session.scalars(newest_first))
    return [_entry_dict(row, names) for row in reversed(rows)]


def _entry_dict(row: t.AuditEntry, names: dict[int, str]) -> dict[str, Any]:
    return {
        "site_id": row.site_id,
        "site": None if row.site_id == INSTALLATION else names.get(row.site_id),
        "seq": row.seq,
        "at": iso_utc(row.at),
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "detail": row.detail,
        "hash": row.hash,
    }


@dataclass(frozen=True)
class VerifyOutcome:
    """A verification, with the site names to show it."""

    report: VerifyReport
    """What the store found, chain by chain."""
    site_names: dict[int, str]
    """site_id -> name (chain 0: INSTALLATION_NAME); a chain of a deleted site has none."""

    def name(self, site_id: int) -> str:
        return self.site_names.get(site_id, f"site #{site_id} (no such site)")

    @property
    def lines(self) -> list[str]:
        """One line per broken chain: site, seq and reason."""
        return [
            f"{self.name(c.site_id)}: seq {c.broken.seq}: {c.broken.reason}"
            for c in self.report.chains
            if c.broken is not None
        ]

    def as_dict(self) -> dict[str, Any]:
        """The `vigil audit verify --format json` contract."""
        return {
            "intact": self.report.intact,
            "chains": [
                {
                    "site_id": c.site_id,
                    "site": None if c.site_id == INSTALLATION else self.site_names.get(c.site_id),
                    "entries": c.entries,
                    "head_seq": c.head.seq if c.head else None,
                    "head_hash": c.head.hash if c.head else None,
                    "intact": c.broken is None,
                    "broken_seq": c.broken.seq if c.broken else None,
                    "reason": c.broken.reason if c.broken else None,
                }
                for c in self.report.chains
            ],
        }


def verify_trail(
    store: Store, site: str | None = None, installation: bool = False, anchor: Path | None = None
) -> VerifyOutcome:
    """Check every chain (or one), and that the heads saved in `anchor` are still part of them."""
    chain = _chain_filter(store, site, installation)
    anchors = read_anchor(anchor) if anchor is not None else None
    names = _site_names(store)
    with store.sessions() as session:  # fresh: verify takes its own consistent snapshot
        report = verify(session, chain, anchors)
    return VerifyOutcome(report, names)


def chain_heads(store: Store, site: str | None = None, installation: bool = False) -> list[dict[str, Any]]:
    """Each chain's newest (seq, hash): what to keep outside the database (`vigil audit head`)."""
    chain = _chain_filter(store, site, installation)
    names = _site_names(store)
    with store.sessions() as session:
        found = heads(session, chain)
    return [
        {
            "site_id": h.site_id,
            "site": None if h.site_id == INSTALLATION else names.get(h.site_id),
            "seq": h.seq,
            "hash": h.hash,
            "at": iso_utc(datetime.now(UTC)),
        }
        for h in found
    ]


def head_line(head: dict[str, Any]) -> str:
    """`SITE_ID SEQ HASH  NAME`: the text form of `vigil audit head`, which `--anchor` reads back."""
    name = head["site"] if head["site"] is not None else INSTALLATION_NAME
    return f"{head['site_id']} {head['seq']} {head['hash']}  {name}"


def read_anchor(path: Path) -> dict[int, ChainHead]:
    """Heads saved from `vigil audit head` (text or `--format json`); AuditQueryError names the bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AuditQueryError(f"{path}: cannot read the anchor file: {error}") from None
    if text.lstrip().startswith("["):
        return _anchor_json(path, text)
    anchors: dict[int, ChainHead] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        head = _anchor_head(path, f"line {number}", parts[0], parts[1] if len(parts) > 1 else "", parts[2:3])
        anchors[head.site_id] = head
    return anchors


def _anchor_json(path: Path, text: str) -> dict[int, ChainHead]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise AuditQueryError(f"{path}: not valid JSON: {error}") from None
    anchors: dict[int, ChainHead] = {}
    for index, item in enumerate(items if isinstance(items, list) else [None]):
        where = f"item {index}"
        if not isinstance(item, dict):
            raise AuditQueryError(f"{path}: {where}: expected an object with site_id, seq and hash")
        value = item.get("hash")
        head = _anchor_head(
            path, where, str(item.get("site_id", "")), str(item.get("seq", "")), [value] if value else []
        )
        anchors[head.site_id] = head
    return anchors


def _anchor_head(path: Path, where: str, site_id: str, seq: str, digest: list[str]) -> ChainHead:
    if not site_id.isdigit() or not seq.isdigit():
        raise AuditQueryError(f"{path}: {where}: expected SITE_ID SEQ HASH (numbers, then a SHA-256)")
    if len(digest) != 1 or len(digest[0]) != 64 or any(c not in "0123456789abcdef" for c in digest[0]):
        raise AuditQueryError(f"{path}: {where}: hash: expected 64 lowercase hexadecimal digits")
    return ChainHead(int(site_id), int(seq), digest[0])
