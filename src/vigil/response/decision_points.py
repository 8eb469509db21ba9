"""Each SSVC deployer decision point of one finding, derived from what vigil knows, with its source (pure).

Exploitation (none, public_poc, active): a CISA KEV listing of the CVE is *active* and wins. Otherwise the
strongest statement of any current advisory covering the CVE: its notes and CSAF threats of category
exploit_status (response/advisory_text.py reads them) and the exploit maturity of its CVSS vector. No statement
at all is *none*: SSVC's "no evidence of active exploitation and no public PoC".

System Exposure (small, controlled, open): the asset's network zone through the policy's zone table. A
vulnerability CVSS says needs physical access (v3/v4 AV:P) is *small* wherever the device sits.

Automatable (no, yes): from the CVSS vector (response/cvss_scores.py says how, per version).

Human Impact (low, medium, high, very_high) is SSVC's table of Safety Impact x Mission Impact, derived as:

Safety Impact (IEC 61508 terms) from the device's clinical role and what exploitation can do to it (the
"effect": *harm* when the advisory says patients can be harmed — its notes or impact threats, or CVSS 4.0
S:P —, else *function*/*partial*/*data* from the CVSS integrity and availability impact):

    role \\ effect      harm           function    partial     data
    life_sustaining    catastrophic   critical    critical    negligible
    patient_connected  critical       critical    marginal    negligible
    neither            marginal       negligible  negligible  negligible

    Why: a device that keeps a patient alive and can be stopped is a loss of life (Critical); when the
    advisory itself says patients can be harmed, one exploit reaches every such device of that model
    (multiple loss of life: Catastrophic). A device on a patient that can be made to act or read wrong
    (therapy, dose, alarms) can kill (Critical); disturbed, it injures (Marginal). Data exposure harms no body.

Mission Impact from the device category: a category the policy lists as mission essential (shared systems
many patients depend on, imaging used during procedures) is *mef_failure* when its function can be stopped or
corrupted (or patients harmed), *mef_support_crippled* when it can be disturbed, else *degraded*. Any other
single device is *degraded*: the hospital's essential functions go on without it. vigil never derives
*mission_failure*; that takes knowledge of the whole hospital.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vigil.response.cvss_scores import DATA, FUNCTION, HARM, PARTIAL, CvssScore, automatable, device_effect
from vigil.response.policy import Policy, category_key
from vigil.response.ssvc import (
    AUTOMATABLE,
    EXPLOITATION,
    EXPLOITATIONS,
    HUMAN_IMPACT,
    HUMAN_IMPACT_SOURCE,
    MISSION_IMPACT,
    SAFETY_IMPACT,
    SYSTEM_EXPOSURE,
    DecisionPoint,
    human_impact,
)

QUOTE_LENGTH = 160

_SAFETY = {
    "life_sustaining": {HARM: "catastrophic", FUNCTION: "critical", PARTIAL: "critical", DATA: "negligible"},
    "patient_connected": {HARM: "critical", FUNCTION: "critical", PARTIAL: "marginal", DATA: "negligible"},
    "neither": {HARM: "marginal", FUNCTION: "negligible", PARTIAL: "negligible", DATA: "negligible"},
}
_MISSION_ESSENTIAL = {HARM: "mef_failure", FUNCTION: "mef_failure", PARTIAL: "mef_support_crippled", DATA: "degraded"}
_EFFECT_WORDS = {
    HARM: "exploitation can harm patients",
    FUNCTION: "exploitation can stop or corrupt it",
    PARTIAL: "exploitation can disturb it",
    DATA: "exploitation exposes data only",
}


@dataclass(frozen=True)
class AssetFacts:
    """The inventory fields prioritisation reads."""

    network_zone: str | None
    """asset.network_zone as imported."""
    device_category: str | None
    """asset.device_category as imported."""
    patient_connected: bool | None
    """asset.patient_connected (None: not recorded)."""
    life_sustaining: bool | None
    """asset.life_sustaining (None: not recorded)."""


@dataclass(frozen=True)
class Statement:
    """A sentence (or CVSS metric) of an advisory that a decision point rests on."""

    level: str
    """For exploitation: none, public_poc or active. For harm statements: harm."""
    text: str
    """The sentence, or the CVSS metric and vector."""
    where: str
    """Which advisory and which part of it: `ICSMA-21-019-01 note 'Exploitability'`."""

    def cite(self) -> str:
        text = self.text if len(self.text) <= QUOTE_LENGTH else self.text[: QUOTE_LENGTH - 1] + "…"
        return f"{self.where}: {text!r}"


@dataclass(frozen=True)
class KevFact:
    """The CVE's CISA KEV entry."""

    source: str
    """The catalog it was imported from (kev_entry.source)."""
    date_added: str | None
    """dateAdded."""


def exploitation_point(kev: KevFact | None, kev_imported: bool, statements: Sequence[Statement]) -> DecisionPoint:
    """Exploitation: KEV listing, else the strongest advisory statement, else none."""
    if kev is not None:
        added = f", dateAdded {kev.date_added}" if kev.date_added else ""
        return DecisionPoint(EXPLOITATION, "active", f"kev: listed in {kev.source}{added}")
    not_in_kev = "not in the imported CISA KEV catalog" if kev_imported else "no CISA KEV catalog imported"
    if statements:
        strongest = max(statements, key=lambda s: EXPLOITATIONS.index(s.level))
        return DecisionPoint(EXPLOITATION, strongest.level, f"advisory: {strongest.cite()}; {not_in_kev}")
    return DecisionPoint(
        EXPLOITATION, "none", f"no advisory covering the vulnerability states exploitation; {not_in_kev}"
    )


def exposure_point(asset: AssetFacts, score: CvssScore | None, policy: Policy) -> DecisionPoint:
    """System Exposure: physical-access-only vulnerabilities are small; else the zone through the policy."""
    value, why = policy.exposure_of(asset.network_zone)
    if score is not None and score.version in ("3.0", "3.1", "4.0") and score.metrics.get("AV") == "P":
        return DecisionPoint(
            SYSTEM_EXPOSURE, "small", f"CVSS {score.version} AV:P: only physical access reaches it → small ({why})"
        )
    return DecisionPoint(SYSTEM_EXPOSURE, value, why)


def automatable_point(score: CvssScore | None) -> DecisionPoint:
    value, why = automatable(score)
    return DecisionPoint(AUTOMATABLE, value, why)


def impact_points(
    asset: AssetFacts, score: CvssScore | None, harm: Statement | None, policy: Policy
) -> tuple[DecisionPoint, DecisionPoint, DecisionPoint]:
    """(Safety Impact, Mission Impact, Human Impact), per the tables in the module docstring."""
    if harm is not None:
        effect, effect_why = HARM, f"advisory says patients can be harmed: {harm.cite()}"
    else:
        effect, effect_why = device_effect(score)
    role, role_why = _role(asset)
    safety = _SAFETY[role][effect]
    safety_point = DecisionPoint(SAFETY_IMPACT, safety, f"{role_why}; {effect_why} → {safety}")

    category = asset.device_category
    if category and category_key(category) in policy.mission_essential:
        mission = _MISSION_ESSENTIAL[effect]
        mission_why = (
            f"asset.device_category={category!r} is mission essential ({policy.source}) and "
            f"{_EFFECT_WORDS[effect]} → {mission}"
        )
    else:
        mission = "degraded"
        named = f"asset.device_category={category!r} is not" if category else "asset names no device_category:"
        mission_why = f"{named} mission essential ({policy.source}) → degraded"
    mission_point = DecisionPoint(MISSION_IMPACT, mission, mission_why)

    value = human_impact(safety, mission)
    human_point = DecisionPoint(
        HUMAN_IMPACT, value, f"{HUMAN_IMPACT_SOURCE}: Safety Impact {safety} × Mission Impact {mission} → {value}"
    )
    return safety_point, mission_point, human_point


def _role(asset: AssetFacts) -> tuple[str, str]:
    if asset.life_sustaining:
        return "life_sustaining", "asset.life_sustaining=yes"
    if asset.patient_connected:
        return "patient_connected", "asset.patient_connected=yes"
    unknown = [
        name
        for name, value in (("patient_connected", asset.patient_connected), ("life_sustaining", asset.life_sustaining))
        if value is None
    ]
    if unknown:
        return "neither", f"asset.{' and '.join(unknown)} not recorded: treated as no"
    return "neither", "asset is neither patient-connected nor life-sustaining"
