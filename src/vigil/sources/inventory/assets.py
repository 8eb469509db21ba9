"""Inventory rows -> normalised assets with their installed products (pure; no database).

One row per asset-product pair: rows sharing (site, asset_id) describe one device, and their device
columns must agree; each row's software_* columns add one installed product.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from vigil.identity import identifiers
from vigil.identity.vendors import ManufacturerAliases
from vigil.identity.versions import normalise_version
from vigil.sources.inventory.fields import BOOLEAN_FIELDS, DEVICE_FIELDS, SOFTWARE_FIELDS
from vigil.sources.inventory.records import RawRow


@dataclass(frozen=True, slots=True)
class RowRejection:
    """A row that could not be used, and why."""

    row: RawRow
    """The row as read (kept whole for the rejects file)."""
    column: str | None
    """The canonical column at fault, if one is."""
    reason: str
    """One line."""

    @property
    def line(self) -> str:
        where = f"row {self.row.row_number}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class InstalledRecord:
    """One installed product, raw and normalised."""

    vendor_raw: str | None
    """As written."""
    vendor: str | None
    """Canonical manufacturer of the software."""
    name_raw: str
    """As written."""
    name: str
    """Whitespace collapsed."""
    version_raw: str | None
    """As written."""
    version: str | None
    """Notation prefixes stripped (`Release 1.4.5` -> `1.4.5`)."""
    component_type: str | None = None
    """CycloneDX component type, for SBOM components."""
    purl: str | None = None
    """Package URL, for SBOM components."""
    cpe: str | None = None
    """CPE, for SBOM components."""
    bom_ref: str | None = None
    """CycloneDX bom-ref, for SBOM components."""


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """One device, ready to store."""

    site: str
    """Site name."""
    asset_id: str
    """Unique within its site."""
    device: dict[str, Any]
    """Asset table columns (raw and normalised) except identity, hash and bookkeeping."""
    installed: tuple[InstalledRecord, ...]
    """Installed products from the inventory, in file order, without duplicates."""
    extra: dict[str, str]
    """Uninterpreted columns by original header."""
    first_row: int
    """The asset's first row in the file."""
    content_hash: str
    """Digest of device, installed products and extra: equal means unchanged."""


class RowError(ValueError):
    """A cell that cannot be used; carries the column."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column


def normalise_device(values: dict[str, str], aliases: ManufacturerAliases) -> dict[str, Any]:
    """Asset columns from a row's device fields; RowError for a cell that must not be guessed."""
    get = values.get
    device: dict[str, Any] = {}
    manufacturer = get("manufacturer")
    device["manufacturer_raw"] = manufacturer
    device["manufacturer"] = aliases.canonical(manufacturer) if manufacturer else None
    model = get("model")
    device["model_raw"] = model
    device["model"] = " ".join(model.split()) if model else None
    for name, normalise in (
        ("model_number", identifiers.part_number),
        ("serial_number", identifiers.serial_number),
        ("udi_di", identifiers.udi_di),
        ("firmware_version", normalise_version),
    ):
        raw = get(name)
        device[f"{name}_raw"] = raw
        device[name] = normalise(raw) if raw else None
    for name, parse in (("ip_address", identifiers.ip_address), ("mac_address", identifiers.mac_address)):
        raw = get(name)
        device[f"{name}_raw"] = raw
        device[name] = parse(raw) if raw else None
    for name in ("location", "bmc_address", "network_zone", "device_category"):
        device[name] = get(name)
    for name in BOOLEAN_FIELDS:
        raw = get(name)
        try:
            device[name] = identifiers.yes_no(raw) if raw else None
        except ValueError as error:
            raise RowError(name, str(error)) from None
    return device


def installed_from_row(values: dict[str, str], aliases: ManufacturerAliases) -> InstalledRecord | None:
    vendor, name, version = (values.get(f) for f in SOFTWARE_FIELDS)
    if not (vendor or name or version):
        return None
    if not name:
        column = "software_version" if version else "software_vendor"
        raise RowError(column, "software_vendor/software_version given without software_name")
    return InstalledRecord(
        vendor_raw=vendor,
        vendor=aliases.canonical(vendor) if vendor else None,
        name_raw=name,
        name=" ".join(name.split()),
        version_raw=version,
        version=normalise_version(version) if version else None,
    )


@dataclass
class _Building:
    first: RawRow
    device: dict[str, Any]
    installed: list[InstalledRecord] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)


class AssetAssembler:
    """Collects rows into assets; `add` returns a rejection for a row it cannot use."""

    def __init__(self, default_site: str | None, aliases: ManufacturerAliases) -> None:
        self.default_site = default_site
        self.aliases = aliases
        self._assets: dict[tuple[str, str], _Building] = {}

    def add(self, row: RawRow) -> RowRejection | None:
        if row.error:
            column, _, reason = row.error.partition(": ")
            return RowRejection(row, column or None, reason or row.error)
        asset_id = row.values.get("asset_id")
        if not asset_id:
            return RowRejection(row, "asset_id", "empty asset_id")
        site = row.values.get("site") or self.default_site
        if not site:
            return RowRejection(row, "site", "no site: fill the site column or pass --site")
        try:
            device = normalise_device(row.values, self.aliases)
            installed = installed_from_row(row.values, self.aliases)
        except RowError as error:
            return RowRejection(row, error.column, str(error))
        key = (site, asset_id)
        building = self._assets.get(key)
        if building is None:
            building = self._assets[key] = _Building(row, device)
        else:
            # Rows repeat the device columns; spellings may differ ("PHILIPS" / "Philips") as long
            # as they normalise alike. The first row's raw text is kept.
            differing = next((c for c in DEVICE_FIELDS if building.device.get(c) != device.get(c)), None)
            if differing is None:
                return self._attach(building, row, installed)
            column, first = differing, building.first.values.get(differing, "")
            return RowRejection(
                row,
                column,
                f"asset_id {asset_id!r} has {column} {row.values.get(column, '')!r} here "
                f"but {first!r} in row {building.first.row_number}",
            )
        return self._attach(building, row, installed)

    @staticmethod
    def _attach(building: _Building, row: RawRow, installed: InstalledRecord | None) -> None:
        if installed is not None and installed not in building.installed:
            building.installed.append(installed)
        building.extra.update(row.extra)

    def assets(self) -> Iterator[AssetRecord]:
        for (site, asset_id), b in self._assets.items():
            yield AssetRecord(site, asset_id, b.device, tuple(b.installed), b.extra, b.first.row_number, _digest(b))

    def __len__(self) -> int:
        return len(self._assets)


def _digest(b: _Building) -> str:
    payload = orjson.dumps([b.device, b.installed, b.extra], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()
