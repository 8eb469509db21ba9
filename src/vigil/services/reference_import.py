"""Use case: import CISA's KEV catalog and FIRST's EPSS scores (reference data for prioritisation).

One transaction per file: the valid rows and one audit entry (installation-wide chain) commit together. Rows
the file gets wrong are reported one line each and left out; a file that cannot be read changes nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vigil.services.store import Store
from vigil.sources.epss import read_epss
from vigil.sources.kev import read_kev
from vigil.sources.reference_files import RejectedRow
from vigil.store import audit
from vigil.store.db import transaction
from vigil.store.reference_scores import upsert_epss, upsert_kev


@dataclass(frozen=True)
class ReferenceImportReport:
    """What one KEV or EPSS import did."""

    kind: str
    """kev or epss."""
    file: str
    """The file as given."""
    label: str
    """The catalog as decision points cite it: `CISA KEV 2026.11.20`, `FIRST EPSS v2025.03.14 2026-11-20`."""
    imported: int
    """Rows written (inserted or updated)."""
    rejected: tuple[RejectedRow, ...]
    """Rows left out, with the field and the reason."""

    @property
    def lines(self) -> list[str]:
        """One line per rejected row: `FILE: row 7: cveID: ...`."""
        return [row.line(self.file) for row in self.rejected]

    @property
    def summary(self) -> str:
        return f"{self.kind}: {self.imported} imported from {self.file} ({self.label}), {len(self.rejected)} rejected"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def import_kev(store: Store, path: Path, actor: str, now: datetime | None = None) -> ReferenceImportReport:
    """Upsert a KEV catalog file (JSON or CSV, gzip allowed). Raises ReferenceFileError for an unreadable file."""
    catalog = read_kev(path)
    now = now or datetime.now(UTC)
    source = f"{catalog.label} ({path.name})"
    with transaction(store.sessions) as session:
        written = upsert_kev(session, catalog.entries, source, now)
        if written:
            detail = _detail(path, written, catalog.rejected) | {"catalog_version": catalog.version}
            audit.append(session, None, actor, "kev.import", source, detail, now)
    return ReferenceImportReport("kev", str(path), catalog.label, written, catalog.rejected)


def import_epss(store: Store, path: Path, actor: str, now: datetime | None = None) -> ReferenceImportReport:
    """Upsert an EPSS scores file (CSV, gzip allowed). Raises ReferenceFileError for an unreadable file."""
    scores = read_epss(path)
    now = now or datetime.now(UTC)
    source = f"{scores.label} ({path.name})"
    with transaction(store.sessions) as session:
        written = upsert_epss(session, scores.scores, scores.score_date, source, now)
        if written:
            detail = _detail(path, written, scores.rejected) | {
                "model_version": scores.model_version,
                "score_date": scores.score_date,
            }
            audit.append(session, None, actor, "epss.import", source, detail, now)
    return ReferenceImportReport("epss", str(path), scores.label, written, scores.rejected)


def _detail(path: Path, written: int, rejected: tuple[RejectedRow, ...]) -> dict[str, object]:
    return {
        "file": str(path),
        "sha256": _sha256(path),
        "imported": written,
        "rejected": len(rejected),
        "rejected_rows": [row.line(path.name) for row in rejected[:20]],
    }
