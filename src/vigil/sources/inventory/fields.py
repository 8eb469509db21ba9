"""The canonical inventory columns: the contract every reader maps its input onto."""

from __future__ import annotations

CANONICAL_HEADER = (
    "asset_id",
    "manufacturer",
    "model",
    "model_number",
    "serial_number",
    "firmware_version",
    "software_vendor",
    "software_name",
    "software_version",
    "site",
    "location",
    "ip_address",
)
"""The canonical CSV header, exactly, in this order (issue #3)."""

OPTIONAL_FIELDS = (
    "udi_di",
    "mac_address",
    "bmc_address",
    "network_zone",
    "device_category",
    "patient_connected",
    "life_sustaining",
    "do_not_scan",
)
"""Extra columns understood when present."""

ALL_FIELDS = CANONICAL_HEADER + OPTIONAL_FIELDS

SOFTWARE_FIELDS = ("software_vendor", "software_name", "software_version")
"""Columns describing one installed product; every other field describes the device itself."""

DEVICE_FIELDS = tuple(f for f in ALL_FIELDS if f not in SOFTWARE_FIELDS and f not in ("asset_id", "site"))
"""Fields that must agree between rows sharing an asset_id."""

BOOLEAN_FIELDS = ("patient_connected", "life_sustaining", "do_not_scan")
"""yes/no columns."""
