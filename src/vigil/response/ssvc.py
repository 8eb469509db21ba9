"""SSVC's Deployer decision model (patch application priority), exactly as CERT/CC publishes it.

Source: CERT/CC SSVC, https://github.com/CERTCC/SSVC
  - `src/ssvc/decision_tables/ssvc/deployer_dt.py` (DEPLOYER_1, key DP, version 1.0.0), published as
    `data/json/decision_tables/ssvc/deployer_patch_application_priority_1_0_0.json` (DT_DP 1.0.0): decision
    points Exploitation (ssvc:E:1.1.0), System Exposure (ssvc:EXP:1.0.1), Automatable (ssvc:A:2.0.0), Human
    Impact (ssvc:HI:2.0.2) -> outcome group Defer, Scheduled, Out-of-Cycle, Immediate (ssvc:DSOI:1.0.0);
  - `src/ssvc/decision_tables/ssvc/human_impact.py` (HUMAN_IMPACT_1, version 1.0.0): Safety Impact
    (ssvc:SI:2.0.0: Negligible, Marginal, Critical, Catastrophic) x Mission Impact (ssvc:MI:2.0.0: Degraded,
    MEF Support Crippled, MEF Failure, Mission Failure) -> Human Impact (ssvc:HI:2.0.2).

Both tables below are those mappings, row for row, re-keyed by vigil's value names (lower case, `_` for
spaces and dashes). How vigil derives each decision point for a device is in response/decision_points.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SSVC_SOURCE = "CERT/CC SSVC Deployer Patch Application Priority 1.0.0 (DT_DP)"
HUMAN_IMPACT_SOURCE = "CERT/CC SSVC Human Impact table 1.0.0"

# Decision point names, SSVC's own words.
EXPLOITATION = "Exploitation"
SYSTEM_EXPOSURE = "System Exposure"
AUTOMATABLE = "Automatable"
SAFETY_IMPACT = "Safety Impact"
MISSION_IMPACT = "Mission Impact"
HUMAN_IMPACT = "Human Impact"
POINT_NAMES = (EXPLOITATION, SYSTEM_EXPOSURE, AUTOMATABLE, SAFETY_IMPACT, MISSION_IMPACT, HUMAN_IMPACT)
"""Every decision point vigil shows per finding, in the order it shows them (the deployer's four and the two
Human Impact rests on)."""

EXPLOITATIONS = ("none", "public_poc", "active")
"""ssvc:E:1.1.0 None, Public PoC, Active (in rising order)."""
EXPOSURES = ("small", "controlled", "open")
"""ssvc:EXP:1.0.1 Small, Controlled, Open."""
AUTOMATABLES = ("no", "yes")
"""ssvc:A:2.0.0 No, Yes."""
HUMAN_IMPACTS = ("low", "medium", "high", "very_high")
"""ssvc:HI:2.0.2 Low, Medium, High, Very High."""
SAFETY_IMPACTS = ("negligible", "marginal", "critical", "catastrophic")
"""ssvc:SI:2.0.0 Negligible, Marginal, Critical, Catastrophic (IEC 61508 terms)."""
MISSION_IMPACTS = ("degraded", "mef_support_crippled", "mef_failure", "mission_failure")
"""ssvc:MI:2.0.0 Degraded, MEF Support Crippled, MEF Failure, Mission Failure."""
OUTCOMES = ("defer", "scheduled", "out_of_cycle", "immediate")
"""ssvc:DSOI:1.0.0 Defer, Scheduled, Out-of-Cycle, Immediate (in rising urgency)."""

_OUTCOME_LETTER = {"D": "defer", "S": "scheduled", "O": "out_of_cycle", "I": "immediate"}
_HUMAN_LETTER = {"L": "low", "M": "medium", "H": "high", "VH": "very_high"}

# DT_DP 1.0.0: (Exploitation, System Exposure, Automatable) -> outcome letters for Human Impact L, M, H, VH.
_DEPLOYER_ROWS = {
    ("none", "small", "no"): "D D S S",
    ("none", "small", "yes"): "D S S S",
    ("none", "controlled", "no"): "D S S S",
    ("none", "controlled", "yes"): "S S S S",
    ("none", "open", "no"): "D S S S",
    ("none", "open", "yes"): "S S S O",
    ("public_poc", "small", "no"): "D S S S",
    ("public_poc", "small", "yes"): "S S S S",
    ("public_poc", "controlled", "no"): "D S S S",
    ("public_poc", "controlled", "yes"): "S S S O",
    ("public_poc", "open", "no"): "S S S O",
    ("public_poc", "open", "yes"): "S S O O",
    ("active", "small", "no"): "S S O O",
    ("active", "small", "yes"): "S O O O",
    ("active", "controlled", "no"): "S S O O",
    ("active", "controlled", "yes"): "O O O O",
    ("active", "open", "no"): "S O O I",
    ("active", "open", "yes"): "O O I I",
}
DEPLOYER_TABLE: dict[tuple[str, str, str, str], str] = {
    (*key, human): _OUTCOME_LETTER[letter]
    for key, letters in _DEPLOYER_ROWS.items()
    for human, letter in zip(HUMAN_IMPACTS, letters.split(), strict=True)
}
"""(exploitation, exposure, automatable, human impact) -> outcome: all 72 rows of DT_DP 1.0.0."""

# Human Impact 1.0.0: Safety Impact -> Human Impact letters for Mission Impact D, MSC, MEF, MF.
_HUMAN_ROWS = {
    "negligible": "L L M VH",
    "marginal": "L L M VH",
    "critical": "M H H VH",
    "catastrophic": "VH VH VH VH",
}
HUMAN_IMPACT_TABLE: dict[tuple[str, str], str] = {
    (safety, mission): _HUMAN_LETTER[letter]
    for safety, letters in _HUMAN_ROWS.items()
    for mission, letter in zip(MISSION_IMPACTS, letters.split(), strict=True)
}
"""(safety impact, mission impact) -> human impact: all 16 rows of the Human Impact table 1.0.0."""


@dataclass(frozen=True)
class DecisionPoint:
    """One SSVC decision point of one finding: its value and what it rests on."""

    name: str
    """SSVC's name: Exploitation, System Exposure, Automatable, Safety Impact, Mission Impact, Human Impact."""
    value: str
    """The value, in vigil's spelling of SSVC's (none, public_poc, active; small, controlled, open; ...)."""
    source: str
    """Where the value came from, for a person to check: the KEV entry, the advisory sentence, the asset field
    and the policy entry, the CVSS vector, or the SSVC table."""

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "source": self.source}


def deployer_outcome(exploitation: str, exposure: str, automatable: str, human_impact: str) -> str:
    """SSVC's deployer outcome (defer, scheduled, out_of_cycle, immediate) for four decision point values."""
    try:
        return DEPLOYER_TABLE[(exploitation, exposure, automatable, human_impact)]
    except KeyError:
        raise ValueError(
            f"not an SSVC deployer input: exploitation={exploitation!r}, exposure={exposure!r}, "
            f"automatable={automatable!r}, human_impact={human_impact!r}"
        ) from None


def human_impact(safety: str, mission: str) -> str:
    """SSVC Human Impact (low, medium, high, very_high) of a Safety Impact and a Mission Impact."""
    try:
        return HUMAN_IMPACT_TABLE[(safety, mission)]
    except KeyError:
        raise ValueError(f"not an SSVC human impact input: safety={safety!r}, mission={mission!r}") from None
