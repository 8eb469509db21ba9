"""Use case: import advisories (from files, directories or a provider sync) into the store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from vigil.services.audit import system_actor
from vigil.services.keys import configured_keys
from vigil.services.store import Store
from vigil.sources.csaf.files import Candidate
from vigil.sources.csaf.parallel import default_workers, read_all
from vigil.sources.csaf.reader import Prepared, ReadPolicy, Verdict
from vigil.store import audit
from vigil.store.advisories import known_content_hashes, record_verified_signature, save_revision
from vigil.store.db import database_reason, transaction


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one candidate document."""

    source: str
    """Path or URL."""
    status: str
    """`imported` (new advisory), `revision` (new revision of a known one), `unchanged`, `rejected`, `skipped`."""
    reason: str | None = None
    """Why it was rejected or skipped."""
    tracking_id: str | None = None
    """The advisory's tracking id, when it was read."""
    tracking_version: str | None = None
    """Its tracking version."""
    revision_id: int | None = None
    """The stored revision."""
    quality_flags: int = 0
    """Failed mandatory tests recorded on the revision."""

    @property
    def line(self) -> str:
        """One line for humans: `source: status: reason`."""
        detail = f": {self.reason}" if self.reason else ""
        return f"{self.source}: {self.status}{detail}"


@dataclass
class ImportSummary:
    """Counts of one import run."""

    counts: Counter[str] = field(default_factory=Counter)
    """Outcomes by status."""

    def add(self, outcome: ImportOutcome) -> None:
        self.counts[outcome.status] += 1

    @property
    def imported(self) -> int:
        return self.counts["imported"] + self.counts["revision"]

    @property
    def rejected(self) -> int:
        return self.counts["rejected"]

    @property
    def line(self) -> str:
        """The summary line scripts read: `imported N, unchanged U, rejected R`."""
        return f"imported {self.imported}, unchanged {self.counts['unchanged']}, rejected {self.rejected}"


def import_candidates(
    store: Store,
    candidates: Iterable[Candidate],
    on_outcome: Callable[[ImportOutcome], None] | None = None,
    workers: int | None = None,
) -> ImportSummary:
    """Read, check and store every candidate; one bad document never stops the rest."""
    summary = ImportSummary()
    for outcome in iter_import(store, candidates, workers):
        summary.add(outcome)
        if on_outcome:
            on_outcome(outcome)
    return summary


def iter_import(store: Store, candidates: Iterable[Candidate], workers: int | None = None) -> Iterator[ImportOutcome]:
    """Import candidates, each stored in its own transaction, yielding outcomes in input order.

    Reading (integrity, parse, validation) runs on `workers` processes; one writer stores.
    """
    with store.sessions() as session:
        known = known_content_hashes(session)
        keys = configured_keys(session)
    policy = ReadPolicy(store.settings.max_document_bytes, keys, frozenset(known))
    for verdict in read_all(candidates, policy, default_workers() if workers is None else workers):
        if isinstance(verdict, Verdict):
            yield _unstored(store, verdict)
            continue
        yield store_prepared(store, verdict)


def _unstored(store: Store, verdict: Verdict) -> ImportOutcome:
    """The outcome of a document not stored again; unchanged bytes may still gain a verified signature."""
    integrity, reason = verdict.integrity, verdict.reason
    if verdict.sha256 and integrity and integrity.signature == "verified" and integrity.signer_fingerprint:
        with transaction(store.sessions) as session:
            if record_verified_signature(session, verdict.sha256, integrity.signer_fingerprint):
                reason = f"{reason}; its signature is now verified"
                detail = {"source": verdict.source, "sha256": verdict.sha256, "signer": integrity.signer_fingerprint}
                audit.append(session, None, system_actor(), "advisory.signature", None, detail, datetime.now(UTC))
    return ImportOutcome(verdict.source, verdict.status, reason)


def store_prepared(store: Store, prepared: Prepared) -> ImportOutcome:
    """Store one checked document in its own transaction."""
    header = prepared.extracted.header
    try:
        status, revision_id = _save(store, prepared)
    except IntegrityError:
        # Another importer stored the same advisory (or bytes) between our read and our write:
        # a second attempt sees its rows and becomes a new revision or `unchanged`.
        try:
            status, revision_id = _save(store, prepared)
        except SQLAlchemyError as error:
            return _refused(prepared, error)
    except SQLAlchemyError as error:
        return _refused(prepared, error)
    return ImportOutcome(
        prepared.source,
        status,
        "identical bytes already stored" if status == "unchanged" else None,
        header.tracking_id,
        header.tracking_version,
        revision_id,
        len(prepared.failures) if status != "unchanged" else 0,
    )


def _save(store: Store, prepared: Prepared) -> tuple[str, int]:
    with transaction(store.sessions) as session:
        status, revision_id = save_revision(
            session,
            prepared.extracted,
            prepared.content,
            prepared.digests,
            prepared.integrity,
            prepared.source,
            prepared.failures,
        )
        if status != "unchanged":  # one audit entry per stored revision, committed with it
            audit.append(session, None, system_actor(), "advisory.import", *_audited(prepared, status, revision_id))
        return status, revision_id


def _audited(prepared: Prepared, status: str, revision_id: int) -> tuple[str, dict[str, Any], datetime]:
    """(subject, detail, now) of the audit entry recording one stored revision."""
    header = prepared.extracted.header
    detail = {
        "status": status,
        "publisher_namespace": header.publisher_namespace,
        "tracking_id": header.tracking_id,
        "tracking_version": header.tracking_version,
        "revision_id": revision_id,
        "source": prepared.source,
        "sha256": prepared.digests[0],
        "signature": prepared.integrity.signature,
        "quality_flags": len(prepared.failures),
    }
    return header.tracking_id, detail, datetime.now(UTC)


def _refused(prepared: Prepared, error: SQLAlchemyError) -> ImportOutcome:
    return ImportOutcome(prepared.source, "rejected", f"database refused it: {database_reason(error)}")
