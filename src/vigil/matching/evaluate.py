"""A product predicate against one asset: whether, how well, and why (pure; no database).

A product can be the asset's device (manufacturer, model / model number / serial / UDI-DI, firmware version)
or one of its installed products (vendor, name, version). Levels, strongest first:
- exact: an identifier of the device, or the exact name (case and spacing aside) with the exact vendor,
  and the version rule holds (or the product names no version);
- probable: the name or vendor only agree after normalisation (name_key, manufacturer alias table), or
  the asset names no vendor, and the version rule holds;
- possible: the name agrees but the version cannot be told (asset version missing, rule unparsed).
A version rule that says no, or a vendor that is another manufacturer, is no match.
A relationship product matches only when both of its products match the same asset; its level is the
weaker of the two.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from vigil.identity.names import fold, name_key
from vigil.matching.predicates import ProductPredicate
from vigil.sources.inventory.assets import AssetRecord, InstalledRecord

Level = Literal["exact", "probable", "possible"]
Side = Literal["device", "installed"]
LEVELS: tuple[Level, ...] = ("possible", "probable", "exact")  # weakest first: index is strength
# Relationship categories whose platform (relates_to_product_reference) is the device itself.
_PLATFORM_IS_DEVICE = frozenset({"installed_on", "default_component_of", "optional_component_of"})
_MAX_DEPTH = 8  # relationships may nest; a cyclic document must not recurse forever


@dataclass(frozen=True, slots=True)
class Match:
    """A product found on an asset."""

    level: Level
    """exact, probable or possible (see the module docstring)."""
    evidence: dict[str, Any]
    """Which asset fields matched which product fields and how; JSON-ready."""
    side: Side
    """`device` when the product is the asset itself, `installed` when it is an installed product."""


def match_product(
    pred: ProductPredicate, asset: AssetRecord, predicates: Mapping[str, ProductPredicate]
) -> Match | None:
    """The strongest match of the product on the asset, or None."""
    return _best(_matches(pred, asset, predicates, 0))


def _best(matches: Iterator[Match]) -> Match | None:
    best: Match | None = None
    for match in matches:
        if best is None or LEVELS.index(match.level) > LEVELS.index(best.level):
            best = match
    return best


def _matches(
    pred: ProductPredicate, asset: AssetRecord, predicates: Mapping[str, ProductPredicate], depth: int
) -> Iterator[Match]:
    """Every way the product matches the asset: the device, each installed product, or a relationship."""
    if pred.relationship is not None:
        if depth < _MAX_DEPTH:
            yield from _relationship(pred, asset, predicates, depth)
        return
    device = _device(pred, asset.device)
    if device is not None:
        yield device
    for installed in asset.installed:
        match = _installed(pred, installed)
        if match is not None:
            yield match


def _relationship(
    pred: ProductPredicate, asset: AssetRecord, predicates: Mapping[str, ProductPredicate], depth: int
) -> Iterator[Match]:
    component = predicates.get(pred.component_id or "")
    platform = predicates.get(pred.platform_id or "")
    if component is None or platform is None:
        return  # a dangling reference names nothing an asset could be
    # The component may be installed software or the device's own firmware; the platform of installed_on and
    # *_component_of is the device. installed_with and external_component_of relate two products side by side.
    component_match = _best(_matches(component, asset, predicates, depth + 1))
    platform_matches = _matches(platform, asset, predicates, depth + 1)
    if pred.relationship in _PLATFORM_IS_DEVICE:
        platform_matches = (m for m in platform_matches if m.side == "device")
    platform_match = _best(platform_matches)
    if component_match is None or platform_match is None:
        return
    level = min(component_match.level, platform_match.level, key=LEVELS.index)
    yield Match(
        level,
        {
            "product_id": pred.product_id,
            "relationship": pred.relationship,
            "component": component_match.evidence,
            "platform": platform_match.evidence,
        },
        component_match.side,
    )


def _device(pred: ProductPredicate, device: Mapping[str, Any]) -> Match | None:
    vendor = _vendor(pred, device.get("manufacturer"), device.get("manufacturer_raw"), "manufacturer")
    if vendor is None:
        return None
    if _contradicted(pred, device):
        return None
    what = _identifier(pred, device) or _name(pred, device.get("model_raw"), "model")
    if what is None:
        return None
    version = _version(pred, device.get("firmware_version"), device.get("firmware_version_raw"), "firmware_version")
    return _judge(pred, "device", vendor, what, version)


def _installed(pred: ProductPredicate, installed: InstalledRecord) -> Match | None:
    vendor = _vendor(pred, installed.vendor, installed.vendor_raw, "vendor")
    if vendor is None:
        return None
    what = _name(pred, installed.name_raw, "name")
    if what is None:
        return None
    version = _version(pred, installed.version, installed.version_raw, "version")
    return _judge(pred, "installed", vendor, what, version)


def _judge(
    pred: ProductPredicate, side: Side, vendor: dict[str, Any], what: dict[str, Any], version: dict[str, Any] | None
) -> Match | None:
    result = version["result"] if version is not None else True
    if result is False:
        return None
    if result is None:
        level: Level = "possible"
    elif what["how"] in ("identical", "wildcard") or (what["how"] == "exact" and vendor["how"] == "exact"):
        level = "exact"
    else:
        level = "probable"
    key = "identifier" if what["how"] in ("identical", "wildcard") else "name"
    evidence = {"product_id": pred.product_id, "side": side, "vendor": vendor, key: what, "version": version}
    return Match(level, evidence, side)


def _vendor(pred: ProductPredicate, canonical: str | None, raw: str | None, field: str) -> dict[str, Any] | None:
    """How the asset's vendor agrees with the product's: exact, alias, or absent (one side names none)."""
    evidence = {"asset_field": field, "asset_value": raw, "product_value": pred.vendor_raw}
    if not pred.vendor or not canonical:
        return evidence | {"how": "absent"}
    if canonical != pred.vendor:
        return None  # another manufacturer's product of the same name or number
    how = "exact" if raw is not None and fold(raw) == fold(pred.vendor_raw or "") else "alias"
    return evidence | {"how": how, "canonical": pred.vendor}


def _name(pred: ProductPredicate, raw: str | None, field: str) -> dict[str, Any] | None:
    """Exact when the text is one of the product's name forms (case and spacing aside), normalised when its
    name_key is."""
    if not raw:
        return None
    form = pred.name_keys.get(name_key(raw))
    if form is None:
        return None
    how = "exact" if fold(raw) == fold(form) else "normalised"
    return {"asset_field": field, "asset_value": raw, "product_field": "name", "product_value": form, "how": how}


def _identifier(pred: ProductPredicate, device: Mapping[str, Any]) -> dict[str, Any] | None:
    for identifier in pred.identifiers:
        value = device.get(identifier.field)
        if value and identifier.matches(value):
            return {
                "asset_field": identifier.field,
                "asset_value": device.get(f"{identifier.field}_raw"),
                "product_field": identifier.kind,
                "product_value": identifier.raw,
                "how": "wildcard" if identifier.pattern else "identical",
            }
    return None


def _contradicted(pred: ProductPredicate, device: Mapping[str, Any]) -> bool:
    """A device whose model number (or serial, UDI-DI) is none of those the product lists is another product,
    whatever its model name says."""
    fields = {identifier.field for identifier in pred.identifiers}
    return any(
        device.get(field) and not any(i.matches(device[field]) for i in pred.identifiers if i.field == field)
        for field in fields
    )


def _version(pred: ProductPredicate, version: str | None, raw: str | None, field: str) -> dict[str, Any] | None:
    """The version rule applied; None when the product names no version (every version is meant)."""
    rule = pred.version_rule
    if rule is None:
        return None
    return {
        "asset_field": field,
        "asset_value": raw,
        "rule": rule.text,
        "notation": rule.notation,
        "result": rule.matches(version or ""),
    }
