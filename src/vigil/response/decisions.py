"""Decide once: which devices a decision covers.

A decision names (CVE or advisory) x (manufacturer, model, release, optional model number). A device is
covered when either the device itself (its canonical manufacturer and model) or one of the software products
installed on it (the product's vendor and name) is the decision's manufacturer and model, names compared by
name key as the matcher does, with that model's or product's version fitting `release` (CSAF `*`/`?`
wildcards, or an exact version) and, when the decision names one, the device's model number equal (12NC
etc., normalised): "Philips Interventional WorkSpot 1.4.* on 12NC 459800939471" covers the software on that
workstation whoever built the workstation.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.identity.versions import normalise_version
from vigil.identity.wildcards import as_regex, has_wildcard


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """What a decision looks at on one device."""

    manufacturer: str | None
    """Canonical manufacturer."""
    model_key: str | None
    """name_key of the device model."""
    model_number: str | None
    """Normalised model number."""
    firmware_version: str | None
    """The device's own version (prefixes stripped)."""
    software: tuple[tuple[str | None, str, str | None], ...]
    """(canonical vendor, name_key, version) of every product installed on it."""


@dataclass(frozen=True, slots=True)
class DecisionScope:
    """The device side of a decision, normalised the way the inventory is."""

    manufacturer: str
    """Canonical manufacturer."""
    model_key: str
    """name_key of the model or software product name."""
    release: str | None
    """Version or CSAF wildcard pattern; None covers every release."""
    model_number: str | None
    """Normalised model number; None covers every one."""

    def covers(self, device: DeviceFacts) -> bool:
        if self.model_number is not None and device.model_number != self.model_number:
            return False
        own = (device.manufacturer, device.model_key) == (self.manufacturer, self.model_key)
        if own and self.release_fits(device.firmware_version):
            return True
        return any(
            (vendor, key) == (self.manufacturer, self.model_key) and self.release_fits(version)
            for vendor, key, version in device.software
        )

    def release_fits(self, version: str | None) -> bool:
        if self.release is None:
            return True
        if version is None:
            return False
        wanted = normalise_version(self.release)
        if has_wildcard(wanted):
            return as_regex(wanted).fullmatch(version) is not None
        return version == wanted
