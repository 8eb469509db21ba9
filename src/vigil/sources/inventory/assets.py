"""Inventory rows -> normalised assets with their installed products (pure; no database).

One row per asset-product pair: rows sharing (site, asset_id) describe one device, and their device
columns must agree; each row's software_* columns add one installed product.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from vigil.identity import identifiers
from vigil.identity.vendors import ManufacturerAliases
from vigil.identity.versions import normalise_version
from vigil.sources.inventory.fields import BOOLEAN_FIELDS, DEVICE_FIELDS
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


_MEMO_LIMIT = 200_000  # distinct raw values remembered per field; past that the memo starts over


def _memo(normalise: Callable[[str], Any]) -> Callable[[str], Any]:
    """Remember a normaliser's answers: inventories repeat manufacturers, models and versions endlessly."""
    cache: dict[str, Any] = {}

    def lookup(raw: str) -> Any:
        try:
            return cache[raw]
        except KeyError:
            if len(cache) >= _MEMO_LIMIT:
                cache.clear()
            value = cache[raw] = normalise(raw)
            return value

    return lookup


def _collapse(raw: str) -> str:
    return " ".join(raw.split())


class Normaliser:
    """Row values -> asset and installed-product columns, memoised per import."""

    def __init__(self, aliases: ManufacturerAliases) -> None:
        self.fingerprint = aliases.fingerprint
        self.manufacturer = _memo(aliases.canonical)
        self.text = _memo(_collapse)
        self.part_number = _memo(identifiers.part_number)
        self.udi_di = _memo(identifiers.udi_di)
        self.version = _memo(normalise_version)
        self.yes_no = _memo(_yes_no_or_error)

    def device(self, values: dict[str, str]) -> dict[str, Any]:
        """Asset columns from a row's device fields; RowError for a cell that must not be guessed."""
        get = values.get
        manufacturer, model, model_number = get("manufacturer"), get("model"), get("model_number")
        serial, udi, firmware = get("serial_number"), get("udi_di"), get("firmware_version")
        ip, mac = get("ip_address"), get("mac_address")
        device: dict[str, Any] = {
            "manufacturer_raw": manufacturer,
            "manufacturer": self.manufacturer(manufacturer) if manufacturer else None,
            "model_raw": model,
            "model": self.text(model) if model else None,
            "model_number_raw": model_number,
            "model_number": self.part_number(model_number) if model_number else None,
            "serial_number_raw": serial,
            "serial_number": identifiers.serial_number(serial) if serial else None,
            "udi_di_raw": udi,
            "udi_di": self.udi_di(udi) if udi else None,
            "firmware_version_raw": firmware,
            "firmware_version": self.version(firmware) if firmware else None,
            "ip_address_raw": ip,
            "ip_address": identifiers.ip_address(ip) if ip else None,
            "mac_address_raw": mac,
            "mac_address": identifiers.mac_address(mac) if mac else None,
            "location": get("location"),
            "bmc_address": get("bmc_address"),
            "network_zone": get("network_zone"),
            "device_category": get("device_category"),
        }
        for name in BOOLEAN_FIELDS:
            raw = get(name)
            flag = self.yes_no(raw) if raw else None
            if isinstance(flag, str):
                raise RowError(name, flag)
            device[name] = flag
        return device

    def installed(self, values: dict[str, str]) -> InstalledRecord | None:
        vendor, name, version = (
            values.get("software_vendor"),
            values.get("software_name"),
            values.get("software_version"),
        )
        if not (vendor or name or version):
            return None
        if not name:
            column = "software_version" if version else "software_vendor"
            raise RowError(column, "software_vendor/software_version given without software_name")
        return InstalledRecord(
            vendor_raw=vendor,
            vendor=self.manufacturer(vendor) if vendor else None,
            name_raw=name,
            name=self.text(name),
            version_raw=version,
            version=self.version(version) if version else None,
        )


def _yes_no_or_error(raw: str) -> bool | str:
    # Memoised, so the error travels as a value: a str is the reason the cell was refused.
    try:
        return identifiers.yes_no(raw)
    except ValueError as error:
        return str(error)


@dataclass(slots=True)
class _Building:
    # Compact on purpose: one of these per asset stays in memory until the file is read
    # (a 1,000,000-row file holds ~900,000).
    first_row: int
    device: tuple[Any, ...]
    device_raw: tuple[str | None, ...]
    installed: list[InstalledRecord] | None = None
    extra: dict[str, str] | None = None


class AssetAssembler:
    """Collects rows into assets; `add` returns a rejection for a row it cannot use."""

    def __init__(self, default_site: str | None, aliases: ManufacturerAliases) -> None:
        self.default_site = default_site
        self.normaliser = Normaliser(aliases)
        self._sites: dict[str, dict[str, _Building]] = {}
        self._columns: tuple[str, ...] = ()
        self.rejected_ids: set[tuple[str, str]] = set()
        """(site, asset_id) named by rejected rows: such assets are not "missing" from the file."""

    def add(self, row: RawRow) -> RowRejection | None:
        if row.error:
            column, _, reason = row.error.partition(": ")
            return RowRejection(row, column or None, reason or row.error)
        values = row.values
        asset_id = values.get("asset_id")
        if not asset_id:
            return RowRejection(row, "asset_id", "empty asset_id")
        site = values.get("site") or self.default_site
        if not site:
            return RowRejection(row, "site", "no site: fill the site column or pass --site")
        rejection = self._add(row, site, asset_id)
        if rejection is not None:
            self.rejected_ids.add((site, asset_id))
        return rejection

    def _add(self, row: RawRow, site: str, asset_id: str) -> RowRejection | None:
        values = row.values
        assets = self._sites.get(site)
        try:
            installed = self.normaliser.installed(values)
            building = assets.get(asset_id) if assets is not None else None
            device_raw = tuple(map(values.get, DEVICE_FIELDS))
            if building is None:
                device = self.normaliser.device(values)
                self._columns = self._columns or tuple(device)
                building = _Building(row.row_number, tuple(device.values()), device_raw)
                self._sites.setdefault(site, {})[asset_id] = building
                return self._attach(building, row, installed)
            if device_raw == building.device_raw:  # the usual case: device columns repeated verbatim
                return self._attach(building, row, installed)
            device = self.normaliser.device(values)
        except RowError as error:
            return RowRejection(row, error.column, str(error))
        # Spellings may differ ("PHILIPS" / "Philips") as long as they normalise alike; the first
        # row's raw text is kept.
        first = dict(zip(self._columns, building.device, strict=True))
        differing = next((c for c in DEVICE_FIELDS if first.get(c) != device.get(c)), None)
        if differing is None:
            return self._attach(building, row, installed)
        first_raw = building.device_raw[DEVICE_FIELDS.index(differing)] or ""
        return RowRejection(
            row,
            differing,
            f"asset_id {asset_id!r} has {differing} {values.get(differing, '')!r} here "
            f"but {first_raw!r} in row {building.first_row}",
        )

    @staticmethod
    def _attach(building: _Building, row: RawRow, installed: InstalledRecord | None) -> None:
        if installed is not None:
            if building.installed is None:
                building.installed = [installed]
            elif installed not in building.installed:
                building.installed.append(installed)
        if row.extra:
            building.extra = {**(building.extra or {}), **row.extra}

    def sites(self) -> list[str]:
        return sorted(self._sites)

    def assets(self, site: str | None = None) -> Iterator[AssetRecord]:
        """Records of one site (or all), built on demand so that only the compact buildings stay in memory."""
        for name in [site] if site is not None else self.sites():
            for asset_id, b in self._sites.get(name, {}).items():
                installed = tuple(b.installed or ())
                extra = b.extra or {}
                digest = _digest(self.normaliser.fingerprint, b.device_raw, installed, extra)
                yield AssetRecord(
                    name,
                    asset_id,
                    dict(zip(self._columns, b.device, strict=True)),
                    installed,
                    extra,
                    b.first_row,
                    digest,
                )

    def __len__(self) -> int:
        return sum(len(assets) for assets in self._sites.values())


def _digest(
    fingerprint: str, device_raw: tuple[str | None, ...], installed: tuple[InstalledRecord, ...], extra: dict[str, str]
) -> str:
    # Raw values determine the normalised ones, given the normalisation data: its fingerprint is in
    # the digest, so editing the alias table makes affected assets `updated` on the next import.
    # repr() of plain tuples is deterministic and several times cheaper than JSON.
    software = [(p.vendor_raw, p.name_raw, p.version_raw) for p in installed]
    payload = repr((fingerprint, device_raw, software, sorted(extra.items())))
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()
