"""One asset against every compiled revision: candidate slots, evaluation, findings (pure; no database).

Inventories repeat the same installed product (vendor, name, version) across thousands of devices, and the
same device model, so matches are remembered: per installed product, and per device as far as the fields a
product reads (a serial number only counts for products that name serial numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vigil.matching.candidates import CatalogIndex
from vigil.matching.evaluate import Match, best, device_match, installed_match, relationship_match
from vigil.matching.findings import FindingDraft, astuple_without_asset, drafts_for
from vigil.sources.inventory.assets import AssetRecord, InstalledRecord

# Entries remembered per memo; past that a memo starts over. Findings templates carry their evidence (about a
# kilobyte each), so they get fewer: together the memos stay within a few hundred MB at a million rows.
_MEMO_LIMIT = 300_000
_DRAFTS_MEMO_LIMIT = 100_000


class AssetMatcher:
    """Matches assets against a CatalogIndex; keeps a memo of installed-product matches."""

    def __init__(self, index: CatalogIndex) -> None:
        self.index = index
        self._memo: dict[InstalledRecord, tuple[tuple[int, Match], ...]] = {}
        self._device_memo: dict[tuple[Any, ...], Match | None] = {}
        self._drafts_memo: dict[tuple[tuple[int, int], ...], tuple[tuple[Match, ...], list[tuple[Any, ...]]]] = {}

    def matches(self, asset: AssetRecord) -> dict[int, Match]:
        """slot -> the strongest match of that product on the asset, relationships included."""
        index = self.index
        leaves: dict[int, list[Match]] = {}
        device = asset.device
        for slot in index.device_candidates(device):
            key = (slot, *(device.get(name) for name in index.device_memo_fields[slot]))
            if key in self._device_memo:
                match = self._device_memo[key]
            else:
                if len(self._device_memo) >= _MEMO_LIMIT:
                    self._device_memo.clear()
                match = self._device_memo[key] = device_match(index.predicate(slot), device)
            if match is not None:
                leaves.setdefault(slot, []).append(match)
        for installed in asset.installed:
            for slot, match in self._installed(installed):
                leaves.setdefault(slot, []).append(match)
        found: dict[int, Match] = {}
        for slot, matches in leaves.items():
            strongest = best(matches)
            if strongest is not None:
                found[slot] = strongest
        if not leaves:
            return found
        for slot in sorted(index.relationships_over(set(leaves))):
            match = self._relationship(slot, leaves)
            if match is not None:
                found[slot] = match
        return found

    def drafts(self, asset: AssetRecord) -> list[FindingDraft]:
        """The findings the asset's matches give. Assets matched by the same remembered Match objects get the
        same findings: those are built once and copied with the asset id."""
        matches = self.matches(asset)
        if not matches:
            return []
        key = tuple(sorted((slot, id(match)) for slot, match in matches.items()))
        known = self._drafts_memo.get(key)
        if known is None:
            if len(self._drafts_memo) >= _DRAFTS_MEMO_LIMIT:
                self._drafts_memo.clear()
            # The value holds the Match objects, so the ids in the key cannot be reused while the entry lives.
            templates = [astuple_without_asset(d) for d in drafts_for("", matches, self.index)]
            known = self._drafts_memo[key] = (tuple(matches.values()), templates)
        asset_id = asset.asset_id
        return [FindingDraft(asset_id, *template) for template in known[1]]

    def _installed(self, installed: InstalledRecord) -> tuple[tuple[int, Match], ...]:
        known = self._memo.get(installed)
        if known is not None:
            return known
        found = []
        for slot in self.index.installed_candidates(installed):
            match = installed_match(self.index.predicate(slot), installed)
            if match is not None:
                found.append((slot, match))
        result = tuple(found)
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[installed] = result
        return result

    def _relationship(self, slot: int, leaves: dict[int, list[Match]]) -> Match | None:
        index = self.index
        position = index.slots[slot][0]

        def lookup(product_id: str, depth: int) -> Sequence[Match]:
            side = index.slot_of(position, product_id)
            if side is None:
                return ()
            pred = index.predicate(side)
            if pred.relationship is None:
                return leaves.get(side, ())
            match = relationship_match(pred, lookup, depth + 1)
            return (match,) if match is not None else ()

        return relationship_match(index.predicate(slot), lookup, 0)
