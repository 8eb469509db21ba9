"""Synthetic hospital inventories: a catalog + a seed -> canonical CSV rows, streamed.

Pure: no database, no files of its own (the catalog is built in catalog.py). The same catalog,
asset count and seed always give byte-identical output: one `random.Random(seed)` drives every
choice, and nothing iterates a set or hashes a string.
"""

from __future__ import annotations

import csv
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate, count
from typing import TextIO

from vigil.sources.inventory.catalog import Catalog, Software
from vigil.sources.inventory.fields import CANONICAL_HEADER, OPTIONAL_FIELDS

HEADER = CANONICAL_HEADER + OPTIONAL_FIELDS
"""The generated file's header: every canonical column, then every optional one."""


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
