"""Ordering of device version strings: `version_key(a) < version_key(b)` when a is the older version.

Why not a library: measured on 200 distinct version strings drawn from the CISA corpus leaves
(`bench/version_notations.py --libraries`, random seed 4), `packaging.version.Version` parses 155 of 200
and `univers`' `GenericVersion` (the vers `generic` scheme) accepts all 200 because it accepts any string.
Neither orders device notations: of 8 ordering facts (1.4.5.0 == 1.4.5, 1.10 > 1.9, 6.3V1L10 > 6.3V1L9,
1.5 SP3 > 1.5, V1.5 SP3 Update 2 > V1.5 SP3, 1.6 > 1.5 SP3, 1.0rc1 < 1.0, R1.4.5 == 1.4.5) packaging gets 3
(it refuses the other 5 strings) and univers' generic scheme 3 (it compares text: "1.10" < "1.9").
Hence this small key, and no new dependency.

The rules:
- The version is split into digit runs and letter runs; every other character only separates
  ("1.4.5", "1_4_5" and "1-4-5" are one version). A leading "v", "R", "Release" etc. is dropped first
  (`normalise_version`), so "R1.4.5" == "1.4.5".
- Numbers compare numerically ("1.10" > "1.9", "01" == "1"), letters case-insensitively.
- Trailing zero numbers do not count: "1.4.5.0" == "1.4.5".
- At one position, ordered: pre-release word (dev < alpha < beta < pre < rc) < end of version <
  letters < number. So "1.0rc1" < "1.0" < "1.0a" < "1.0.1", "1.5" < "1.5 SP3" < "1.5 SP3 Update 2" < "1.6",
  and "6.3V1L10" < "6.3.1" (a number at a position where the other has letters is the later release:
  vendor letter suffixes mark builds of the preceding number, not a newer line).
- Synonyms are folded: "Upd"/"U" -> "update", "Service Pack" -> "sp", "Hotfix" -> "hf".
"""

from __future__ import annotations

import re
from functools import lru_cache

from vigil.identity.versions import normalise_version

# (kind, number, text); kinds order the positions as the module docstring says.
PRE, END, LETTERS, NUMBER = 0, 1, 2, 3
Segment = tuple[int, int, str]
VersionKey = tuple[Segment, ...]

_RUNS = re.compile(r"\d+|[a-z]+")
_PRE_RELEASE = {"dev": 0, "alpha": 1, "beta": 2, "pre": 3, "preview": 3, "rc": 4}
_SYNONYMS = {"upd": "update", "u": "update", "hotfix": "hf", "servicepack": "sp"}
_SERVICE_PACK = re.compile(r"service\s*pack", re.IGNORECASE)


@lru_cache(maxsize=65536)
def version_key(text: str) -> VersionKey:
    """Sort key of a version; raises ValueError when the text holds no digit or letter at all."""
    cleaned = _SERVICE_PACK.sub("sp", normalise_version(text)).lower()
    segments: list[Segment] = []
    for run in _RUNS.findall(cleaned):
        if run.isdigit():
            segments.append((NUMBER, int(run), ""))
        elif run in _PRE_RELEASE:
            segments.append((PRE, _PRE_RELEASE[run], ""))
        else:
            segments.append((LETTERS, 0, _SYNONYMS.get(run, run)))
    if not segments:
        raise ValueError(f"not a version: {text!r}")
    # Zeros before the end or before a pre-release word carry nothing: "1.4.5.0" == "1.4.5", "1.0rc1" == "1rc1".
    kept: list[Segment] = []
    for segment in reversed(segments):
        follower = kept[-1][0] if kept else END
        if segment == (NUMBER, 0, "") and follower in (END, PRE) and len(segments) > 1:
            continue
        kept.append(segment)
    segments = kept[::-1] or [(NUMBER, 0, "")]
    # The explicit end marker puts "1.0rc1" before "1.0" and "1.0" before "1.0a" in plain tuple order.
    segments.append((END, 0, ""))
    return tuple(segments)


def compare_versions(left: str, right: str) -> int:
    """-1, 0 or 1 as left is older than, the same as or newer than right."""
    a, b = version_key(left), version_key(right)
    return (a > b) - (a < b)
