"""An advisory revision compiled for matching: its product predicates and which vulnerability names which
product in which CSAF status (pure; built from stored rows read by store/matching_queries.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from vigil.identity.vendors import ManufacturerAliases
from vigil.matching.predicates import ProductPredicate, compile_products
from vigil.sources.csaf.document import (
    GroupMemberRecord,
    HelperRecord,
    ProductRecord,
    RelationshipRecord,
    StatusRecord,
    VulnerabilityRecord,
)
from vigil.store.revision_header import RevisionHeader

# CSAF product_status lists -> the finding status they mean (VEX vocabulary). `recommended` names a product
# to move to, not a state of the asset: no finding.
STATUS_MAP = {
    "known_affected": "affected",
    "first_affected": "affected",
    "last_affected": "affected",
    "fixed": "fixed",
    "first_fixed": "fixed",
    "known_not_affected": "not_affected",
    "under_investigation": "under_investigation",
}


@dataclass(frozen=True, slots=True)
class VulnerabilityRef:
    """One vulnerability of a revision, as findings refer to it."""

    key: str
    """Stable across revisions: the CVE, else the first id (`system_name:text`), else `#ordinal`."""
    cve: str | None
    """The CVE id, if the document gives one."""
    ordinal: int
    """Its position in /vulnerabilities of this revision."""


@dataclass(frozen=True, slots=True)
class CompiledRevision:
    """A revision's predicates and statuses."""

    header: RevisionHeader
    """The document's identity and publisher."""
    publisher_vendor: str
    """The publisher's canonical manufacturer name (alias table): whose products a vendor document speaks for."""
    predicates: Mapping[str, ProductPredicate]
    """product_id -> predicate."""
    statuses: Mapping[str, tuple[tuple[VulnerabilityRef, str], ...]]
    """product_id -> (vulnerability, CSAF status list name) for every status list that names the product."""
    vulnerabilities: tuple[VulnerabilityRef, ...]
    """Every vulnerability, in document order."""

    @property
    def cves(self) -> frozenset[str]:
        return frozenset(v.cve for v in self.vulnerabilities if v.cve)


class VulnerabilityLike(Protocol):
    """A vulnerability as parsed (VulnerabilityRecord) or as stored (store.schema.Vulnerability)."""

    @property
    def cve(self) -> str | None: ...
    @property
    def ids(self) -> Sequence[dict[str, Any]] | None: ...
    @property
    def ordinal(self) -> int: ...


def vulnerability_key(record: VulnerabilityLike) -> str:
    if record.cve:
        return record.cve
    for entry in record.ids or ():
        if entry.get("system_name") and entry.get("text"):
            return f"{entry['system_name']}:{entry['text']}"[:300]
    return f"#{record.ordinal}"


def compile_revision(
    header: RevisionHeader,
    products: Iterable[ProductRecord],
    helpers: Iterable[HelperRecord],
    relationships: Iterable[RelationshipRecord],
    group_members: Iterable[GroupMemberRecord],
    vulnerabilities: Iterable[VulnerabilityRecord],
    statuses: Iterable[StatusRecord],
    aliases: ManufacturerAliases,
) -> CompiledRevision:
    refs = {v.ordinal: VulnerabilityRef(vulnerability_key(v), v.cve, v.ordinal) for v in vulnerabilities}
    by_product: dict[str, list[tuple[VulnerabilityRef, str]]] = {}
    for status in statuses:
        ref = refs.get(status.vulnerability_ordinal)
        if ref is not None and status.status in STATUS_MAP:
            by_product.setdefault(status.product_id, []).append((ref, status.status))
    return CompiledRevision(
        header=header,
        publisher_vendor=aliases.canonical(header.publisher_name),
        predicates=compile_products(products, helpers, relationships, group_members, aliases),
        statuses={pid: tuple(found) for pid, found in by_product.items()},
        vulnerabilities=tuple(refs[o] for o in sorted(refs)),
    )
