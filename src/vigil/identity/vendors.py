"""Manufacturer aliases: every spelling, legal name and acquired brand -> one canonical manufacturer.

The table is data (`data/manufacturer_aliases.yaml`), loaded once; a site may point
`VIGIL_MANUFACTURER_ALIASES` at its own copy.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from vigil.errors import first_line
from vigil.identity.names import name_key

DEFAULT_ALIASES = Path(__file__).parent / "data" / "manufacturer_aliases.yaml"


class AliasTableError(ValueError):
    """The alias file is unreadable or contradicts itself; the message names the file and the entry."""


@dataclass(frozen=True)
class ManufacturerAliases:
    """Canonical manufacturer names and the name keys that mean them."""

    source: Path
    """The YAML file the table was read from."""
    canonical_by_key: dict[str, str]
    """name_key(alias) -> canonical manufacturer."""
    aliases: dict[str, tuple[str, ...]]
    """Canonical manufacturer -> its aliases as written in the file."""
    fingerprint: str
    """Digest of the table's content: inventory content hashes include it."""

    def canonical(self, raw: str) -> str:
        """The canonical manufacturer for a raw name; an unknown name comes back tidied, not invented.

        Exact alias first, then the longest alias that the name starts with, word for word
        ("Philips Medical Systems (Best)" -> Philips).
        """
        key = name_key(raw)
        found = self.canonical_by_key.get(key)
        if found:
            return found
        words = key.split()
        for length in range(len(words) - 1, 0, -1):
            found = self.canonical_by_key.get(" ".join(words[:length]))
            if found:
                return found
        return " ".join(raw.split())


def load_aliases(path: Path) -> ManufacturerAliases:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise AliasTableError(f"{path}: cannot read alias table: {first_line(error)}") from None
    if not isinstance(data, dict):
        raise AliasTableError(f"{path}: expected a mapping of canonical name -> list of aliases")
    by_key: dict[str, str] = {}
    aliases: dict[str, tuple[str, ...]] = {}
    for canonical, names in data.items():
        if not isinstance(canonical, str) or not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise AliasTableError(f"{path}: entry {canonical!r} must be a name with a list of alias strings")
        aliases[canonical] = tuple(names)
        for name in [canonical, *names]:
            key = name_key(name)
            if by_key.get(key, canonical) != canonical:
                raise AliasTableError(f"{path}: {name!r} is listed under both {by_key[key]!r} and {canonical!r}")
            by_key[key] = canonical
    fingerprint = hashlib.sha256(repr(sorted(by_key.items())).encode()).hexdigest()[:16]
    return ManufacturerAliases(path, by_key, aliases, fingerprint)


@cache
def default_aliases() -> ManufacturerAliases:
    """The table in use: `VIGIL_MANUFACTURER_ALIASES` if set, else the bundled one."""
    override = os.environ.get("VIGIL_MANUFACTURER_ALIASES")
    return load_aliases(Path(override) if override else DEFAULT_ALIASES)
