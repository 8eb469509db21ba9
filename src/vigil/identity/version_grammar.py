"""The regular grammar of version texts: single versions, wildcards, constraint lists, prose, lists.

Pure text-to-constraints functions, used by `version_rules` (which documents the notations) and
`version_notations`. Constraint lists follow the vers specification (VERSION-RANGE-SPEC): sorted by
version and read pairwise.
"""

from __future__ import annotations

import re

from vigil.identity.version_compare import version_key
from vigil.identity.versions import normalise_version

Constraint = tuple[str, str]
Conjunction = tuple[Constraint, ...]


# --- single versions -------------------------------------------------------------------------------------------

# Letter runs that are not version words mark prose or product names ("CODESYS Control V3", "April/20/2023").
_VERSION_WORDS = frozenset(
    {"build", "update", "upd", "hotfix", "patch", "service", "pack", "release", "beta", "alpha", "preview", "rev"}
    | {"firmware", "version", "bios", "hotfixrev"}
)
_LEAD_WORDS = frozenset({"firmware", "version", "bios", "software", "release", "fw", "sw", "rev", "rev."})
_LETTER_RUN = re.compile(r"[A-Za-z]+")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-+~()]*")
_REVISION = re.compile(r"^rev\.?\s+[a-z0-9]+(?:-[a-z0-9]+)?$", re.IGNORECASE)  # "Rev B-M": hardware revision letters
QUALIFIER = re.compile(
    r"^(?:sp|sr|fp|update|upd|hf|hotfix|hotfixrev|build|patch|cu|mr|service|pack|r|p|qu|alpha|beta|rc)(?:\d+[a-z]?)?$",
    re.I,
)
_WILDCARD = re.compile(r"^(.*?\d)((?:\.(?:[xX]{1,2}|\*))+)$")  # "2.x", "3.0.x", "1.38.xx"
_PLAIN = re.compile(r"^[vVrR]?\d+(?:\.\d+)+[a-z]?$")  # "1.4.5", "R1.4.5": what a packed list is made of


def _is_token(token: str) -> bool:
    """A version-like token: has a digit, and no word longer than three letters but known version words."""
    if not _TOKEN.fullmatch(token) or not any(c.isdigit() for c in token):
        return False
    if token.count("(") != token.count(")") or "xx" in token.lower():
        return False  # "DH-IPC-HDW1XXX" is a model family, not a version
    return all(len(run) <= 3 or run.lower() in _VERSION_WORDS for run in _LETTER_RUN.findall(token))


def single_version(text: str) -> str | None:
    """The normalised version if the text is one version (possibly with SP/Update/Build words), else None."""
    text = " ".join(text.replace("_", " ").split()).strip(",;")
    if text.startswith("(") and text.endswith(")") and text.count("(") == 1:
        text = text[1:-1]  # "<=(R4.02)"
    text = normalise_version(text)  # "V 4.30" is one word
    if _REVISION.match(text):
        return text
    words = text.split()
    if len(words) > 1 and words[0].lower() in _LEAD_WORDS:
        words = words[1:]  # "Firmware 20.011", "Version v4.75"
    if not words or len(words) > 6 or not _is_token(words[0]):
        return None
    if not all(QUALIFIER.match(word) or _is_token(word) for word in words[1:]):
        return None
    # "1.3.2 1.4.0" is several versions (a list); "3.1 Build 4022.4" is one.
    if sum(1 for i, word in enumerate(words) if _PLAIN.match(word) and not (i and QUALIFIER.match(words[i - 1]))) > 1:
        return None
    text = " ".join(words)
    return normalise_version(text)


def next_prefix(prefix: str) -> str:
    """The first version after every "prefix.*": "2" -> "3", "V3.0" -> "V3.1"."""
    head, _, last = prefix.rpartition(".")
    match = re.match(r"^(.*?)(\d+)$", last)
    if match is None:
        raise ValueError(prefix)
    bumped = f"{match.group(1)}{int(match.group(2)) + 1}"
    return f"{head}.{bumped}" if head else bumped


def wildcard_range(text: str) -> Conjunction | None:
    """The range ">= 2, < 3" for "2.x"; None when the text is not a wildcard version."""
    match = _WILDCARD.match(text.strip())
    if match is None or single_version(match.group(1)) is None:
        return None
    prefix = normalise_version(match.group(1))
    return ((">=", prefix), ("<", next_prefix(prefix)))


# --- constraint lists (vers semantics) -------------------------------------------------------------------------

OPERATOR = re.compile(r"(<=|>=|!=|<|>|=)")
_REVISION_LETTERS = re.compile(r"^[A-Z]{1,2}$")  # "<=W", "<=LF": hardware revision letters, only after an operator


def constraint_list(text: str) -> list[Constraint] | None:
    """(operator, version) pairs of "<V4.3.8", ">= 1.0 | <= 1.32", ">=V7.80<V9.40", ">= V2.3 and < V6.3"."""
    parts = [p.strip() for p in re.split(r"\|", text)]
    found: list[Constraint] = []
    for part in parts:
        pieces = OPERATOR.split(part)
        # pieces: [before, op, operand, op, operand, ...]; text before the first operator is a bare "=" version.
        head = pieces[0].strip()
        if head:
            version = single_version(head)
            if version is None or len(pieces) > 1:
                return None
            found.append(("=", version))
            continue
        for op, operand in zip(pieces[1::2], pieces[2::2], strict=True):
            operand = re.sub(r"\s+and$", "", operand.strip(), flags=re.IGNORECASE).strip()
            wildcard = wildcard_range(operand)
            if wildcard is not None:
                found.append(_widen(op, wildcard))
                continue
            version = single_version(operand) or (operand if _REVISION_LETTERS.match(operand) else None)
            if version is None:
                return None
            found.append((op, version))
    return found or None


def _widen(op: str, wildcard: Conjunction) -> Constraint:
    """A bound against "N.x": "<= 2.x" is "< 3", "< 2.x" is "< 2", ">= 2.x" is ">= 2", "> 2.x" is ">= 3"."""
    low, high = wildcard[0][1], wildcard[1][1]
    return {"<=": ("<", high), "<": ("<", low), ">=": (">=", low), ">": (">=", high), "=": (">=", low)}.get(
        op, (op, low)
    )


def vers_ranges(constraints: list[Constraint]) -> tuple[tuple[str, ...], tuple[Conjunction, ...]]:
    """Exact versions and DNF ranges per the vers evaluation: sort by version, read neighbours pairwise."""
    equal = tuple(v for op, v in constraints if op == "=")
    excluded = tuple(("!=", v) for op, v in constraints if op == "!=")
    bounds = sorted(((op, v) for op, v in constraints if op not in ("=", "!=")), key=lambda c: version_key(c[1]))
    ranges: list[Conjunction] = []
    if not bounds and excluded:
        ranges.append(excluded)
    lower = {">", ">="}
    for index, (op, version) in enumerate(bounds):
        if index == 0 and op not in lower:
            ranges.append(((op, version), *excluded))
        if op in lower:
            following = bounds[index + 1] if index + 1 < len(bounds) else None
            if following is None:
                ranges.append(((op, version), *excluded))
            elif following[0] not in lower:
                ranges.append(((op, version), following, *excluded))
            # ">=1 >=2": the spec's pairwise reading finds no range starting at the first lower bound.
    return equal, tuple(ranges)


# --- prose -----------------------------------------------------------------------------------------------------

_V = r"(?P<v>.+?)"
_PROSE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), op)
    for pattern, op in (
        (rf"^(?:all\s+)?(?:versions?\s+)?(?:prior\s+to|before|earlier\s+than|older\s+than)\s+{_V}$", "<"),
        (rf"^(?:all\s+)?(?:versions?\s+)?(?:up\s+to(?:\s+and\s+including)?|through)\s+{_V}$", "<="),
        (rf"^(?:versions?\s+)?{_V},?\s+(?:and|or)\s+(?:earlier|prior|below|older|lower|before)$", "<="),
        (rf"^(?:versions?\s+)?{_V},?\s+(?:and|or)\s+(?:later|above|newer|higher|after)$", ">="),
    )
)
_SPAN = re.compile(
    r"^(?:all\s+)?(?:versions?\s+)?(?:from\s+)?(?P<between>between\s+)?(?P<a>.+?)(?:\s+\(including\))?"
    r"(?:\s+(?:to|through|until|and)\s+|\s+-\s*|\s*-\s+)(?P<b>.+?)(?P<excl>\s+\(excluding\))?$",
    re.IGNORECASE,
)


_ABOVE_UP_TO = re.compile(r"^(?P<op>>=?)\s*(?P<a>.+?)\s+up\s+to\s+and\s+including\s+(?P<b>.+)$", re.IGNORECASE)


def prose_ranges(text: str) -> tuple[Conjunction, ...] | None:
    match = _ABOVE_UP_TO.match(text.replace("_", " "))
    if match is not None:
        low, high = single_version(match.group("a")), single_version(match.group("b"))
        return (((match.group("op"), low), ("<=", high)),) if low and high else None
    for pattern, op in _PROSE:
        match = pattern.match(text)
        if match is not None:
            version = single_version(match.group("v"))
            return (((op, version),),) if version is not None else None
    match = _SPAN.match(text)
    # "X and Y" names two versions (a list); only "between X and Y" is a range.
    if match is not None and (match.group("between") or not re.search(r"\sand\s", text, re.IGNORECASE)):
        low, high = single_version(match.group("a")), single_version(match.group("b"))
        if low is not None and high is not None:
            return (((">=", low), ("<" if match.group("excl") else "<=", high)),)
    return None


# --- lists -----------------------------------------------------------------------------------------------------

_LIST_SEPARATORS = re.compile(r"\s*(?:\||,|;|\band\b|\s/\s)\s*", re.IGNORECASE)
_LIST_LEAD = re.compile(r"^(?:release|releases|versions?)\s+", re.IGNORECASE)


def version_list(text: str) -> tuple[tuple[str, ...], tuple[Conjunction, ...]] | None:
    inner = text[1:-1] if text.startswith("(") and text.endswith(")") else text
    inner = _LIST_LEAD.sub("", inner.strip())
    members: list[str] = []
    for member in _LIST_SEPARATORS.split(inner):
        words = member.split()
        # "(Release 1.3.2 1.4.0 1.4.1 1.4.3 1.4.5)", "2.51 2.52": versions packed by spaces
        members.extend(words if len(words) > 1 and all(_PLAIN.match(w) for w in words) else [member] if words else [])
    if len(members) < 2:
        return None
    versions: list[str] = []
    ranges: list[Conjunction] = []
    for member in members:
        wildcard = wildcard_range(member)
        if wildcard is not None:
            ranges.append(wildcard)
            continue
        version = single_version(member)
        if version is None:
            return None
        versions.append(version)
    return tuple(versions), tuple(ranges)
