"""Synthetic hospital inventories: a catalog + a seed -> canonical CSV rows, streamed.

Pure: no database, no files of its own. The catalog comes from a spec (the bundled
`data/demo_catalog.yaml`, parsed with every scalar a string) and, optionally, the products of the
advisories in the store. The same catalog, asset count and seed always give byte-identical output:
one `random.Random(seed)` drives every choice, and nothing iterates a set or hashes a string.
"""

from __future__ import annotations

import csv
import random
import re
import zlib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, count
from typing import Any, TextIO

from vigil.sources.inventory.fields import CANONICAL_HEADER, OPTIONAL_FIELDS

HEADER = CANONICAL_HEADER + OPTIONAL_FIELDS
"""The generated file's header: every canonical column, then every optional one."""

ALL_VERSIONS = "vers:all/*"


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


@dataclass(frozen=True)
class GenerateStats:
    """What one generation run wrote."""

    assets: int
    """Assets written (the last one may be cut short by a row limit)."""
    rows: int
    """Data rows written (header excluded)."""
    sites: int
    """Distinct sites among them."""
    catalog: str
    """Where the advisory products came from (`store: ...` or `bundled demo catalog: ...`)."""

    @property
    def line(self) -> str:
        return f"assets {self.assets}, rows {self.rows}, sites {self.sites} ({self.catalog})"


# ---------------------------------------------------------------------------------------------
# Building the catalog


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


# ---------------------------------------------------------------------------------------------
# Guessing versions from an advisory's version texts (for store products without curated hints)

_NUMBER = re.compile(r"\d+")
_BOUND = re.compile(r"^(<=|>=|<|>|=)?\s*v?(\S+)")
_WILDCARD = re.compile(r"(?<=\.)[xX](?=\.|$)")


def guess_versions(version: str | None, version_range: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(versions inside, versions outside) what the advisory names; a best effort for arbitrary text."""
    affected: list[str] = []
    unaffected: list[str] = []
    if version == ALL_VERSIONS or version_range == ALL_VERSIONS:
        return ("1.0", "2.1.3"), ()
    if version:
        listed = _listed(version)
        affected += [_fill_wildcards(v) for v in listed]
        if listed:
            unaffected.append(bump(listed[-1]))
    if version_range:
        parts = [p.strip().strip("()") for p in version_range.split("|")]
        has_upper = any(p.startswith("<") for p in parts)
        for part in parts:
            found = _BOUND.match(part)
            if not found or not any(c.isdigit() for c in found[2]):
                continue
            op, raw = found[1] or "=", found[2].rstrip(")")
            bound = _fill_wildcards(raw)
            if op == "<":
                affected.append(lower(bound))
                unaffected += [bound, bump(raw)]
            elif op == "<=":
                affected += [bound, lower(bound)]
                unaffected.append(bump(raw))
            elif op == ">=":
                affected += [bound] if has_upper else [bound, bump(raw)]
                unaffected.append(lower(bound))
            elif op == ">":
                affected.append(bump(raw))
                unaffected.append(bound)
            else:
                affected.append(bound)
    inside = tuple(dict.fromkeys(v for v in affected if v))
    outside = tuple(dict.fromkeys(v for v in unaffected if v and v not in inside))
    return inside, outside


def _listed(version: str) -> list[str]:
    """`(Release 1.3.2 1.4.0)` -> [1.3.2, 1.4.0]; `B.02 | C.02` -> [B.02, C.02]; `9.x model X` -> [9.1]."""
    text = version.strip().strip("()").split(" model ")[0]
    if "|" in text:
        parts = text.split("|")
    elif text.lower().startswith("release "):
        parts = text.split()[1:]
    else:
        parts = [text]
    return [p.strip() for p in parts if any(c.isdigit() for c in p)]


def _fill_wildcards(version: str) -> str:
    """`12.2.x.x` -> `12.2.1.1`: a concrete version inside the wildcard."""
    return _WILDCARD.sub("1", version)


def bump(version: str) -> str:
    """A version just above: `1.4.5` -> `1.5.0`, `1.52` -> `1.53`, `L81` -> `L82`, `5.x.x` -> `6.0.0`."""
    wildcard = _WILDCARD.search(version)
    if wildcard:  # above every version the wildcard covers: bump what precedes it
        fixed = _NUMBER.findall(version[: wildcard.start()])
        return bump_at(_WILDCARD.sub("0", version), len(fixed) - 1) if fixed else ""
    runs = len(_NUMBER.findall(version))
    return bump_at(version, 1 if runs >= 3 else runs - 1) if runs else ""


def bump_at(version: str, at: int) -> str:
    return _rewrite(version, list(_NUMBER.finditer(version)), at, +1)


def lower(version: str) -> str:
    """A version just below: `1.7.15` -> `1.7.14`, `3.0` -> `2.9`; empty when there is none."""
    runs = list(_NUMBER.finditer(version))
    nonzero = [i for i, r in enumerate(runs) if int(r[0])]
    if not nonzero:
        return ""
    return _rewrite(version, runs, nonzero[-1], -1)


def _rewrite(version: str, runs: list[re.Match[str]], at: int, step: int) -> str:
    """Change digit run `at` by `step`; later runs become 0 (going up) or all nines (going down)."""
    out, pos = [], 0
    for i, run in enumerate(runs):
        digits = run[0]
        if i == at:
            new = str(int(digits) + step).zfill(len(digits))
        elif i > at:  # keep zero-padded widths (`2.43.02`), drop others (`1.7.15` -> `1.8.0`)
            width = len(digits) if digits.startswith("0") or step < 0 else 1
            new = ("0" if step > 0 else "9") * width
        else:
            new = digits
        out += [version[pos : run.start()], new]
        pos = run.end()
    return "".join([*out, version[pos:]])


# ---------------------------------------------------------------------------------------------
# Writing rows

_YES_NO = ("no", "yes")


def write_inventory(catalog: Catalog, out: TextIO, assets: int, seed: int, rows: int | None = None) -> GenerateStats:
    """Write the header and `assets` assets as rows to `out`, or, when `rows` is given, exactly that many rows
    (as many assets as it takes, the last one possibly cut short; `assets` is then ignored).

    One row per asset and installed product (device columns repeated); a device without separate
    software is one row with the software columns empty. Streams: memory does not grow with the output.
    The first K rows are the same whatever the limit, so a shorter file is a prefix of a longer one.
    """
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets; seeded for reproducibility
    rand, below, bits = rng.random, rng.randrange, rng.getrandbits
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    limit = rows if rows is not None else -1
    written = 0
    done = 0
    sites_used: set[int] = set()
    hosts: dict[tuple[int, int], int] = {}
    bmcs: dict[int, int] = {}
    site_weights = tuple(accumulate(s.weight for s in catalog.sites))
    category_weights = tuple(accumulate(c.weight for c in catalog.categories))
    zone_index = {z: i for i, z in enumerate(("clinical", "imaging", "biomed", "guest", "isolated"))}
    for n in count(1) if rows is not None else range(1, assets + 1):
        if written == limit:
            break
        s = bisect_right(site_weights, rand() * site_weights[-1])
        site = catalog.sites[s]
        category = catalog.categories[bisect_right(category_weights, rand() * category_weights[-1])]
        item = category.items[bisect_right(category.item_weights, rand() * category.item_weights[-1])]
        model = item.models[below(len(item.models))]
        prefix = catalog.prefixes[bisect_right(catalog.prefix_weights, rand() * catalog.prefix_weights[-1])]
        zone = ip = mac = bmc = ""
        if category.zones and rand() < category.networked:
            zone = category.zones[bisect_right(category.zone_weights, rand() * category.zone_weights[-1])]
            z = zone_index.get(zone, 4)
            nth = hosts[s, z] = hosts.get((s, z), 0) + 1
            ip = _address(s, z, nth)
            mac = _mac(bits(40))
            if category.bmc:
                nth = bmcs[s] = bmcs.get(s, 0) + 1
                bmc = f"172.{16 + s % 16}.{nth // 250 % 256}.{nth % 250 + 2}"
        device = (
            f"{site.code}-{n:07d}",
            model.manufacturers[below(len(model.manufacturers))],
            model.name,
            model.numbers[below(len(model.numbers))] if model.numbers else "",
            f"{model.name[:2].upper()}{bits(36):09X}",
            _with_prefix(prefix, _pick(item.firmware, rand, below, catalog.affected_share)),
        )
        place = (
            site.name,
            category.locations[below(len(category.locations))],
            ip,
            model.udi_di if model.udi_di and rand() < 0.7 else "",
            mac,
            bmc,
            zone,
            category.name,
            _YES_NO[category.patient_connected],
            _YES_NO[category.life_sustaining],
            _YES_NO[rand() < category.do_not_scan],
        )
        sites_used.add(s)
        done += 1
        if not item.software:
            writer.writerow((*device, "", "", "", *place))
            written += 1
            continue
        low, high = item.installs
        chosen = sorted(rng.sample(range(len(item.software)), low + below(high - low + 1)))
        for i in chosen:
            if written == limit:
                break
            software = item.software[i]
            version = _with_prefix(prefix, _pick(software, rand, below, catalog.affected_share))
            writer.writerow((*device, software.vendors[below(len(software.vendors))], software.name, version, *place))
            written += 1
    return GenerateStats(done, written, len(sites_used), catalog.source)


def _pick(versions: Software, rand: Callable[[], float], below: Callable[[int], int], affected_share: float) -> str:
    """A version inside the affected set with probability `affected_share`, when both kinds exist."""
    inside, outside = versions.affected, versions.unaffected
    pool = inside if inside and (not outside or rand() < affected_share) else outside
    return pool[below(len(pool))] if pool else ""


def _with_prefix(prefix: str, version: str) -> str:
    """`v1.4.5`, `R1.4.5`, `Release 1.4.5`: only in front of versions that start with a digit."""
    return prefix + version if prefix and version[:1].isdigit() else version


def _address(site: int, zone: int, nth: int) -> str:
    """A private 10/8 address per site and zone (guest Wi-Fi in 192.168/16), never .0/.1/.255."""
    if zone == 3:
        return f"192.168.{(site * 40 + nth // 250) % 256}.{nth % 250 + 2}"
    return f"10.{site * 8 + zone + 10}.{nth // 250 % 256}.{nth % 250 + 2}"


def _mac(value: int) -> str:
    """A locally administered unicast MAC (02:...), so no real vendor's address space is used."""
    return "02:" + ":".join(f"{(value >> shift) & 0xFF:02X}" for shift in (32, 24, 16, 8, 0))
