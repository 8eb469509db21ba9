"""What the advisories behind a batch of findings say, read in a few queries per batch (not per finding):
vulnerability ordinals, CVSS candidates, exploitation statements per vulnerability and per CVE across every
current advisory, and harm statements. Pure lookups once built."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from vigil.matching.compiled import vulnerability_key
from vigil.response.advisory_text import exploitation_statement, harm_statement
from vigil.response.cvss_scores import CvssScore, ScoreCandidate, exploit_maturity, parse_score, pick_score
from vigil.response.decision_points import Statement
from vigil.sources.csaf.document import VulnerabilityRecord
from vigil.store.priority_queries import (
    current_vulnerabilities_with,
    notes_of,
    scores_of,
    threats_of,
    tracking_ids,
    vulnerabilities_of,
)

VulnRef = tuple[int, int]
"""(revision_id, vulnerability ordinal)."""

# Notes that never speak for the advisory's own assessment of harm (boilerplate around it).
_NOT_IMPACT = frozenset({"legal_disclaimer", "general"})


@dataclass
class AdvisoryEvidence:
    """Everything read for one batch of findings, keyed by revision and vulnerability."""

    ordinals: dict[tuple[int, str], int] = field(default_factory=dict)
    """(revision_id, vulnerability_key) -> ordinal."""
    tracking: dict[int, str] = field(default_factory=dict)
    """revision_id -> tracking id."""
    candidates: dict[VulnRef, list[ScoreCandidate]] = field(default_factory=lambda: defaultdict(list))
    """Stored CVSS vectors per vulnerability."""
    document_exploitation: dict[int, list[Statement]] = field(default_factory=lambda: defaultdict(list))
    """Exploitation statements of document notes (they speak for every vulnerability of the document)."""
    vulnerability_exploitation: dict[VulnRef, list[Statement]] = field(default_factory=lambda: defaultdict(list))
    """Exploitation statements of vulnerability notes and exploit_status threats."""
    document_harm: dict[int, Statement] = field(default_factory=dict)
    """First harm statement of a document's notes."""
    vulnerability_harm: dict[VulnRef, Statement] = field(default_factory=dict)
    """First harm statement of a vulnerability's notes or impact threats."""
    by_cve: dict[str, list[VulnRef]] = field(default_factory=lambda: defaultdict(list))
    """Upper-case CVE -> every current vulnerability that names it."""
    _picked: dict[tuple[VulnRef, tuple[str, ...]], CvssScore | None] = field(default_factory=dict)
    _exploitation: dict[object, tuple[Statement, ...]] = field(default_factory=dict)

    def ordinal(self, revision_id: int, key: str) -> int | None:
        return self.ordinals.get((revision_id, key))

    def score(self, ref: VulnRef, product_ids: tuple[str, ...]) -> CvssScore | None:
        """The CVSS score that stands for these products (cvss_scores.pick_score), memoised."""
        memo_key = (ref, product_ids)
        if memo_key not in self._picked:
            self._picked[memo_key] = pick_score(self.candidates.get(ref, ()), product_ids)
        return self._picked[memo_key]

    def exploitation(self, ref: VulnRef, cve: str | None) -> tuple[Statement, ...]:
        """Exploitation statements about the vulnerability: its own advisory first, then every current advisory
        that names the same CVE (exploitation is a fact about the CVE, not about one document)."""
        memo_key: object = (cve.upper(), ref) if cve else ref
        if memo_key not in self._exploitation:
            refs = [ref] + [other for other in self.by_cve.get(cve.upper(), ()) if other != ref] if cve else [ref]
            found: list[Statement] = []
            for revision_id, ordinal in refs:
                found += self.vulnerability_exploitation.get((revision_id, ordinal), ())
                found += self.document_exploitation.get(revision_id, ())
                found += self._cvss_statements((revision_id, ordinal))
            self._exploitation[memo_key] = tuple(found)
        return self._exploitation[memo_key]

    def _cvss_statements(self, ref: VulnRef) -> list[Statement]:
        statements = []
        for candidate in self.candidates.get(ref, ()):
            maturity = exploit_maturity(parse_score(candidate.version, candidate.vector))
            if maturity is not None:
                statements.append(Statement(maturity[0], maturity[1], f"{self.tracking.get(ref[0], '?')} CVSS"))
        return statements

    def harm(self, ref: VulnRef) -> Statement | None:
        return self.vulnerability_harm.get(ref) or self.document_harm.get(ref[0])


def read_evidence(session: Session, revision_ids: Collection[int], cves: Collection[str]) -> AdvisoryEvidence:
    """Read the evidence for findings of these revisions and CVEs (a few batched queries)."""
    evidence = AdvisoryEvidence()
    for row in vulnerabilities_of(session, revision_ids):
        record = VulnerabilityRecord(
            ordinal=row.ordinal,
            cve=row.cve,
            title=None,
            cwe_id=None,
            cwe_name=None,
            discovery_date=None,
            release_date=None,
            ids=row.ids,
        )
        evidence.ordinals[(row.revision_id, vulnerability_key(record))] = row.ordinal
    for row in current_vulnerabilities_with(session, cves):
        evidence.by_cve[row.cve.upper()].append((row.revision_id, row.ordinal))
    every = set(revision_ids) | {ref[0] for refs in evidence.by_cve.values() for ref in refs}
    evidence.tracking = tracking_ids(session, every)
    for row in scores_of(session, every):
        ref = (row.revision_id, row.vulnerability_ordinal)
        evidence.candidates[ref].append(ScoreCandidate(row.cvss_version, row.vector, tuple(row.product_ids or ())))
    for row in notes_of(session, every):
        tracking = evidence.tracking.get(row.revision_id, "?")
        where = f"{tracking} note {row.title!r}" if row.title else f"{tracking} {row.category} note"
        _add_text(evidence, row.revision_id, row.vulnerability_ordinal, row.text, where, row.category)
    for row in threats_of(session, every):
        where = f"{evidence.tracking.get(row.revision_id, '?')} threat {row.category}"
        if row.category == "exploit_status":
            _add_text(evidence, row.revision_id, row.vulnerability_ordinal, row.details, where, None, harm=False)
        else:
            _add_text(evidence, row.revision_id, row.vulnerability_ordinal, row.details, where, None, exploit=False)
    return evidence


def _add_text(
    evidence: AdvisoryEvidence,
    revision_id: int,
    ordinal: int | None,
    text: str,
    where: str,
    category: str | None,
    exploit: bool = True,
    harm: bool = True,
) -> None:
    if exploit:
        found = exploitation_statement(text)
        if found is not None:
            statement = Statement(found[0], found[1], where)
            if ordinal is None:
                evidence.document_exploitation[revision_id].append(statement)
            else:
                evidence.vulnerability_exploitation[(revision_id, ordinal)].append(statement)
    if harm and category not in _NOT_IMPACT:
        sentence = harm_statement(text)
        if sentence is not None:
            statement = Statement("harm", sentence, where)
            if ordinal is None:
                evidence.document_harm.setdefault(revision_id, statement)
            else:
                evidence.vulnerability_harm.setdefault((revision_id, ordinal), statement)
