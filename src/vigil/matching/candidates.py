"""Which predicates are worth evaluating against one asset (pure; no database).

Evaluating every predicate against every asset is O(P×A). A `PredicateIndex`, built once per predicate
mapping, narrows each asset to the product ids that could match it. It is sound: every product that
`match_product` matches is among the candidates (extra ids are allowed; `match_product` decides).

It mirrors every way `evaluate.py` can match:
- a non-relationship product matches the device only through one of its identifiers (the device's
  normalised model_number / serial_number / udi_di equals the value, or full-matches a wildcard pattern) or
  through `name_keys[name_key(device["model_raw"])]`; an installed product only through
  `name_keys[name_key(installed.name_raw)]`. Vendor and version only ever veto, so they are not indexed.
  A product with neither name keys nor identifiers can match nothing, so nothing needs "always evaluate";
- a relationship product matches only when both its component and its platform match the same asset, so it
  is a candidate when both sides are (the least fixed point: nested relationships follow, cycles - which
  `evaluate.py` cuts off at its depth limit without a match - never become candidates).
Wildcard identifiers (CSAF `?`/`*`) cannot be looked up by value: they sit in a short list scanned by regex.
"""

from __future__ import annotations

from collections.abc import Mapping

from vigil.identity.names import name_key
from vigil.matching.evaluate import Match, match_product
from vigil.matching.predicates import Identifier, ProductPredicate
from vigil.sources.inventory.assets import AssetRecord


class PredicateIndex:
    """Name keys and identifier values -> product ids, plus relationship back-references."""

    def __init__(self, predicates: Mapping[str, ProductPredicate]) -> None:
        self._order = {pid: position for position, pid in enumerate(predicates)}
        self._by_key: dict[str, list[str]] = {}
        self._by_identifier: dict[tuple[str, str], list[str]] = {}
        self._wildcards: list[tuple[Identifier, str]] = []
        self._fields: set[str] = set()
        # side product id -> relationship products naming it as component or platform
        self._referenced_by: dict[str, list[str]] = {}
        self._sides: dict[str, tuple[str, str]] = {}
        for pid, pred in predicates.items():
            if pred.relationship is not None:
                component, platform = pred.component_id or "", pred.platform_id or ""
                if component in predicates and platform in predicates:  # else dangling: never matches
                    self._sides[pid] = (component, platform)
                    for side in {component, platform}:
                        self._referenced_by.setdefault(side, []).append(pid)
                continue
            for key in pred.name_keys:
                self._by_key.setdefault(key, []).append(pid)
            for identifier in pred.identifiers:
                self._fields.add(identifier.field)
                if identifier.pattern is not None:
                    self._wildcards.append((identifier, pid))
                else:
                    self._by_identifier.setdefault((identifier.field, identifier.value), []).append(pid)

    def candidates(self, asset: AssetRecord) -> list[str]:
        """Product ids worth evaluating against the asset, in the predicate mapping's order."""
        found: set[str] = set()
        device = asset.device
        raws = [device.get("model_raw")] + [installed.name_raw for installed in asset.installed]
        for raw in raws:
            if raw:
                key = name_key(raw)
                if key:
                    found.update(self._by_key.get(key, ()))
        for field in self._fields:
            value = device.get(field)
            if value:
                found.update(self._by_identifier.get((field, value), ()))
        for identifier, pid in self._wildcards:
            value = device.get(identifier.field)
            if value and pid not in found and identifier.matches(value):
                found.add(pid)
        if self._referenced_by:
            self._close_relationships(found)
        return sorted(found, key=self._order.__getitem__)

    def _close_relationships(self, found: set[str]) -> None:
        """Add every relationship whose two sides are both candidates, transitively."""
        pending = list(found)
        while pending:
            side = pending.pop()
            for rel in self._referenced_by.get(side, ()):
                if rel in found:
                    continue
                component, platform = self._sides[rel]
                if component in found and platform in found:
                    found.add(rel)
                    pending.append(rel)


def match_asset(
    asset: AssetRecord, predicates: Mapping[str, ProductPredicate], index: PredicateIndex
) -> dict[str, Match]:
    """match_product for every candidate of the asset; the products that match, by product id."""
    matches: dict[str, Match] = {}
    for pid in index.candidates(asset):
        match = match_product(predicates[pid], asset, predicates)
        if match is not None:
            matches[pid] = match
    return matches
