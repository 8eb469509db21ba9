"""Matched products -> findings: one per (asset, advisory, vulnerability) with the CSAF status mapped (pure).

When several products of one revision match one asset for one vulnerability, the strongest match decides;
among equally strong ones, the status that asks most of the hospital: affected, then under_investigation,
then fixed, then not_affected. Every matched product id and its evidence is kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from vigil.matching.candidates import CatalogIndex
from vigil.matching.compiled import STATUS_MAP, VulnerabilityRef
from vigil.matching.evaluate import LEVELS, Match
from vigil.matching.predicates import ProductPredicate

STATUSES = ("affected", "under_investigation", "fixed", "not_affected")  # most demanding first
MATCH_LEVELS = ("exact", "probable", "possible")


@dataclass(frozen=True, slots=True)
class FindingDraft:
    """What one matcher run says of one (asset, advisory, vulnerability)."""

    asset_id: str
    """The asset, within the site being matched."""
    advisory_id: int
    """advisory.id (all revisions of one document)."""
    vulnerability_key: str
    """VulnerabilityRef.key: CVE, else first id, else #ordinal."""
    revision_id: int
    """The revision that supports the finding."""
    cve: str | None
    """The CVE, if any."""
    status: str
    """affected, fixed, not_affected or under_investigation."""
    csaf_status: str
    """The CSAF product_status list of the deciding product."""
    match: str
    """exact, probable or possible."""
    product_ids: tuple[str, ...]
    """Every matched CSAF product id that this vulnerability's status lists name, sorted."""
    product_families: tuple[str, ...]
    """`vendor|name key` of the matched products (relationship sides included), sorted."""
    evidence: dict[str, Any]
    """tracking id and version, and each matched product's evidence."""
    digest: str
    """Digest of all the fields above but the identity: equal digests mean nothing changed."""
    encoded: tuple[str, str, str]
    """product_ids, product_families and evidence as JSON text, encoded once for every asset sharing them."""
    evidence_digest: str
    """Digest of the evidence's JSON text: findings with equal evidence store it once."""


def drafts_for(asset_id: str, matches: dict[int, Match], index: CatalogIndex) -> list[FindingDraft]:
    grouped: dict[tuple[int, VulnerabilityRef], list[tuple[ProductPredicate, Match, str]]] = {}
    slots_of: dict[tuple[int, VulnerabilityRef], list[int]] = {}
    for slot, match in matches.items():
        position, pred = index.slots[slot]
        for ref, csaf_status in index.revisions[position].statuses.get(pred.product_id, ()):
            grouped.setdefault((position, ref), []).append((pred, match, csaf_status))
            slots_of.setdefault((position, ref), []).append(slot)
    drafts = []
    for (position, ref), found in grouped.items():
        revision = index.revisions[position]
        top = max(LEVELS.index(match.level) for _, match, _ in found)
        deciding = min(
            (entry for entry in found if LEVELS.index(entry[1].level) == top),
            key=lambda entry: (STATUSES.index(STATUS_MAP[entry[2]]), entry[0].product_id),
        )
        found.sort(key=lambda entry: entry[0].product_id)
        families: set[str] = set()
        for slot in slots_of[(position, ref)]:
            families |= index.families(slot)
        status, csaf_status, level = STATUS_MAP[deciding[2]], deciding[2], LEVELS[top]
        product_ids = tuple(pred.product_id for pred, _, _ in found)
        evidence = {
            "tracking_id": revision.header.tracking_id,
            "tracking_version": revision.header.tracking_version,
            "deciding_product_id": deciding[0].product_id,
            "products": [m.evidence | {"status": s} for _, m, s in found],
        }
        family_list = sorted(families)
        encoded = (
            orjson.dumps(product_ids).decode(),
            orjson.dumps(family_list).decode(),
            orjson.dumps(evidence, option=orjson.OPT_SORT_KEYS).decode(),
        )
        outcome = f"{revision.header.revision_id}|{ref.cve}|{status}|{csaf_status}|{level}|{'|'.join(encoded)}"
        digest = hashlib.blake2b(outcome.encode(), digest_size=16)
        drafts.append(
            FindingDraft(
                asset_id=asset_id,
                advisory_id=revision.header.advisory_id,
                vulnerability_key=ref.key,
                revision_id=revision.header.revision_id,
                cve=ref.cve,
                status=status,
                csaf_status=csaf_status,
                match=level,
                product_ids=product_ids,
                product_families=tuple(family_list),
                evidence=evidence,
                digest=digest.hexdigest(),
                encoded=encoded,
                evidence_digest=hashlib.blake2b(encoded[2].encode(), digest_size=16).hexdigest(),
            )
        )
    return drafts


def astuple_without_asset(draft: FindingDraft) -> tuple[Any, ...]:
    """Every field after asset_id, in order: `FindingDraft(asset_id, *template)` rebuilds a draft cheaply."""
    return tuple(getattr(draft, name) for name in FindingDraft.__slots__[1:])
