"""The identity of a stored advisory revision, as the matcher reads it (no database access here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RevisionHeader:
    """What matching needs to know of the document itself."""

    revision_id: int
    """advisory_revision.id."""
    advisory_id: int
    """advisory.id: the same for every revision of one document."""
    tracking_id: str
    """/document/tracking/id."""
    tracking_version: str
    """/document/tracking/version."""
    publisher_name: str
    """/document/publisher/name."""
    publisher_category: str
    """/document/publisher/category: vendor, coordinator, discoverer, ..."""
