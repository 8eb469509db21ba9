"""A product predicate against one asset: whether, how well, and why (pure; no database).

A product can be the asset's device (manufacturer, model / model number / serial / UDI-DI, firmware version)
or one of its installed products (vendor, name or purl/CPE, version). Levels, strongest first:
- exact: an identifier of the device or a purl/CPE of an installed product, or the exact name (case and
  spacing aside) with the exact vendor, and the version rule holds (or the product names no version);
- probable: the name or vendor only agree after normalisation (name_key, manufacturer alias table), or
  the asset names no vendor, and the version rule holds;
- possible: the name agrees but the version cannot be told (asset version missing, rule unparsed or
  conditional), or the name only falls under a product line ("LOGIQ E10" under "LOGIQ, not including ...").
A version rule that says no, a vendor that is another manufacturer, or an excluded product line member is
no match. A relationship product matches only when both of its products match the same asset; its level is
the weaker of the two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from vigil.identity.names import fold, name_key
from vigil.identity.package_ids import PackageId, parse_cpe, parse_purl
from vigil.identity.version_compare import version_key
from vigil.matching.predicates import ProductPredicate
from vigil.sources.inventory.assets import AssetRecord, InstalledRecord

Level = Literal["exact", "probable", "possible"]
Side = Literal["device", "installed"]
LEVELS: tuple[Level, ...] = ("possible", "probable", "exact")  # weakest first: index is strength
# Relationship categories whose platform (relates_to_product_reference) is the device itself.
PLATFORM_IS_DEVICE = frozenset({"installed_on", "default_component_of", "optional_component_of"})
_MAX_DEPTH = 8  # relationships may nest; a cyclic document must not recurse forever
_IDENTIFIER_HOWS = frozenset({"identical", "wildcard", "purl", "cpe"})


@dataclass(frozen=True, slots=True)
class Match:
    """A product found on an asset."""

    level: Level
    """exact, probable or possible (see the module docstring)."""
    evidence: dict[str, Any]
    """Which asset fields matched which product fields and how; JSON-ready."""
    side: Side
    """`device` when the product is the asset itself, `installed` when it is an installed product."""


def stronger(a: Match | None, b: Match | None) -> Match | None:
    """The match with the higher level (the first on a tie)."""
    if a is None or (b is not None and LEVELS.index(b.level) > LEVELS.index(a.level)):
        return b
    return a


def best(matches: Iterator[Match] | Sequence[Match]) -> Match | None:
    found: Match | None = None
    for match in matches:
        found = stronger(found, match)
    return found


def match_product(
    pred: ProductPredicate, asset: AssetRecord, predicates: Mapping[str, ProductPredicate]
) -> Match | None:
    """The strongest match of the product on the asset, or None."""

    def lookup(product_id: str, depth: int) -> list[Match]:
        side = predicates.get(product_id)
        if side is None:
            return []  # a dangling reference names nothing an asset could be
        if side.relationship is None:
            return list(leaf_matches(side, asset))
        found = relationship_match(side, lookup, depth + 1)
        return [found] if found is not None else []

    if pred.relationship is None:
        return best(leaf_matches(pred, asset))
    return relationship_match(pred, lookup, 0)


Lookup = Callable[[str, int], Sequence[Match]]
"""(product_id, depth) -> every match of that product on the asset under evaluation."""


def relationship_match(pred: ProductPredicate, lookup: Lookup, depth: int) -> Match | None:
    """Both sides on the same asset. The component may be installed software or the device's own firmware; the
    platform of installed_on and *_component_of is the device. installed_with and external_component_of relate
    two products side by side."""
    if depth >= _MAX_DEPTH:
        return None
    component = best(lookup(pred.component_id or "", depth))
    if component is None:
        return None
    platforms = lookup(pred.platform_id or "", depth)
    if pred.relationship in PLATFORM_IS_DEVICE:
        platforms = [m for m in platforms if m.side == "device"]
    platform = best(platforms)
    if platform is None:
        return None
    level = min(component.level, platform.level, key=LEVELS.index)
    evidence = {
        "product_id": pred.product_id,
        "relationship": pred.relationship,
        "component": component.evidence,
        "platform": platform.evidence,
    }
    return Match(level, evidence, component.side)


def leaf_matches(pred: ProductPredicate, asset: AssetRecord) -> Iterator[Match]:
    """Every way a non-relationship product matches the asset: the device, then each installed product."""
    device = device_match(pred, asset.device)
    if device is not None:
        yield device
    for installed in asset.installed:
        match = installed_match(pred, installed)
        if match is not None:
            yield match


def device_match(pred: ProductPredicate, device: Mapping[str, Any]) -> Match | None:
    vendor = _vendor(pred, device.get("manufacturer"), device.get("manufacturer_raw"), "manufacturer")
    if vendor is None or _contradicted(pred, device):
        return None
    what = _identifier(pred, device) or _name(pred, device.get("model_raw"), "model")
    if what is None:
        return None
    rule = pred.version_rule
    if rule is not None and rule.applies_to == "serial_number":
        version = _version(pred, device.get("serial_number_raw"), device.get("serial_number_raw"), "serial_number")
    else:
        version = _version(pred, device.get("firmware_version"), device.get("firmware_version_raw"), "firmware_version")
    return _judge(pred, "device", vendor, what, version)


def installed_match(pred: ProductPredicate, installed: InstalledRecord) -> Match | None:
    package = _package(pred, installed)
    if package is _CONTRADICTED:
        return None
    if package is not None:
        return _judge(pred, "installed", {"how": "package"}, *package)
    vendor = _vendor(pred, installed.vendor, installed.vendor_raw, "vendor")
    if vendor is None:
        return None
    what = _name(pred, installed.name_raw, "name")
    if what is None:
        return None
    if pred.version_rule is not None and pred.version_rule.applies_to != "version":
        return None  # a serial-number rule speaks of hardware, never of installed software
    version = _version(pred, installed.version, installed.version_raw, "version")
    return _judge(pred, "installed", vendor, what, version)


def _judge(
    pred: ProductPredicate, side: Side, vendor: dict[str, Any], what: dict[str, Any], version: dict[str, Any] | None
) -> Match | None:
    result = version["result"] if version is not None else True
    if result is False:
        return None
    if result is None or what["how"] == "family":
        level: Level = "possible"
    elif what["how"] in _IDENTIFIER_HOWS or (what["how"] == "exact" and vendor["how"] == "exact"):
        level = "exact"
    else:
        level = "probable"
    key = "identifier" if what["how"] in _IDENTIFIER_HOWS else "name"
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
    name_key is, family when it starts with a product line's key; never when it starts with an excluded one."""
    if not raw:
        return None
    key = name_key(raw)
    if pred.excluded_keys and _excluded(pred, key):
        return None
    evidence = {"asset_field": field, "asset_value": raw, "product_field": "name"}
    form = pred.name_keys.get(key)
    if form is not None:
        how = "exact" if fold(raw) == fold(form) else "normalised"
        return evidence | {"product_value": form, "how": how}
    for family in pred.family_keys:
        if key.startswith(family + " "):
            return evidence | {"product_value": pred.names[0] if pred.names else family, "how": "family"}
    return None


def _excluded(pred: ProductPredicate, key: str) -> bool:
    """Whether the name is an excluded member: it starts with one, alone or after the product line's name."""
    candidates = [key] + [key[len(family) + 1 :] for family in pred.family_keys if key.startswith(family + " ")]
    return any(c == ex or c.startswith(ex + " ") for c in candidates for ex in pred.excluded_keys)


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


_CONTRADICTED: Any = object()


def _package(pred: ProductPredicate, installed: InstalledRecord) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """(identifier evidence, version evidence) when a purl/CPE helper names the installed product's package;
    _CONTRADICTED when both state a purl (or both a CPE) and they name different packages (like a model number
    that is none of the listed ones); None when there is nothing to compare."""
    if not pred.packages or not (installed.purl or installed.cpe):
        return None
    mine = {"purl": parse_purl(installed.purl) if installed.purl else None}
    mine["cpe"] = parse_cpe(installed.cpe) if installed.cpe else None
    compared = False
    for package in pred.packages:
        compared = compared or mine[package.kind] is not None
        own = mine[package.kind]
        if own is None or own.key != package.package.key:
            continue
        what = {
            "asset_field": package.kind,
            "asset_value": getattr(installed, package.kind),
            "product_field": package.kind,
            "product_value": package.raw,
            "how": package.kind,
        }
        asset_version = own.version or installed.version
        if package.package.version is not None:
            return what, _pinned(package.package, asset_version, package.kind)
        return what, _version(pred, asset_version, asset_version, package.kind)
    return _CONTRADICTED if compared else None


def _pinned(package: PackageId, asset_version: str | None, field: str) -> dict[str, Any]:
    """A purl/CPE that names one version: the asset's version must be that version."""
    result: bool | None = None
    if asset_version:
        try:
            result = version_key(asset_version) == version_key(package.version or "")
        except ValueError:
            result = None
    return {"asset_field": field, "asset_value": asset_version, "rule": package.version, "notation": "exact"} | {
        "result": result
    }


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
