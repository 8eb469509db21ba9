"""Use case: which sites a caller may see, by id and name. The web resolves every site a request names through
here, so a site the caller may not see answers exactly as a site that does not exist."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from vigil.services.store import Store
from vigil.store.inventory import all_sites


@dataclass(frozen=True)
class SiteRef:
    """A site the caller may see."""

    id: int
    """site.id."""
    name: str
    """site.name."""


def visible_sites(store: Store, granted: Collection[int] | None) -> list[SiteRef]:
    """The existing sites among `granted` (None: every site), by id."""
    with store.sessions() as session:
        rows = all_sites(session)
    return sorted((SiteRef(i, n) for i, n in rows if granted is None or i in granted), key=lambda s: s.id)


def site_named(store: Store, name: str, granted: Collection[int] | None) -> SiteRef | None:
    """The named site if it exists and the caller may see it, else None (the same answer for both)."""
    return next((s for s in visible_sites(store, granted) if s.name == name), None)
