"""Mapping files: a site's own header -> canonical field table, for headers the synonyms do not know.

A mapping file is YAML (`.yaml`, `.yml`) or JSON (`.json`) with two optional keys::

    columns:                # original header -> canonical field (see fields.ALL_FIELDS)
      Gerätenummer: asset_id
      Hersteller: manufacturer
      Version: firmware_version
    ignore:                 # columns dropped entirely: neither mapped nor kept as extra values
      - Bemerkung
      - Asset Tag           # e.g. when both "Asset ID" and "Asset Tag" exist

Headers match the way synonyms do (ignoring case, spaces and punctuation), and a mapping entry wins
over the synonym table: mapping "Tag" to `location` stops it meaning `asset_id`, and a field the
mapping assigns is no longer claimed by a synonym column. Entries for headers the file lacks are
harmless, so one mapping file can serve several exports. In YAML every value is read as text
(`No`, `On` and `2024` stay headers, not booleans or numbers).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from vigil.errors import first_line
from vigil.sources.inventory.fields import ALL_FIELDS
from vigil.sources.inventory.records import InventoryFileError

IGNORE = ""
"""Mapping target meaning "drop this column" (what an `ignore:` entry becomes)."""

MAX_MAPPING_BYTES = 1_000_000
_KEYS = ("columns", "ignore")
_TEXT_ONLY = (  # YAML 1.1 would turn `No`/`On` headers into booleans and `2024` into a number
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
)


class TextLoader(yaml.SafeLoader):
    """SafeLoader that reads every scalar except null as a string."""


TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _TEXT_ONLY]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_mapping(path: Path) -> dict[str, str]:
    """Original header -> canonical field, or IGNORE; InventoryFileError naming the file otherwise."""
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise InventoryFileError(f"{path}: mapping file must be .yaml, .yml or .json")
    try:
        if path.stat().st_size > MAX_MAPPING_BYTES:
            raise InventoryFileError(f"{path}: mapping file is over {MAX_MAPPING_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8-sig")
        data: Any = json.loads(text) if suffix == ".json" else yaml.load(text, Loader=TextLoader)  # noqa: S506
    except OSError as error:
        raise InventoryFileError(f"{path}: cannot read mapping file: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise InventoryFileError(f"{path}: mapping file is not UTF-8 (byte {error.start})") from None
    except (ValueError, yaml.YAMLError) as error:  # json.JSONDecodeError is a ValueError
        reason = first_line(error)
        raise InventoryFileError(f"{path}: mapping file is not valid {suffix[1:].upper()}: {reason}") from None
    return _parse(data, str(path))


def check_mapping(mapping: Mapping[str, str], source: str) -> None:
    """Refuse a target that is neither a canonical field nor IGNORE (for mappings built in code)."""
    for header, target in mapping.items():
        if target != IGNORE and target not in ALL_FIELDS:
            raise InventoryFileError(f"{source}: column {header!r} maps to unknown field {target!r}{_known()}")


def _parse(data: Any, source: str) -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, dict) or any(key not in _KEYS for key in data):
        raise InventoryFileError(f"{source}: expected a mapping with `columns:` and/or `ignore:` (see the docs)")
    columns = data.get("columns") or {}
    ignore = data.get("ignore") or []
    if not isinstance(columns, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
        raise InventoryFileError(f"{source}: `columns:` must map each original header to a canonical field name")
    if not isinstance(ignore, list) or not all(isinstance(name, str) for name in ignore):
        raise InventoryFileError(f"{source}: `ignore:` must be a list of original headers")
    mapping: dict[str, str] = {}
    for header, target in columns.items():
        field = target.strip()
        if field not in ALL_FIELDS:
            raise InventoryFileError(f"{source}: column {header!r} maps to unknown field {target!r}{_known()}")
        mapping[header.strip()] = field
    for header in ignore:
        if header.strip() in mapping:
            raise InventoryFileError(f"{source}: column {header!r} is both mapped and ignored")
        mapping[header.strip()] = IGNORE
    return mapping


def _known() -> str:
    return f" (known: {', '.join(ALL_FIELDS)})"
