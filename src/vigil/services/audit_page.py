"""Use case: the audit trail a page at a time, chain by chain (installation chain 0 first, then each site the
caller may see), newest first within a chain; entries are `vigil audit list --format json` objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vigil.services.audit import INSTALLATION_NAME, _entry_dict
from vigil.services.site_scope import SiteRef
from vigil.services.store import Store
from vigil.store.audit import INSTALLATION
from vigil.store.audit_page import chain_page

__all__ = ["INSTALLATION", "AuditPage", "audit_page"]


@dataclass(frozen=True)
class AuditPage:
    """One page."""

    items: list[dict[str, Any]]
    """Entries, by chain, newest first within one."""
    next_key: tuple[int, int] | None
    """(chain, seq) of the last item when more follow."""


def audit_page(
    store: Store,
    chains: Sequence[int],
    sites: Sequence[SiteRef],
    actions: Sequence[str],
    since: datetime | None,
    after: tuple[int, int] | None,
    limit: int,
) -> AuditPage:
    """Up to `limit` entries of `chains` (ids: 0 for the installation, else site ids) after the key `after`."""
    names = {INSTALLATION: INSTALLATION_NAME} | {s.id: s.name for s in sites}
    rows: list[Any] = []
    with store.sessions() as session:
        for chain in sorted(chains):
            if after is not None and chain < after[0]:
                continue
            before = after[1] if after is not None and chain == after[0] else None
            rows += chain_page(session, chain, before, limit + 1 - len(rows), actions, since)
            if len(rows) > limit:
                break
    items = [_entry_dict(row, names) for row in rows[:limit]]
    if len(rows) > limit:
        last = rows[limit - 1]
        return AuditPage(items, (last.site_id, last.seq))
    return AuditPage(items, None)
