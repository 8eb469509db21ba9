"""Across documents: a vendor's own advisory sets the product scope of its CVEs (pure).

CISA republishes vendor advisories, sometimes losing conditions on the way (the seed: Philips limits the
IPMI flaw to four workstations by 12NC; CISA's copy flags every WorkSpot). So when a document published by
the manufacturer itself (publisher category `vendor`, publisher = the product's canonical manufacturer)
covers a CVE for a product family, a finding from any other publisher for that CVE and family does not
prevail: if the vendor's document lists the asset too, the vendor's status stands; if it does not, the
asset is outside the vendor's scope. The finding is kept, marked, with the reason.

Product family: the canonical vendor and a name key of a matched product (relationship sides included),
`Philips|interventional workspot`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from vigil.matching.compiled import CompiledRevision


@dataclass(frozen=True, slots=True)
class VendorScope:
    """What one vendor document covers."""

    advisory_id: int
    """advisory.id of the vendor document."""
    tracking_id: str
    """Its /document/tracking/id."""
    vendor: str
    """The canonical manufacturer that published it."""
    families: frozenset[str]
    """`vendor|name key` of each of its products made by the publisher."""


@dataclass(frozen=True, slots=True)
class ScopeDecision:
    """Whether a finding prevails for its (asset, CVE), and why not."""

    prevailing: bool
    """False when a vendor document prevails."""
    superseded_by: str | None
    """That vendor document's tracking id."""
    reason: str | None
    """Why, in a sentence."""


PREVAILS = ScopeDecision(True, None, None)


def vendor_scopes(revisions: Iterable[CompiledRevision]) -> dict[str, list[VendorScope]]:
    """CVE -> the vendor documents covering it, by tracking id."""
    by_cve: dict[str, list[VendorScope]] = {}
    for revision in revisions:
        if revision.header.publisher_category != "vendor":
            continue
        vendor = revision.publisher_vendor
        families = frozenset(
            f"{vendor}|{key}"
            for pred in revision.predicates.values()
            if pred.relationship is None and pred.vendor in (vendor, None)
            for key in (*pred.name_keys, *pred.family_keys)
        )
        if not families:
            continue
        scope = VendorScope(revision.header.advisory_id, revision.header.tracking_id, vendor, families)
        for cve in revision.cves:
            by_cve.setdefault(cve, []).append(scope)
    for scopes in by_cve.values():
        scopes.sort(key=lambda s: s.tracking_id)
    return by_cve


def decide(
    cve: str | None,
    advisory_id: int,
    publisher_category: str,
    families: Collection[str],
    vendor_listed: Collection[int],
    scopes: Mapping[str, list[VendorScope]],
) -> ScopeDecision:
    """The decision for one finding. `vendor_listed`: advisory ids with an open finding for the same asset and
    CVE (does the vendor document list this asset?)."""
    if cve is None or publisher_category == "vendor":
        return PREVAILS
    for scope in scopes.get(cve, ()):
        if scope.advisory_id == advisory_id:
            continue
        shared = sorted(f for f in families if f in scope.families)
        if not shared:
            continue
        family = shared[0].split("|", 1)[1]
        if scope.advisory_id in vendor_listed:
            reason = (
                f"{scope.tracking_id}, {scope.vendor}'s own advisory, also lists this asset for {cve}:"
                " its status prevails"
            )
        else:
            reason = (
                f"{scope.tracking_id}, {scope.vendor}'s own advisory, covers {cve} for {family!r}"
                " and its product scope does not include this asset"
            )
        return ScopeDecision(False, scope.tracking_id, reason)
    return PREVAILS
