"""One candidate in, one verdict out: integrity, parse, validate, extract (CPU only, no database).

The order follows CSAF §7.3.2: hashes and signature are checked on the raw bytes before any
parsing, so a tampered document never reaches the JSON parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vigil.sources.csaf.document import ExtractedAdvisory, extract
from vigil.sources.csaf.errors import NotAnAdvisory, RejectedDocument
from vigil.sources.csaf.files import Candidate
from vigil.sources.csaf.integrity import Integrity, PublicKey, check_hash, sha256_and_sha512, verify_signature
from vigil.sources.csaf.parse import UTF8_BOM, csaf_version_of, load_json
from vigil.sources.csaf.validate import TestFailure, check


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document that passed every check and is ready to store."""

    source: str
    """Path or URL it came from."""
    content: bytes
    """The original bytes."""
    digests: tuple[str, str]
    """(sha256, sha512) hex digests of the bytes."""
    integrity: Integrity
    """Which hash and signature checks it passed."""
    extracted: ExtractedAdvisory
    """The flattened document."""
    failures: tuple[TestFailure, ...]
    """Failed mandatory tests and tolerated defects, stored as quality flags."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """A document that is not stored: rejected, skipped (not an advisory) or already stored."""

    source: str
    """Path or URL it came from."""
    status: str
    """`rejected`, `skipped` or `unchanged`."""
    reason: str
    """One line saying why."""
    sha256: str | None = None
    """For `unchanged`: the digest of the stored bytes."""
    integrity: Integrity | None = None
    """For `unchanged`: what this copy's hashes and signature proved (a key may have been added since)."""


@dataclass(frozen=True)
class ReadPolicy:
    """What every read applies; built once per import run."""

    max_document_bytes: int
    """Size limit."""
    keys: tuple[PublicKey, ...]
    """Configured OpenPGP keys; with none, signatures are recorded as `unchecked`."""
    known_sha256: frozenset[str]
    """Bytes already stored: identical documents are `unchanged` without being parsed again."""


def read_candidate(candidate: Candidate, policy: ReadPolicy) -> Prepared | Verdict:
    """Check and parse one candidate; never raises for bad input."""
    if candidate.skipped is not None:
        return Verdict(candidate.source, "skipped", candidate.skipped)
    if candidate.refusal is not None or candidate.content is None:
        return Verdict(candidate.source, "rejected", candidate.refusal or "no content")
    try:
        return _read(candidate, candidate.content, policy)
    except NotAnAdvisory as error:
        return Verdict(candidate.source, "skipped" if candidate.from_scan else "rejected", str(error))
    except RejectedDocument as error:
        return Verdict(candidate.source, "rejected", str(error))


def _read(candidate: Candidate, content: bytes, policy: ReadPolicy) -> Prepared | Verdict:
    if len(content) > policy.max_document_bytes:
        raise RejectedDocument(f"document is {len(content):,} bytes, over the {policy.max_document_bytes:,}-byte limit")
    hashes = [kind for kind in ("sha256", "sha512") if kind in candidate.sidecars]
    for algorithm in hashes:
        check_hash(content, algorithm, candidate.sidecars[algorithm])
    signature: str = "absent"
    signer: str | None = None
    if "asc" in candidate.sidecars:
        signature = "unchecked"
        if policy.keys:
            signer = verify_signature(content, candidate.sidecars["asc"], policy.keys)
            signature = "verified"
    digests = sha256_and_sha512(content)
    integrity = Integrity("+".join(hashes) or "none", signature, signer)
    if digests[0] in policy.known_sha256:
        return Verdict(candidate.source, "unchanged", "identical bytes already stored", digests[0], integrity)
    doc = load_json(content)
    kind = _non_advisory_kind(doc)
    if kind:
        raise NotAnAdvisory(f"not an advisory: a {kind}; use `vigil advisories sync` for feeds")
    version = csaf_version_of(doc)
    failures = check(doc, version)
    if content.startswith(UTF8_BOM):
        failures += (TestFailure("vigil:bom", "vigil", "/", "document starts with a UTF-8 byte order mark"),)
    extracted = extract(doc)
    failures += tuple(
        TestFailure("vigil:cvss", "vigil", f"/vulnerabilities/{s.vulnerability_ordinal}", s.error)
        for s in extracted.scores
        if s.error
    )
    return Prepared(candidate.source, content, digests, integrity, extracted, failures)


def _non_advisory_kind(doc: dict[str, Any]) -> str | None:
    """Name the CSAF distribution files that live beside advisories and are not advisories."""
    if "document" in doc:
        return None
    if "feed" in doc:
        return "ROLIE feed"
    if "service" in doc:
        return "ROLIE service document"
    if "canonical_url" in doc and "role" in doc:
        return "provider-metadata.json"
    if "aggregator" in doc:
        return "aggregator.json"
    return None
