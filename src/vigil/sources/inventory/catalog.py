"""The generator's catalog: sites, device categories, models and software, from a spec and advisory products.

Pure: the spec is the bundled `data/demo_catalog.yaml` parsed with every scalar a string; advisory
products come from the store when it has any.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from vigil.sources.inventory.version_guess import guess_versions


@dataclass(frozen=True, slots=True)
class AdvisoryProduct:
    """A product as an advisory names it (one stored `product` row, or one bundled catalog entry)."""

    advisory: str
    """Tracking id of the advisory naming it."""
    vendor: str
    """Vendor branch name, verbatim."""
    product_name: str
    """Product name branch, verbatim."""
    product_version: str | None
    """Product version branch, verbatim (may be a list such as `(Release 1.3.2 1.4.0)`)."""
    product_version_range: str | None
    """Product version range branch, verbatim (`< 1.7.15`, `>= 2.5 | <= 3.11`, ...)."""
    model_numbers: tuple[str, ...] = ()
    """Model numbers from the product's identification helper."""


@dataclass(frozen=True, slots=True)
class Model:
    """A hardware model an asset can be."""

    manufacturers: tuple[str, ...]
    """Ways inventories spell its manufacturer; one is picked per asset."""
    name: str
    """Model name."""
    numbers: tuple[str, ...]
    """Ways its part number is written (`4598 009 39471`, `459800939471`, `4598-009-39471`); empty if none."""
    udi_di: str
    """A GS1 device identifier (GTIN-14) for the model, or empty."""


@dataclass(frozen=True, slots=True)
class Software:
    """An advisory product installed on a platform, with the versions to draw from."""

    vendors: tuple[str, ...]
    """Ways inventories spell its vendor."""
    name: str
    """Product name as the advisory gives it."""
    affected: tuple[str, ...]
    """Versions inside what the advisory names."""
    unaffected: tuple[str, ...]
    """Versions outside it (may be empty: every version affected)."""


@dataclass(frozen=True, slots=True)
class Item:
    """Something one asset can be: an advisory device, another device, or a platform with software."""

    label: str
    """Where it came from, for messages (`ICSMA-21-019-01 Philips ViewForum`, `platform reading-workstation`)."""
    models: tuple[Model, ...]
    """Hardware models; one is picked per asset."""
    firmware: Software
    """Firmware versions (for a platform: its BIOS; `affected` empty when no advisory covers it)."""
    software: tuple[Software, ...]
    """Software a platform carries; empty for a device."""
    installs: tuple[int, int]
    """Least and most software products one asset carries."""
    weight: float
    """Relative share within its category."""


@dataclass(frozen=True, slots=True)
class Category:
    """A device category and the facts that follow from it."""

    name: str
    """Category name, written to `device_category`."""
    weight: float
    """Relative share of assets."""
    zones: tuple[str, ...]
    """Network zones it sits in (empty: not networked)."""
    zone_weights: tuple[float, ...]
    """Cumulative weights of `zones`."""
    patient_connected: bool
    """Always connected to a patient (infusion pumps, monitors, ventilators)."""
    life_sustaining: bool
    """Life-sustaining (ventilators)."""
    do_not_scan: float
    """Share of its assets that active scanning must not touch."""
    networked: float
    """Share of its assets with an IP and MAC address."""
    bmc: bool
    """Has a baseboard management controller (workstations, servers)."""
    locations: tuple[str, ...]
    """Places it is found, `{a-b}` already expanded."""
    items: tuple[Item, ...]
    """What its assets can be."""
    item_weights: tuple[float, ...]
    """Cumulative weights of `items`."""


@dataclass(frozen=True, slots=True)
class Site:
    """A hospital site."""

    name: str
    """Written to `site`."""
    code: str
    """Prefix of its asset ids."""
    weight: float
    """Relative share of assets."""


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything the generator draws from."""

    sites: tuple[Site, ...]
    """Sites, with their weights."""
    categories: tuple[Category, ...]
    """Categories that have at least one item."""
    prefixes: tuple[str, ...]
    """Prefixes written before numeric versions (`""`, `v`, `R`, `Release `)."""
    prefix_weights: tuple[float, ...]
    """Cumulative weights of `prefixes`."""
    affected_share: float
    """Chance an asset gets a version inside an advisory's affected set (when there is a choice)."""
    source: str
    """Where the advisory products came from, for the summary line."""
    products: int
    """Advisory products in the catalog."""


def build_catalog(spec: Mapping[str, Any], products: Sequence[AdvisoryProduct] | None, source: str) -> Catalog:
    """The catalog: `products` (from the store) or else the spec's own, plus the spec's synthetic parts.

    `spec` is the parsed YAML with every scalar a string (yaml.BaseLoader), so versions such as
    `1.10` stay text.
    """
    spellings: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in spec["manufacturers"].items()}
    hints = {_key(entry): entry for entry in spec["products"]}
    if products is None:
        products = [_product_of(entry) for entry in spec["products"]]
    platforms = spec["platforms"]
    placed: dict[str, list[Item]] = {name: [] for name in spec["categories"]}
    hosted: dict[str, list[Software]] = {name: [] for name in platforms}
    used = 0
    for product in _distinct(products):
        hint = hints.get(_key(product), {})
        if hint.get("exclude") == "true":
            continue
        used += 1
        curated = bool(hint) and ("affected" in hint or "unaffected" in hint)
        affected, unaffected = (
            (tuple(hint.get("affected", ())), tuple(hint.get("unaffected", ())))
            if curated
            else guess_versions(product.product_version, product.product_version_range)
        )
        vendors = _spell(spellings, hint.get("manufacturer", product.vendor))
        versions = Software(vendors, product.product_name, affected, tuple(v for v in unaffected if v not in affected))
        category, platform = _place(product, hint, spec)
        if platform is not None:
            hosted[platform].append(versions)
            continue
        label = f"{product.advisory} {product.vendor} {product.product_name}"
        models = _device_models(vendors, product, hint)
        placed[category].append(Item(label, models, versions, (), (0, 0), _weight(hint)))
    for name, platform in platforms.items():
        if hosted[name]:
            placed[platform["category"]].append(_platform_item(name, platform, hosted[name], spellings))
    for device in spec.get("devices", ()):
        placed[device["category"]].append(_device_item(device, spellings))
    categories = tuple(
        _category(name, entry, placed[name]) for name, entry in spec["categories"].items() if placed[name]
    )
    sites = tuple(Site(s["name"], s["code"], float(s["weight"])) for s in spec["sites"])
    prefixes = spec["version_prefixes"]
    return Catalog(
        sites=sites,
        categories=categories,
        prefixes=tuple(prefixes),
        prefix_weights=tuple(accumulate(float(w) for w in prefixes.values())),
        affected_share=float(spec["affected_share"]),
        source=source,
        products=used,
    )


def _key(p: Mapping[str, Any] | AdvisoryProduct) -> tuple[str | None, ...]:
    """Identity of an advisory product for hint lookup: its four texts, exactly."""
    if isinstance(p, AdvisoryProduct):
        return (p.vendor, p.product_name, p.product_version, p.product_version_range)
    return (p["vendor"], p["product_name"], p.get("product_version"), p.get("product_version_range"))


def _product_of(entry: Mapping[str, Any]) -> AdvisoryProduct:
    return AdvisoryProduct(
        entry["advisory"],
        entry["vendor"],
        entry["product_name"],
        entry.get("product_version"),
        entry.get("product_version_range"),
    )


def _distinct(products: Iterable[AdvisoryProduct]) -> list[AdvisoryProduct]:
    """Drop products repeated by another advisory (same four texts), keeping the first; sorted for stability."""
    seen: set[tuple[str | None, ...]] = set()
    kept = []
    for p in sorted(products, key=lambda p: (p.advisory, *(s or "" for s in _key(p)), p.model_numbers)):
        if _key(p) not in seen:
            seen.add(_key(p))
            kept.append(p)
    return kept


def _place(product: AdvisoryProduct, hint: Mapping[str, Any], spec: Mapping[str, Any]) -> tuple[str, str | None]:
    """(category, platform or None): from the hint, else the first keyword in the name, else the default platform."""
    if "platform" in hint:
        return spec["platforms"][hint["platform"]]["category"], hint["platform"]
    if "category" in hint:
        return hint["category"], None
    name = product.product_name.lower()
    for rule in spec["keywords"]:
        if rule["word"] in name:
            if "platform" in rule:
                return spec["platforms"][rule["platform"]]["category"], rule["platform"]
            return rule["category"], None
    default = spec["default_platform"]
    return spec["platforms"][default]["category"], default


def _device_models(vendors: tuple[str, ...], product: AdvisoryProduct, hint: Mapping[str, Any]) -> tuple[Model, ...]:
    """The hint's models, else one per model number from the advisory, else the product name itself."""
    if "models" in hint:
        return tuple(_model(vendors, m["name"], m.get("number", ""), True) for m in hint["models"])
    return tuple(_model(vendors, product.product_name, n, True) for n in product.model_numbers or ("",))


def _spell(spellings: Mapping[str, tuple[str, ...]], vendor: str) -> tuple[str, ...]:
    return spellings.get(vendor, (vendor,))


def _model(manufacturers: tuple[str, ...], name: str, number: str, udi: bool) -> Model:
    udi_di = _udi_di(f"{manufacturers[0]}|{name}|{number}") if udi else ""
    return Model(manufacturers, name, part_number_spellings(number), udi_di)


def _platform_item(
    name: str, platform: Mapping[str, Any], software: list[Software], spellings: Mapping[str, tuple[str, ...]]
) -> Item:
    udi = platform.get("udi") == "true"
    models = tuple(
        _model(_spell(spellings, m.get("manufacturer", platform["manufacturer"])), m["name"], m.get("number", ""), udi)
        for m in platform["models"]
    )
    low, high = (int(n) for n in platform["installs"])
    firmware = Software((), "", (), tuple(platform["firmware"]))
    installs = (min(low, len(software)), min(high, len(software)))
    return Item(f"platform {name}", models, firmware, tuple(software), installs, _weight(platform))


def _device_item(device: Mapping[str, Any], spellings: Mapping[str, tuple[str, ...]]) -> Item:
    model = _model(_spell(spellings, device["manufacturer"]), device["model"], device.get("number", ""), True)
    firmware = Software((), "", (), tuple(device["firmware"]))
    return Item(f"device {device['model']}", (model,), firmware, (), (0, 0), _weight(device))


def _weight(entry: Mapping[str, Any]) -> float:
    return float(entry.get("weight", "1"))


def _category(name: str, entry: Mapping[str, Any], items: list[Item]) -> Category:
    zones = entry.get("zones") or {}
    return Category(
        name=name,
        weight=float(entry["weight"]),
        zones=tuple(zones),
        zone_weights=tuple(accumulate(float(w) for w in zones.values())),
        patient_connected=entry["patient_connected"] == "true",
        life_sustaining=entry["life_sustaining"] == "true",
        do_not_scan=float(entry["do_not_scan"]),
        networked=float(entry["networked"]),
        bmc=entry.get("bmc") == "true",
        locations=tuple(loc for template in entry["locations"] for loc in _expand(template)),
        items=tuple(items),
        item_weights=tuple(accumulate(i.weight for i in items)),
    )


_RANGE = re.compile(r"\{(\d+)-(\d+)\}")


def _expand(template: str) -> list[str]:
    """`ICU Bed {1-3}` -> `ICU Bed 1`, `ICU Bed 2`, `ICU Bed 3`."""
    found = _RANGE.search(template)
    if not found:
        return [template]
    low, high = int(found[1]), int(found[2])
    return [template[: found.start()] + str(n) + template[found.end() :] for n in range(low, high + 1)]


def part_number_spellings(number: str) -> tuple[str, ...]:
    """The ways inventories write a grouped part number: `4598 009 39471`, `459800939471`, `4598-009-39471`."""
    if not number:
        return ()
    if " " not in number:
        return (number,)
    return (number, number.replace(" ", ""), number.replace(" ", "-"))


def _udi_di(model: str) -> str:
    """A stable, well-formed GTIN-14 for a model (crc32, not hash(): the same in every process)."""
    body = f"0{zlib.crc32(model.encode()) % 10**12:012d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)
