"""CVSS scores of a vulnerability (2.0 `scores`, 2.1 `metrics`), recomputed with the `cvss` library.

The document's own baseScore is kept beside the computed one: CISA's vectors and scores disagree
now and then, and the matcher must rank by what the vector says.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cvss import CVSS2, CVSS3, CVSS4

# CSAF key -> label when the vector itself does not say (v2 vectors carry no prefix).
_KEYS = {"cvss_v2": "2.0", "cvss_v3": "3.x", "cvss_v4": "4.0"}


@dataclass(frozen=True, slots=True)
class ScoreRecord:
    """One CVSS vector of one vulnerability, for the products it names."""

    vulnerability_ordinal: int
    """Owner vulnerability."""
    cvss_version: str
    """2.0, 3.0, 3.1 or 4.0."""
    vector: str
    """The vectorString as written."""
    base_score: float | None
    """Computed from the vector; None when the library cannot parse it."""
    base_severity: str | None
    """Severity band of the computed score (None, Low, Medium, High, Critical)."""
    stated_base_score: float | None
    """The baseScore the document states."""
    product_ids: list[str]
    """Products the score applies to."""
    error: str | None
    """Why the vector could not be parsed, recorded as a quality flag."""


def scores_of(vuln: dict[str, Any], ordinal: int) -> Iterator[ScoreRecord]:
    entries = [(s, s) for s in vuln.get("scores") or []]  # 2.0: the CVSS objects sit on the entry
    entries += [(m, m.get("content") or {}) for m in vuln.get("metrics") or []]  # 2.1
    for entry, content in entries:
        for key, label in _KEYS.items():
            cvss = content.get(key)
            if isinstance(cvss, dict) and isinstance(cvss.get("vectorString"), str):
                yield _score(ordinal, label, cvss, entry.get("products") or [])


def _score(ordinal: int, label: str, cvss: dict[str, Any], products: list[str]) -> ScoreRecord:
    vector = cvss["vectorString"]
    stated = cvss.get("baseScore")
    version = str(cvss.get("version") or label)
    try:
        score, severity, version = compute(vector, label)
    except Exception as error:  # the cvss library raises its own CVSS*MalformedError family
        return ScoreRecord(ordinal, version, vector, None, None, stated, products, f"{type(error).__name__}: {error}")
    return ScoreRecord(ordinal, version, vector, score, severity, stated, products, None)


def compute(vector: str, label: str) -> tuple[float, str, str]:
    """(base score, severity, version) of a CVSS vector."""
    if label == "2.0":
        v2 = CVSS2(vector)
        return float(v2.base_score), str(v2.severities()[0]), "2.0"
    if label == "4.0" or vector.startswith("CVSS:4.0/"):
        v4 = CVSS4(vector)
        return float(v4.base_score), str(v4.severity), "4.0"
    v3 = CVSS3(vector)
    return float(v3.base_score), str(v3.severities()[0]), "3.1" if vector.startswith("CVSS:3.1/") else "3.0"
