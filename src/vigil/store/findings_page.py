"""Keyset pages of one site's findings: `id > after ORDER BY id LIMIT n` walks the primary key (site_id, id),
so the millionth row costs what the first does (an OFFSET would read every row before it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store import schema as t
from vigil.store.findings_queries import FindingFilter
from vigil.store.findings_queries import _filtered as filtered  # the CLI's filter semantics, not a copy

Rev = t.AdvisoryRevision
Ev = t.FindingEvidence


FINDING_FIELDS = (
    "id",
    "asset_id",
    "cve",
    "vulnerability_key",
    "status",
    "csaf_status",
    "match",
    "review",
    "product_ids",
    "prevailing",
    "superseded_by",
    "scope_reason",
    "opened_at",
    "updated_at",
    "closed_at",
    "closed_reason",
    "response_status",
    "response_version",
    "response_source",
    "response_detail",
    "decision_id",
    "risk_expires_at",
)
"""The finding columns findings_read.finding_dict reads: selected as columns, a row reads them by name as an ORM
entity would, at a fraction of the cost of building entities (bench/api.py)."""


def site_findings_page(
    session: Session, site_id: int, spec: FindingFilter, after_id: int | None, limit: int
) -> list[tuple[Any, ...]]:
    """(finding row, site name, tracking id, publisher name, publisher category, evidence) of one site, by id:
    the shape of findings_queries.list_findings' rows, so findings_read.finding_dict reads them."""
    f = t.Finding
    query: Any = (
        select(
            *(getattr(f, name) for name in FINDING_FIELDS),
            t.Site.name.label("site_name"),
            t.Advisory.tracking_id,
            Rev.publisher_name,
            Rev.publisher_category,
            Ev.evidence,
        )
        .join(t.Site, t.Site.id == f.site_id)
        .join(t.Advisory, t.Advisory.id == f.advisory_id)
        .join(Rev, Rev.id == f.revision_id)
        .join(Ev, (Ev.site_id == f.site_id) & (Ev.digest == f.evidence_digest))
        .where(f.site_id == site_id)
        .order_by(f.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(f.id > after_id)
    query = filtered(query, replace(spec, site_ids=None))
    return [
        (row, row.site_name, row.tracking_id, row.publisher_name, row.publisher_category, row.evidence)
        for row in session.execute(query)
    ]


def finding_site(session: Session, site_ids: Sequence[int], finding_id: int) -> int | None:
    """Which of `site_ids` holds the finding: one primary-key lookup per site (ids are unique across sites,
    and no statement spans sites)."""
    f = t.Finding
    for site_id in site_ids:
        if session.scalar(select(f.id).where(f.site_id == site_id, f.id == finding_id)) is not None:
            return site_id
    return None
