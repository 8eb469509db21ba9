"""Runtime settings, read once from the environment (CLI flags override them)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///./vigil.db"
DEFAULT_MAX_DOCUMENT_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Where vigil keeps its data and the bounds it applies to untrusted input."""

    database_url: str
    """SQLAlchemy URL; `sqlite:///./vigil.db` unless `VIGIL_DATABASE_URL` or `--db` says otherwise."""

    max_document_bytes: int
    """Advisories larger than this are rejected before parsing (`VIGIL_MAX_DOCUMENT_BYTES`)."""


def load_settings(database_url: str | None = None, max_document_bytes: int | None = None) -> Settings:
    """Settings from explicit values, else the environment, else the defaults."""
    url = database_url or os.environ.get("VIGIL_DATABASE_URL") or DEFAULT_DATABASE_URL
    limit = max_document_bytes or int(os.environ.get("VIGIL_MAX_DOCUMENT_BYTES", str(DEFAULT_MAX_DOCUMENT_BYTES)))
    return Settings(database_url=url, max_document_bytes=limit)
