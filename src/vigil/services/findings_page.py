"""Use case: findings a page at a time across the sites a caller may see, and one finding only if its site is
one of them. Pages are keyset on (site_id, id), each statement scoped to one site; rows are the
`vigil findings --format json` objects (findings_read.finding_dict), so the API says what the CLI says."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from vigil.services.findings_read import finding_dict, show_finding
from vigil.services.store import Store
from vigil.store.advisory_queries import find_advisories
from vigil.store.findings_page import finding_site, site_findings_page
from vigil.store.findings_queries import FindingFilter


class UnknownAdvisory(LookupError):
    """No advisory has the tracking id asked for."""


@dataclass(frozen=True)
class FindingsPageQuery:
    """Filters, already checked against the vocabulary (the API does that, naming the parameter)."""

    site_ids: Sequence[int]
    """Sites to read (the caller may see every one), ascending."""
    advisory: str | None = None
    """Tracking id."""
    asset_id: str | None = None
    """One asset."""
    statuses: Sequence[str] = ()
    """Any of matching.findings.STATUSES."""
    matches: Sequence[str] = ()
    """Any of MATCH_LEVELS."""
    review: str | None = None
    """pending, confirmed or rejected."""
    cve: str | None = None
    """One CVE id."""
    include_closed: bool = False
    """Closed findings too."""
    include_superseded: bool = False
    """Findings a vendor's document prevails over too."""
    response_statuses: Sequence[str] = field(default_factory=tuple)
    """Any of RESPONSE_STATUSES."""


@dataclass(frozen=True)
class FindingsPage:
    """One page."""

    items: list[dict[str, Any]]
    """finding_dict objects, by (site_id, id)."""
    next_key: tuple[int, int] | None
    """(site_id, id) of the last item when more follow, else None."""


def findings_page(store: Store, query: FindingsPageQuery, after: tuple[int, int] | None, limit: int) -> FindingsPage:
    """Up to `limit` findings after the key `after`, by (site_id, id)."""
    with store.sessions() as session:
        advisory_ids: list[int] | None = None
        if query.advisory is not None:
            advisory_ids = [row[0].id for row in find_advisories(session, query.advisory)]
            if not advisory_ids:
                raise UnknownAdvisory(f"no advisory with tracking id {query.advisory!r}")
        spec = FindingFilter(
            advisory_ids=advisory_ids,
            asset_id=query.asset_id,
            statuses=list(query.statuses) or None,
            matches=list(query.matches) or None,
            review=query.review,
            cve=query.cve,
            include_closed=query.include_closed,
            include_superseded=query.include_superseded,
            response_statuses=list(query.response_statuses) or None,
        )
        items: list[dict[str, Any]] = []
        keys: list[tuple[int, int]] = []
        for site_id in sorted(query.site_ids):
            if after is not None and site_id < after[0]:
                continue
            after_id = after[1] if after is not None and site_id == after[0] else None
            for row in site_findings_page(session, site_id, spec, after_id, limit + 1 - len(items)):
                items.append(finding_dict(row))
                keys.append((site_id, row[0].id))
            if len(items) > limit:
                break
    if len(items) > limit:
        return FindingsPage(items[:limit], keys[limit - 1])
    return FindingsPage(items, None)


def locate_finding(store: Store, site_ids: Sequence[int], finding_id: int) -> int | None:
    """The site (among `site_ids`) holding the finding, else None."""
    with store.sessions() as session:
        return finding_site(session, site_ids, finding_id)


def show_visible_finding(store: Store, site_ids: Sequence[int], finding_id: int) -> dict[str, Any] | None:
    """`vigil findings show --format json` of the finding, or None when no site of `site_ids` holds it."""
    if locate_finding(store, site_ids, finding_id) is None:
        return None
    return show_finding(store, finding_id)
