"""Advisory repository: store a revision as one unit, pick the current one, read them back."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from vigil.sources.csaf.document import ExtractedAdvisory
from vigil.sources.csaf.integrity import Integrity
from vigil.sources.csaf.validate import TestFailure
from vigil.store import schema as t

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def version_key(version: str) -> tuple[Any, ...]:
    """Order tracking versions: integers (`3`) and semantic versions (`1.2.0-rc.1`), per CSAF §3.1.11.3.5.

    Integer N sorts as N.0.0 so that a document that switched schemes (a 6.1.30 failure) still
    orders sensibly; a pre-release sorts before its release.
    """
    if version.isdigit():
        return (int(version), 0, 0, 1, ())
    match = _SEMVER.match(version)
    if not match:
        return (-1, 0, 0, 0, (version,))
    major, minor, patch, pre = match.groups()
    if pre is None:
        return (int(major), int(minor), int(patch), 1, ())
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch), 0, ids)


def known_content_hashes(session: Session) -> set[str]:
    """SHA-256 of every stored revision: identical bytes are recognised without parsing them again."""
    return set(session.scalars(select(t.AdvisoryRevision.content_sha256)))


def save_revision(
    session: Session,
    extracted: ExtractedAdvisory,
    content: bytes,
    digests: tuple[str, str],
    integrity: Integrity,
    source: str,
    failures: Sequence[TestFailure],
) -> tuple[str, int]:
    """Store one revision with all its rows; return (`imported` | `revision` | `unchanged`, revision id).

    `imported` is a document seen for the first time, `revision` a new revision of a known one.
    The caller owns the transaction, so a crash leaves the revision entirely stored or absent.
    """
    header = extracted.header
    sha256, sha512 = digests
    advisory_id = session.scalar(
        select(t.Advisory.id).where(
            t.Advisory.publisher_namespace == header.publisher_namespace,
            t.Advisory.tracking_id == header.tracking_id,
        )
    )
    status = "revision"
    if advisory_id is None:
        status = "imported"
        advisory_id = session.scalar(
            insert(t.Advisory)
            .values(publisher_namespace=header.publisher_namespace, tracking_id=header.tracking_id)
            .returning(t.Advisory.id)
        )
    else:
        existing = session.scalar(
            select(t.AdvisoryRevision.id).where(
                t.AdvisoryRevision.advisory_id == advisory_id, t.AdvisoryRevision.content_sha256 == sha256
            )
        )
        if existing is not None:
            return "unchanged", existing
    assert advisory_id is not None
    revision_id = session.scalar(
        insert(t.AdvisoryRevision)
        .values(
            advisory_id=advisory_id,
            tracking_version=header.tracking_version,
            tracking_status=header.tracking_status,
            initial_release_date=header.initial_release_date,
            current_release_date=header.current_release_date,
            csaf_version=header.csaf_version,
            category=header.category,
            title=header.title,
            publisher_name=header.publisher_name,
            publisher_category=header.publisher_category,
            lang=header.lang,
            tlp_label=header.tlp_label,
            aggregate_severity=header.aggregate_severity,
            content_sha256=sha256,
            content_sha512=sha512,
            size_bytes=len(content),
            source=source,
            integrity=integrity.hashes,
            signature=integrity.signature,
            signer_fingerprint=integrity.signer_fingerprint,
            imported_at=datetime.now(UTC),
            is_current=False,
        )
        .returning(t.AdvisoryRevision.id)
    )
    assert revision_id is not None
    session.execute(insert(t.AdvisoryContent).values(revision_id=revision_id, content=content))
    _insert_rows(session, t.QualityFlag, revision_id, failures, rename={"group": "test_group"})
    _insert_rows(session, t.Product, revision_id, extracted.products)
    _insert_rows(session, t.ProductIdentificationHelper, revision_id, extracted.helpers)
    _insert_rows(session, t.Relationship, revision_id, extracted.relationships)
    _insert_rows(session, t.ProductGroupMember, revision_id, extracted.group_members)
    _insert_rows(session, t.Vulnerability, revision_id, extracted.vulnerabilities)
    _insert_rows(session, t.Note, revision_id, extracted.notes)
    _insert_rows(session, t.Reference, revision_id, extracted.references)
    _insert_rows(session, t.Score, revision_id, extracted.scores, drop=("error",))
    _insert_rows(session, t.ProductStatus, revision_id, extracted.statuses)
    _insert_rows(session, t.Remediation, revision_id, extracted.remediations)
    _insert_rows(session, t.Threat, revision_id, extracted.threats)
    _insert_rows(session, t.Flag, revision_id, extracted.flags)
    refresh_current(session, advisory_id)
    return status, revision_id


def _insert_rows(
    session: Session,
    table: type[t.Base],
    revision_id: int,
    records: Sequence[Any],
    rename: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
) -> None:
    if not records:
        return
    names = [f.name for f in fields(records[0]) if f.name not in drop]
    columns = [(rename or {}).get(name, name) for name in names]
    rows = [
        {"revision_id": revision_id, **dict(zip(columns, (getattr(r, n) for n in names), strict=True))} for r in records
    ]
    # Core executemany on the Table: the ORM bulk path took 30% longer (docs/advisory-store.md).
    session.execute(insert(table.__table__), rows)  # type: ignore[arg-type]


def refresh_current(session: Session, advisory_id: int) -> None:
    """Mark the current revision: highest tracking version, then latest current_release_date, then newest."""
    rows = session.execute(
        select(
            t.AdvisoryRevision.id,
            t.AdvisoryRevision.tracking_version,
            t.AdvisoryRevision.current_release_date,
        ).where(t.AdvisoryRevision.advisory_id == advisory_id)
    ).all()
    best = max(rows, key=lambda r: (version_key(r.tracking_version), r.current_release_date, r.id))
    session.execute(
        update(t.AdvisoryRevision)
        .where(t.AdvisoryRevision.advisory_id == advisory_id)
        .values(is_current=t.AdvisoryRevision.id == best.id)
    )


def record_verified_signature(session: Session, content_sha256: str, fingerprint: str) -> bool:
    """Mark stored bytes as signature-verified (a key was configured after they were imported).

    Returns True when a revision changed; a revision already verified keeps its first signer.
    """
    result = session.execute(
        update(t.AdvisoryRevision)
        .where(t.AdvisoryRevision.content_sha256 == content_sha256, t.AdvisoryRevision.signature != "verified")
        .values(signature="verified", signer_fingerprint=fingerprint)
    )
    return bool(getattr(result, "rowcount", 0))


def count_rows(session: Session) -> dict[str, int]:
    """Row count of every table, used to compare database states."""
    return {
        table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
        for table in t.Base.metadata.sorted_tables
    }
