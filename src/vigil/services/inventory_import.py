"""Use case: import a site's inventory file (upsert), reporting every row it could not use.

The whole file lands in one transaction: a crash or an error leaves the database as it was, and
a dry run is the same work rolled back. Rejected rows are written to `FILE.rejects.csv` with the
reason, so nothing the hospital sent is lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TypeVar

from vigil.identity.vendors import default_aliases
from vigil.outputs.spreadsheet import write_csv
from vigil.services.audit import system_actor
from vigil.services.store import Store
from vigil.sources.inventory.assets import AssetAssembler, RowRejection
from vigil.sources.inventory.mapping import load_mapping
from vigil.sources.inventory.records import InventoryFileError, TableHeader
from vigil.sources.inventory.tabular import open_table
from vigil.store import audit
from vigil.store.db import refresh_statistics, transaction
from vigil.store.inventory import asset_hashes, delete_assets, insert_assets, site_ids, update_assets

T = TypeVar("T")
_PROGRESS_EVERY = 10_000
_CHUNK = 5_000


@dataclass
class InventoryImportReport:
    """What an inventory import did (or, for a dry run, would do)."""

    file: str
    """The file imported."""
    dry_run: bool
    """True when nothing was written."""
    added: int = 0
    """Assets new to their site."""
    updated: int = 0
    """Assets whose content changed."""
    unchanged: int = 0
    """Assets imported again as they were."""
    missing: list[tuple[str, str]] = field(default_factory=list)
    """(site, asset_id) stored for a site of this file but absent from it."""
    pruned: bool = False
    """True when the missing assets were removed (`--prune`)."""
    rejections: list[RowRejection] = field(default_factory=list)
    """Rows that could not be used."""
    rejects_file: Path | None = None
    """Where the rejected rows were written."""
    rows: int = 0
    """Data rows read."""

    @property
    def line(self) -> str:
        """The summary line scripts read."""
        return (
            f"assets: added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"missing {len(self.missing)}; rows rejected {len(self.rejections)}"
        )


def import_inventory(
    store: Store,
    path: Path,
    site: str | None = None,
    mapping: Path | None = None,
    sheet: str | None = None,
    dry_run: bool = False,
    prune: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> InventoryImportReport:
    """Upsert the assets of `path`; InventoryFileError when the file as a whole cannot be read."""
    header, rows = open_table(path, load_mapping(mapping) if mapping else None, sheet)
    report = InventoryImportReport(str(path), dry_run)
    assembler = AssetAssembler(site, default_aliases())
    for row in rows:
        report.rows += 1
        rejection = assembler.add(row)
        if rejection is not None:
            report.rejections.append(rejection)
        if on_rows and report.rows % _PROGRESS_EVERY == 0:
            on_rows(report.rows)
    if on_rows:
        on_rows(report.rows)
    _store(store, report, assembler, prune)
    if not dry_run:
        refresh_statistics(store.engine)
    if report.rejections and not dry_run:
        report.rejects_file = write_rejects(path, header, report.rejections)
    return report


def _store(store: Store, report: InventoryImportReport, assembler: AssetAssembler, prune: bool) -> None:
    digest = _sha256(Path(report.file))
    with transaction(store.sessions) as session:
        ids = site_ids(session, assembler.sites(), create=True)
        for name in assembler.sites():
            site_id = ids[name]
            before = (report.added, report.updated, report.unchanged)
            known = asset_hashes(session, site_id)
            present = {asset_id for site, asset_id in assembler.rejected_ids if site == name}
            # Records are built and written a chunk at a time: memory holds the compact buildings only.
            for chunk in batched(assembler.assets(name), _CHUNK):
                new = [r for r in chunk if r.asset_id not in known]
                changed = [r for r in chunk if r.asset_id in known and known[r.asset_id] != r.content_hash]
                insert_assets(session, site_id, new, report.file)
                update_assets(session, site_id, changed, report.file)
                present.update(r.asset_id for r in chunk)
                report.added += len(new)
                report.updated += len(changed)
                report.unchanged += len(chunk) - len(new) - len(changed)
            missing = sorted(a for a in known if a not in present)
            if prune:
                delete_assets(session, site_id, missing)
            report.missing.extend((name, asset_id) for asset_id in missing)
            # One entry per site, in this transaction: a dry run rolls it back with the rest.
            detail = {
                "file": report.file,
                "sha256": digest,
                "added": report.added - before[0],
                "updated": report.updated - before[1],
                "unchanged": report.unchanged - before[2],
                "missing": len(missing),
                "pruned": len(missing) if prune else 0,
                "file_rows": report.rows,
                "file_rows_rejected": len(report.rejections),
            }
            audit.append(session, site_id, system_actor(), "inventory.import", report.file, detail, datetime.now(UTC))
        report.pruned = prune
        if report.dry_run:
            session.rollback()


def _sha256(path: Path) -> str:
    """The imported file's SHA-256 (streamed: inventories can be large), so the audit trail names its bytes."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """itertools.batched, which arrives only with Python 3.12."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def write_rejects(path: Path, header: TableHeader, rejections: list[RowRejection]) -> Path:
    """`FILE.rejects.csv`: row number, reason, then the row's cells under their original headers."""
    target = rejects_path(path)
    original_of = {canonical: original for original, canonical in header.mapped.items()}
    columns = list(header.columns)

    def lines() -> Iterator[list[object]]:
        for rejection in rejections:
            row = rejection.row
            cells = {original_of.get(k, k): v for k, v in row.values.items()} | row.extra
            reason = f"{rejection.column}: {rejection.reason}" if rejection.column else rejection.reason
            yield [row.row_number, reason, *(cells.get(c, "") for c in columns)]

    with target.open("w", newline="", encoding="utf-8") as handle:
        write_csv(handle, ["row", "reason", *columns], lines())
    return target


__all__ = ["InventoryFileError", "InventoryImportReport", "import_inventory", "rejects_path"]
