"""Which predicates, of every compiled revision, are worth evaluating against one asset (pure; no database).

Evaluating every predicate against every asset is O(P×A). A `CatalogIndex`, built once over all revisions,
narrows each asset to a few slots (one slot per (revision, product_id): CSAF product ids are unique only
within a document). It is sound: every product that `evaluate.py` matches is among the candidates (extra
ones are allowed; evaluation decides).

It mirrors every way `evaluate.py` can match:
- a non-relationship product matches the device only through one of its identifiers (the device's normalised
  model_number / serial_number / udi_di equals the value, or full-matches a wildcard pattern), through
  `name_keys[name_key(model_raw)]`, or through a family key that name starts with; an installed product only
  through its name key (the same two ways) or its purl/CPE key. Vendor, version and exclusions only ever veto,
  so they are not indexed. A product with no name key, family key, identifier or package can match nothing;
- a relationship product matches only when both its component and its platform match the same asset, so it
  is a candidate when both sides are (the least fixed point: nested relationships follow; cycles, which
  evaluation cuts off at its depth limit without a match, never become candidates).
Wildcard identifiers (CSAF `?`/`*`) cannot be looked up by value: they sit in a short list scanned by regex.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.identity.names import name_key
from vigil.identity.package_ids import cpe_key, purl_key
from vigil.matching.compiled import CompiledRevision
from vigil.matching.predicates import Identifier, ProductPredicate
from vigil.sources.inventory.assets import AssetRecord, InstalledRecord

# Device fields every evaluation may read; identifier fields are added per product (evaluate.py's device_match).
_DEVICE_FIELDS = ("manufacturer", "manufacturer_raw", "model_raw", "firmware_version", "firmware_version_raw")


class CatalogIndex:
    """Name, family, identifier and package keys -> slots, plus relationship back-references."""

    def __init__(self, revisions: Sequence[CompiledRevision]) -> None:
        self.revisions = tuple(revisions)
        self.slots: list[tuple[int, ProductPredicate]] = []
        """slot -> (position of its revision in `revisions`, predicate)."""
        self._slot_of: dict[tuple[int, str], int] = {}
        self._by_key: dict[str, list[int]] = {}
        self._by_family: dict[str, list[int]] = {}
        self._by_identifier: dict[tuple[str, str], list[int]] = {}
        self._by_package: dict[str, list[int]] = {}
        self._wildcards: list[tuple[Identifier, int]] = []
        self._fields: set[str] = set()
        self._referenced_by: dict[int, list[int]] = {}
        self._sides: dict[int, tuple[int, int]] = {}
        self._families: dict[int, frozenset[str]] = {}
        self._name_memo: dict[str, tuple[int, ...]] = {}
        self._wildcard_memo: dict[tuple[str, str], tuple[int, ...]] = {}
        self.device_memo_fields: dict[int, tuple[str, ...]] = {}
        """slot -> the device fields its evaluation reads (what a memo of device matches must key on)."""
        for position, revision in enumerate(self.revisions):
            for pid, pred in revision.predicates.items():
                self._slot_of[(position, pid)] = len(self.slots)
                self.slots.append((position, pred))
        for slot, (position, pred) in enumerate(self.slots):
            if pred.relationship is None:
                self._add_leaf(slot, pred)
                continue
            component = self._slot_of.get((position, pred.component_id or ""))
            platform = self._slot_of.get((position, pred.platform_id or ""))
            if component is not None and platform is not None:  # else dangling: never matches
                self._sides[slot] = (component, platform)
                for side in {component, platform}:
                    self._referenced_by.setdefault(side, []).append(slot)
        self._wildcard_fields = tuple(sorted({identifier.field for identifier, _ in self._wildcards}))

    def _add_leaf(self, slot: int, pred: ProductPredicate) -> None:
        fields = set(_DEVICE_FIELDS) | {f for i in pred.identifiers for f in (i.field, f"{i.field}_raw")}
        if pred.version_rule is not None and pred.version_rule.applies_to == "serial_number":
            fields |= {"serial_number", "serial_number_raw"}
        self.device_memo_fields[slot] = tuple(sorted(fields))
        for key in pred.name_keys:
            self._by_key.setdefault(key, []).append(slot)
        for key in pred.family_keys:
            self._by_family.setdefault(key, []).append(slot)
        for package in pred.packages:
            self._by_package.setdefault(package.package.key, []).append(slot)
        for identifier in pred.identifiers:
            self._fields.add(identifier.field)
            if identifier.pattern is not None:
                self._wildcards.append((identifier, slot))
            else:
                self._by_identifier.setdefault((identifier.field, identifier.value), []).append(slot)

    def slot_of(self, position: int, product_id: str) -> int | None:
        """The slot of a product of the revision at `position`, if it has one."""
        return self._slot_of.get((position, product_id))

    def families(self, slot: int) -> frozenset[str]:
        """`vendor|name key` of a product, or of both sides of a relationship (computed once per slot)."""
        known = self._families.get(slot)
        if known is None:
            known = self._families[slot] = self._compute_families(slot, 0)
        return known

    def _compute_families(self, slot: int, depth: int) -> frozenset[str]:
        pred = self.slots[slot][1]
        if pred.relationship is None:
            return frozenset(f"{pred.vendor or ''}|{key}" for key in (*pred.name_keys, *pred.family_keys))
        sides = self._sides.get(slot, ())
        if depth >= 8:
            return frozenset()
        return frozenset().union(*(self._compute_families(side, depth + 1) for side in sides))

    def predicate(self, slot: int) -> ProductPredicate:
        return self.slots[slot][1]

    def _names(self, raw: str | None, found: set[int]) -> None:
        if not raw:
            return
        known = self._name_memo.get(raw)
        if known is None:
            known = self._name_memo[raw] = self._name_slots(raw)
        found.update(known)

    def _name_slots(self, raw: str) -> tuple[int, ...]:
        """Slots a name can match: by its key, or by a product line its key starts with (remembered per name:
        an inventory repeats a few thousand names over a million rows)."""
        key = name_key(raw)
        if not key:
            return ()
        slots = list(self._by_key.get(key, ()))
        if self._by_family:
            words = key.split(" ")
            for end in range(1, len(words)):  # proper word prefixes: "logiq" of "logiq e10"
                slots.extend(self._by_family.get(" ".join(words[:end]), ()))
        return tuple(slots)

    def device_candidates(self, device: Mapping[str, Any]) -> set[int]:
        """Leaf slots that could match the device itself."""
        found: set[int] = set()
        self._names(device.get("model_raw"), found)
        for field in self._fields:
            value = device.get(field)
            if value:
                found.update(self._by_identifier.get((field, value), ()))
        if self._wildcards:
            for field in self._wildcard_fields:
                value = device.get(field)
                if value:
                    found.update(self._wildcard_slots(field, value))
        return found

    def _wildcard_slots(self, field: str, value: str) -> tuple[int, ...]:
        """Slots whose wildcard identifier full-matches the value (remembered per value)."""
        known = self._wildcard_memo.get((field, value))
        if known is None:
            known = tuple(slot for i, slot in self._wildcards if i.field == field and i.matches(value))
            if len(self._wildcard_memo) > 500_000:
                self._wildcard_memo.clear()
            self._wildcard_memo[(field, value)] = known
        return known

    def installed_candidates(self, installed: InstalledRecord) -> set[int]:
        """Leaf slots that could match one installed product."""
        found: set[int] = set()
        self._names(installed.name_raw, found)
        if self._by_package:
            for key in (purl_key(installed.purl), cpe_key(installed.cpe)):
                if key:
                    found.update(self._by_package.get(key, ()))
        return found

    def relationships_over(self, found: set[int]) -> set[int]:
        """Every relationship slot whose two sides are in `found` or are such relationships themselves."""
        closed: set[int] = set()
        pending = list(found)
        while pending:
            side = pending.pop()
            for rel in self._referenced_by.get(side, ()):
                if rel in closed or rel in found:
                    continue
                component, platform = self._sides[rel]
                if (component in found or component in closed) and (platform in found or platform in closed):
                    closed.add(rel)
                    pending.append(rel)
        return closed

    def candidates(self, asset: AssetRecord) -> list[int]:
        """Every slot worth evaluating against the asset, in slot order."""
        found = self.device_candidates(asset.device)
        for installed in asset.installed:
            found |= self.installed_candidates(installed)
        return sorted(found | self.relationships_over(found))

    def lookup_keys(self) -> LookupKeys:
        """What a database must be asked for to find every asset this index could match (incremental runs)."""
        return LookupKeys(
            names=frozenset(self._by_key),
            families=frozenset(self._by_family),
            packages=frozenset(self._by_package),
            identifiers=frozenset(self._by_identifier),
            wildcards=tuple((identifier.field, identifier.value) for identifier, _ in self._wildcards),
        )


@dataclass(frozen=True, slots=True)
class LookupKeys:
    """The keys of an index, for finding candidate assets in the database."""

    names: frozenset[str]
    """Name keys, compared with asset.model_key and installed_product.name_key."""
    families: frozenset[str]
    """Family keys: a model_key or name_key starting with one (and a space) is a candidate."""
    packages: frozenset[str]
    """purl and CPE keys, compared with installed_product.purl_key / cpe_key."""
    identifiers: frozenset[tuple[str, str]]
    """(asset column, normalised value)."""
    wildcards: tuple[tuple[str, str], ...]
    """(asset column, normalised value with CSAF `?`/`*` wildcards)."""
