"""Guessing versions inside and outside an advisory's version texts, for synthetic inventories.

Best effort, for store products without curated hints: `1.4.5` -> affected 1.4.5, unaffected a
bumped neighbour; `<4.2` -> 4.1 inside, 4.2 outside. The matcher (issue #4) has the real grammar.
"""

from __future__ import annotations

import re

ALL_VERSIONS = "vers:all/*"


_NUMBER = re.compile(r"\d+")
_BOUND = re.compile(r"^(<=|>=|<|>|=)?\s*v?(\S+)")
_WILDCARD = re.compile(r"(?<=\.)[xX](?=\.|$)")


def guess_versions(version: str | None, version_range: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(versions inside, versions outside) what the advisory names; a best effort for arbitrary text."""
    affected: list[str] = []
    unaffected: list[str] = []
    if version == ALL_VERSIONS or version_range == ALL_VERSIONS:
        return ("1.0", "2.1.3"), ()
    if version:
        listed = _listed(version)
        affected += [_fill_wildcards(v) for v in listed]
        if listed:
            unaffected.append(bump(listed[-1]))
    if version_range:
        parts = [p.strip().strip("()") for p in version_range.split("|")]
        has_upper = any(p.startswith("<") for p in parts)
        for part in parts:
            found = _BOUND.match(part)
            if not found or not any(c.isdigit() for c in found[2]):
                continue
            op, raw = found[1] or "=", found[2].rstrip(")")
            bound = _fill_wildcards(raw)
            if op == "<":
                affected.append(lower(bound))
                unaffected += [bound, bump(raw)]
            elif op == "<=":
                affected += [bound, lower(bound)]
                unaffected.append(bump(raw))
            elif op == ">=":
                affected += [bound] if has_upper else [bound, bump(raw)]
                unaffected.append(lower(bound))
            elif op == ">":
                affected.append(bump(raw))
                unaffected.append(bound)
            else:
                affected.append(bound)
    inside = tuple(dict.fromkeys(v for v in affected if v))
    outside = tuple(dict.fromkeys(v for v in unaffected if v and v not in inside))
    return inside, outside


def _listed(version: str) -> list[str]:
    """`(Release 1.3.2 1.4.0)` -> [1.3.2, 1.4.0]; `B.02 | C.02` -> [B.02, C.02]; `9.x model X` -> [9.1]."""
    text = version.strip().strip("()").split(" model ")[0]
    if "|" in text:
        parts = text.split("|")
    elif text.lower().startswith("release "):
        parts = text.split()[1:]
    else:
        parts = [text]
    return [p.strip() for p in parts if any(c.isdigit() for c in p)]


def _fill_wildcards(version: str) -> str:
    """`12.2.x.x` -> `12.2.1.1`: a concrete version inside the wildcard."""
    return _WILDCARD.sub("1", version)


def bump(version: str) -> str:
    """A version just above: `1.4.5` -> `1.5.0`, `1.52` -> `1.53`, `L81` -> `L82`, `5.x.x` -> `6.0.0`."""
    wildcard = _WILDCARD.search(version)
    if wildcard:  # above every version the wildcard covers: bump what precedes it
        fixed = _NUMBER.findall(version[: wildcard.start()])
        return bump_at(_WILDCARD.sub("0", version), len(fixed) - 1) if fixed else ""
    runs = len(_NUMBER.findall(version))
    return bump_at(version, 1 if runs >= 3 else runs - 1) if runs else ""


def bump_at(version: str, at: int) -> str:
    return _rewrite(version, list(_NUMBER.finditer(version)), at, +1)


def lower(version: str) -> str:
    """A version just below: `1.7.15` -> `1.7.14`, `3.0` -> `2.9`; empty when there is none."""
    runs = list(_NUMBER.finditer(version))
    nonzero = [i for i, r in enumerate(runs) if int(r[0])]
    if not nonzero:
        return ""
    return _rewrite(version, runs, nonzero[-1], -1)


def _rewrite(version: str, runs: list[re.Match[str]], at: int, step: int) -> str:
    """Change digit run `at` by `step`; later runs become 0 (going up) or all nines (going down)."""
    out, pos = [], 0
    for i, run in enumerate(runs):
        digits = run[0]
        if i == at:
            new = str(int(digits) + step).zfill(len(digits))
        elif i > at:  # keep zero-padded widths (`2.43.02`), drop others (`1.7.15` -> `1.8.0`)
            width = len(digits) if digits.startswith("0") or step < 0 else 1
            new = ("0" if step > 0 else "9") * width
        else:
            new = digits
        out += [version[pos : run.start()], new]
        pos = run.end()
    return "".join([*out, version[pos:]])
