"""Timestamps as vigil writes them for people and scripts: ISO 8601 in UTC with a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(value: datetime | None) -> str | None:
    """`2021-01-14T00:00:00Z`; the store hands back aware UTC datetimes (schema.UTCDateTime)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
