"""`fixed`, confirmed by the inventory: a device whose finding the matcher closed because its inventory record
changed is fixed when it is still the same product — every identifying value the match rested on (model,
model number, software name, purl) is still recorded — and only a version the match rested on moved (the
FCO was installed, the CMMS says so). A corrected model number or a renamed product is no fix: the finding
just closes, its status left as it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """The device as the inventory records it now (raw values, as match evidence quotes them)."""

    fields: Mapping[str, str | None]
    """Device fields by their evidence name: manufacturer, model, model_number, serial_number, udi_di,
    firmware_version."""
    installed: Sequence[Mapping[str, str | None]]
    """Installed products: vendor, name, version, purl, cpe."""


def fixed_detail(change: str) -> dict[str, Any]:
    """The response detail of a finding the inventory shows fixed."""
    return {
        "comment": f"the inventory now records {change}, a version the advisory does not list as affected",
        "evidence": [{"kind": "inventory", "value": change}],
    }


def version_change(evidence: Mapping[str, Any], device: DeviceRecord) -> str | None:
    """'X: old -> new' when the device is still the matched product and only its version moved, else None."""
    changes = []
    for side in _sides(evidence):
        what = side.get("identifier") or side.get("name")
        version = side.get("version")
        if not isinstance(what, Mapping):
            continue
        if side.get("side") == "device":
            if device.fields.get(what["asset_field"]) != what["asset_value"]:
                return None  # another model or model number: not the same product
            current = device.fields.get(version["asset_field"]) if version else None
        else:
            product = _installed(device, what)
            if product is None:
                return None
            current = product.get("version")
        if version and current != version["asset_value"]:
            changes.append(f"{what['asset_value']}: {version['asset_value']} -> {current or 'no version'}")
    return "; ".join(changes) or None


def _sides(evidence: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for product in evidence.get("products", ()):
        if "relationship" in product:
            yield from (product[part] for part in ("component", "platform") if product.get(part))
        else:
            yield product


def _installed(device: DeviceRecord, what: Mapping[str, Any]) -> Mapping[str, str | None] | None:
    field, value = what["asset_field"], what["asset_value"]
    return next((p for p in device.installed if p.get(field) == value), None)
