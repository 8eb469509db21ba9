"""The CVSS score of a finding, and what SSVC may read off its vector.

Which score: an advisory may give several vectors per vulnerability (per product, per CVSS version). Scores that
name one of the finding's matched products are preferred, else every score of the vulnerability counts; among
those the highest CVSS version wins (4.0 over 3.1 over 3.0 over 2.0: the newest says most), and within one
version the highest base score (the advisory's worst case for those products). Vectors are parsed and scored
with the `cvss` library; a vector it refuses is skipped.

What the vector says:
- Automatable, per CISA's SSVC guidance: "yes" when an unauthenticated attacker can reach the vulnerability over
  the network with no special conditions and no user in the loop: v3.x AV:N/AC:L/PR:N/UI:N. For v2, which has
  no UI metric, AV:N/AC:L/Au:N (v2 folds the need for user interaction into AC:M/H). For v4 the vector's own
  supplemental Automatable metric decides when stated (AU:Y/AU:N is SSVC's Automatable, FIRST took it from
  SSVC); otherwise AV:N/AC:L/AT:N/PR:N/UI:N (AT:P, a race or a required configuration, defeats reliable
  automation as AC:H does).
- The device effect, for Safety and Mission Impact: integrity or availability impact high (v2 complete) means
  the device's function can be stopped or corrupted; low (v2 partial) that it can be disturbed; confidentiality
  only that data can leak. v4 counts the vulnerable and the subsequent systems, and its Safety metric S:P
  states outright that exploitation can harm people.
- Exploit maturity, when the vector carries it (v2 E, v3 E, v4 E): proof of concept or functional exploit code
  -> public_poc; v4 E:A (attacked) -> active.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cvss import CVSS2, CVSS3, CVSS4

VERSION_ORDER = ("2.0", "3.0", "3.1", "4.0")

# Device effects, from least to most: what exploitation can do to the device.
DATA, PARTIAL, FUNCTION, HARM = "data", "partial", "function", "harm"


@dataclass(frozen=True)
class CvssScore:
    """One parsed CVSS vector of the advisory."""

    version: str
    """2.0, 3.0, 3.1 or 4.0."""
    vector: str
    """The vector as the `cvss` library normalises it."""
    base_score: float
    """Base score computed from the vector."""
    severity: str
    """Qualitative severity of the base score (None, Low, Medium, High, Critical; v2: Low, Medium, High)."""
    metrics: Mapping[str, str]
    """Metric -> value as the vector states them (unstated ones absent)."""


@dataclass(frozen=True)
class ScoreCandidate:
    """A stored score row of the finding's vulnerability."""

    version: str
    """cvss_version as stored."""
    vector: str
    """vectorString as written in the advisory."""
    product_ids: Sequence[str]
    """Products the score applies to."""


def parse_score(version: str, vector: str) -> CvssScore | None:
    """The score of a vector, or None when the `cvss` library cannot read it."""
    try:
        if vector.startswith("CVSS:4.0/") or version == "4.0":
            v4 = CVSS4(vector)
            return CvssScore("4.0", v4.clean_vector(), float(v4.base_score), str(v4.severity), _stated(vector))
        if vector.startswith("CVSS:3"):
            v3 = CVSS3(vector)
            label = "3.1" if vector.startswith("CVSS:3.1/") else "3.0"
            return CvssScore(label, v3.clean_vector(), float(v3.base_score), str(v3.severities()[0]), _stated(vector))
        v2 = CVSS2(vector.strip("()"))
        return CvssScore("2.0", v2.clean_vector(), float(v2.base_score), str(v2.severities()[0]), _stated(vector))
    except Exception:  # the cvss library raises its own CVSS*MalformedError family, and ValueError/KeyError
        return None


def _stated(vector: str) -> dict[str, str]:
    """Metric -> value as written: the library fills in defaults (X, modified metrics) that the advisory never said."""
    metrics: dict[str, str] = {}
    for part in vector.strip("()").split("/"):
        name, _, value = part.partition(":")
        if name and value and name != "CVSS":
            metrics[name] = value
    return metrics


def pick_score(candidates: Iterable[ScoreCandidate], product_ids: Iterable[str]) -> CvssScore | None:
    """The score that stands for the finding (rules in the module docstring)."""
    listed = list(candidates)
    wanted = set(product_ids)
    named = [c for c in listed if wanted.intersection(c.product_ids)]
    best: CvssScore | None = None
    for candidate in named or listed:
        score = parse_score(candidate.version, candidate.vector)
        if score is not None and (best is None or _rank(score) > _rank(best)):
            best = score
    return best


def _rank(score: CvssScore) -> tuple[int, float]:
    return VERSION_ORDER.index(score.version), score.base_score


def automatable(score: CvssScore | None) -> tuple[str, str]:
    """(SSVC Automatable value, why), per the mapping in the module docstring."""
    if score is None:
        return "yes", "no readable CVSS vector in the advisory: assumed automatable (cannot be ruled out)"
    m = score.metrics
    if score.version == "4.0":
        stated = m.get("AU")
        if stated in ("Y", "N"):
            value = "yes" if stated == "Y" else "no"
            return value, f"CVSS 4.0 supplemental AU:{stated} → {value} ({score.vector})"
        wanted = {"AV": "N", "AC": "L", "AT": "N", "PR": "N", "UI": "N"}
    elif score.version == "2.0":
        wanted = {"AV": "N", "AC": "L", "Au": "N"}
    else:
        wanted = {"AV": "N", "AC": "L", "PR": "N", "UI": "N"}
    condition = "/".join(f"{k}:{v}" for k, v in wanted.items())
    actual = "/".join(f"{k}:{m.get(k, '?')}" for k in wanted)
    if all(m.get(k) == v for k, v in wanted.items()):
        return "yes", f"CVSS {score.version} {actual} → yes (CISA SSVC: {condition} is automatable)"
    return "no", f"CVSS {score.version} {actual} → no (automatable needs {condition})"


def device_effect(score: CvssScore | None) -> tuple[str, str]:
    """(data | partial | function | harm, why): what exploitation can do to the device, by the vector."""
    if score is None:
        return FUNCTION, "no readable CVSS vector: assumed it can stop or corrupt the device"
    m = score.metrics
    keys: tuple[str, ...]
    if score.version == "4.0":
        if m.get("S") == "P":
            return HARM, f"CVSS 4.0 Safety S:P (exploitation can harm people) ({score.vector})"
        keys, high, low = ("VI", "VA", "SI", "SA"), "H", "L"
    elif score.version == "2.0":
        keys, high, low = ("I", "A"), "C", "P"
    else:
        keys, high, low = ("I", "A"), "H", "L"
    stated = "/".join(f"{k}:{m.get(k, '?')}" for k in keys)
    if any(m.get(k) == high for k in keys):
        return FUNCTION, f"CVSS {score.version} {stated}: can stop or corrupt the device"
    if any(m.get(k) == low for k in keys):
        return PARTIAL, f"CVSS {score.version} {stated}: can disturb the device"
    return DATA, f"CVSS {score.version} {stated}: data exposure only"


def exploit_maturity(score: CvssScore | None) -> tuple[str, str] | None:
    """(public_poc | active, why) when the vector states exploit maturity beyond unproven; else None."""
    if score is None:
        return None
    value = score.metrics.get("E")
    if score.version == "4.0":
        found = {"A": "active", "P": "public_poc"}.get(value or "")
    elif score.version == "2.0":
        found = "public_poc" if value in ("POC", "F", "H") else None
    else:
        found = "public_poc" if value in ("P", "F", "H") else None
    if found is None:
        return None
    return found, f"CVSS {score.version} E:{value} ({score.vector})"
