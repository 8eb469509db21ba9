"""The site's prioritisation policy: due days per SSVC outcome, network zone -> System Exposure, and the device
categories whose loss stops a mission essential function. Defaults ship in data/policy.yaml; a file given with
`--policy FILE` or VIGIL_POLICY overrides the keys it states (docs/prioritisation.md)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vigil.response.ssvc import EXPOSURES, OUTCOMES

DEFAULT_POLICY = Path(__file__).parent / "data" / "policy.yaml"
ENV_VAR = "VIGIL_POLICY"
_MAX_DAYS = 3650
_SEPARATORS = re.compile(r"[\s_\-]+")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the key."""


def zone_key(zone: str) -> str:
    """How zones compare: `Clinical VLAN`, `clinical-vlan` and `clinical_vlan` are one zone."""
    return _SEPARATORS.sub("", zone.casefold())


def category_key(category: str) -> str:
    """How device categories compare: case and surrounding or repeated spaces do not matter."""
    return " ".join(category.casefold().split())


@dataclass(frozen=True)
class Policy:
    """What the site decided; every field is explained in data/policy.yaml."""

    due_days: Mapping[str, int | None]
    """SSVC outcome -> days from the finding's opening until the response is due (None: no due date)."""
    zones: Mapping[str, str]
    """zone_key(network zone) -> SSVC System Exposure (small, controlled, open)."""
    default_exposure: str
    """Exposure of a zone the policy does not list."""
    missing_exposure: str
    """Exposure of an asset whose inventory record names no zone."""
    mission_essential: frozenset[str]
    """category_key(device category) of categories whose loss stops a mission essential function."""
    source: str
    """Where the policy came from: `built-in policy` or `policy FILE`, as decision points cite it."""

    def exposure_of(self, zone: str | None) -> tuple[str, str]:
        """(exposure, why) for an asset's network zone."""
        if zone is None or not zone.strip():
            return self.missing_exposure, f"asset names no network_zone → {self.missing_exposure} ({self.source})"
        listed = self.zones.get(zone_key(zone))
        if listed is not None:
            return listed, f"asset.network_zone={zone!r} → {listed} ({self.source})"
        return (
            self.default_exposure,
            f"asset.network_zone={zone!r} not listed → {self.default_exposure} ({self.source})",
        )


def load_policy(path: Path | None = None) -> Policy:
    """The built-in policy, overridden by `path`, else by the file VIGIL_POLICY names, if any."""
    base = _read(DEFAULT_POLICY)
    policy = _build({}, base, "built-in policy", DEFAULT_POLICY)
    chosen = path or (Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else None)
    if chosen is None:
        return policy
    return _build(base, _read(chosen), f"policy {chosen.name}", chosen)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PolicyError(f"{path}: cannot read: {error.strerror or error}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        reason = str(error).replace("\n", " ")
        raise PolicyError(f"{path}: not YAML: {reason}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: expected a mapping of policy keys at the top level")
    unknown = sorted(set(data) - {"due_days", "exposure", "mission_essential_categories"})
    if unknown:
        raise PolicyError(
            f"{path}: unknown key {unknown[0]!r}: expected due_days, exposure, mission_essential_categories"
        )
    return data


def _build(base: Mapping[str, Any], override: Mapping[str, Any], source: str, path: Path) -> Policy:
    due = dict(_due_days(base.get("due_days") or {}, path)) | _due_days(override.get("due_days") or {}, path)
    missing = [outcome for outcome in OUTCOMES if outcome not in due]
    if missing:
        raise PolicyError(f"{path}: due_days: no entry for {', '.join(missing)}")
    base_exposure = _mapping(base.get("exposure") or {}, "exposure", path)
    exposure = _mapping(override.get("exposure") or {}, "exposure", path)
    zones = _zones(base_exposure.get("zones") or {}, path) | _zones(exposure.get("zones") or {}, path)
    default = _exposure(exposure.get("default", base_exposure.get("default")), "exposure.default", path)
    absent = _exposure(exposure.get("missing", base_exposure.get("missing")), "exposure.missing", path)
    categories = override.get("mission_essential_categories", base.get("mission_essential_categories") or [])
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise PolicyError(f"{path}: mission_essential_categories: expected a list of device categories")
    return Policy(due, zones, default, absent, frozenset(category_key(c) for c in categories), source)


def _mapping(value: Any, key: str, path: Path) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"{path}: {key}: expected a mapping")
    return value


def _due_days(value: Any, path: Path) -> dict[str, int | None]:
    days: dict[str, int | None] = {}
    for outcome, count in _mapping(value, "due_days", path).items():
        if outcome not in OUTCOMES:
            raise PolicyError(f"{path}: due_days: unknown outcome {outcome!r}: expected one of {', '.join(OUTCOMES)}")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= _MAX_DAYS):
            raise PolicyError(
                f"{path}: due_days.{outcome}: expected whole days from 0 to {_MAX_DAYS} or null, got {count!r}"
            )
        days[outcome] = count
    return days


def _zones(value: Any, path: Path) -> dict[str, str]:
    zones: dict[str, str] = {}
    for exposure, names in _mapping(value, "exposure.zones", path).items():
        _exposure(exposure, "exposure.zones", path)
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            raise PolicyError(f"{path}: exposure.zones.{exposure}: expected a list of zone names")
        zones.update((zone_key(name), exposure) for name in names)
    return zones


def _exposure(value: Any, key: str, path: Path) -> str:
    if value not in EXPOSURES:
        raise PolicyError(f"{path}: {key}: {value!r} is not an SSVC System Exposure: expected {', '.join(EXPOSURES)}")
    return str(value)
