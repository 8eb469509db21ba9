"""Action items: each remediation an advisory gives for a product becomes an item per affected device.

An item is keyed by (device, advisory, digest of the remediation's category, details and URL), so the same
advice keeps its item (and its assignee and completion) across revisions, and the remediations of several
vulnerabilities with the same text become one item that lists them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

CATEGORIES = (
    "mitigation",
    "workaround",
    "vendor_fix",
    "none_available",
    "no_fix_planned",
    "fix_planned",
    "optional_patch",
)
"""CSAF remediation categories (2.0's five, plus 2.1's fix_planned and optional_patch)."""
COMPENSATING = frozenset({"mitigation", "workaround"})
"""Completing one of these with evidence mitigates the device's affected findings it answers."""
ITEM_STATES = ("open", "done", "void")


@dataclass(frozen=True, slots=True)
class RemediationText:
    """One remediation of a revision, with every product it applies to (groups expanded)."""

    vulnerability_key: str
    """The vulnerability it belongs to (matching/compiled.py: vulnerability_key)."""
    category: str
    """CSAF remediation category."""
    details: str
    """The advisory's own words."""
    url: str | None
    """Where the advisory points for more."""
    product_ids: frozenset[str]
    """Products it applies to, group members included."""
    key: str = ""
    """remediation_key of the text (computed once: wanted_items asks for it per finding)."""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", remediation_key(self.category, self.details, self.url))


def remediation_key(category: str, details: str, url: str | None) -> str:
    text = "\x1f".join((category, " ".join(details.split()), url or ""))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class WantedItem:
    """An action item the findings of a device call for."""

    asset_id: str
    advisory_id: int
    revision_id: int
    remediation: RemediationText
    vulnerability_keys: tuple[str, ...]
    """Every vulnerability of the device this remediation answers."""


def wanted_items(
    findings: Iterable[tuple[str, int, int, str, Sequence[str]]],
    remediations: Mapping[int, Sequence[RemediationText]],
) -> dict[tuple[str, int, str], WantedItem]:
    """Items for findings given as (asset id, advisory id, revision id, vulnerability key, product ids), keyed
    (asset id, advisory id, remediation key)."""
    keys: dict[tuple[str, int, str], list[str]] = {}
    first: dict[tuple[str, int, str], tuple[int, RemediationText]] = {}
    for asset_id, advisory_id, revision_id, vulnerability_key, product_ids in findings:
        products = set(product_ids)
        for remediation in remediations.get(revision_id, ()):
            if remediation.vulnerability_key != vulnerability_key or not products & remediation.product_ids:
                continue
            item_key = (asset_id, advisory_id, remediation.key)
            first.setdefault(item_key, (revision_id, remediation))
            found = keys.setdefault(item_key, [])
            if vulnerability_key not in found:
                found.append(vulnerability_key)
    return {
        key: WantedItem(key[0], key[1], revision_id, remediation, tuple(sorted(keys[key])))
        for key, (revision_id, remediation) in first.items()
    }
