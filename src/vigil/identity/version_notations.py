"""The irregular notations of CISA's version leaves: release lines, serials, dates, conditions, names, spellings.

`version_rules.parse_version_rule` tries these only on texts the regular grammar (`version_grammar`) cannot
read, so they never change how a regular text is understood. This module knows nothing of `VersionRule`: it
splits and recognises texts, returns constraints, and evaluates the non-version comparisons of `matches`.

- Release lines: "<v36.011_v35.013_v34.014", "<=4.2.21|<=5.0.27" (`release_line_ranges` says how they read).
- Serial numbers: "<=the_first_5_digits_of_serial_number_22081": the first N digits compared as a number.
- Dates: "<April/20/2023", "distributed < april 1, 2018", "<=Production_date_July_2020".
- Names: "CODESYS Control for Linux", "NMC2 <= 6.9.6" (a product, component or firmware-line name).
- Conditions: "All versions < V8.1 with WinCC V7.3 Upd 19", "<V3.0 (only with option X)".
- Second spellings: "< 2017 (1.9.0)", "< 5.7.4 (96)", "<= 2018 SP3 Version 3.4.430.460".
"""

from __future__ import annotations

import calendar
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

from vigil.identity.version_compare import NUMBER, VersionKey, version_key
from vigil.identity.version_grammar import Conjunction, Constraint
from vigil.identity.versions import normalise_version

ReleaseLines = tuple[tuple[Conjunction, ...], tuple[Conjunction, ...]]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "!=": operator.ne,
}


def compare(op: str, left: Any, right: Any) -> bool:
    """left OP right, for versions' keys, serial prefixes and dates alike."""
    return _COMPARE[op](left, right)


def any_conjunction(ranges: Sequence[Conjunction], holds: Callable[[str, str], bool | None]) -> bool | None:
    """Three-valued DNF: True when one conjunction surely holds, False when none can, else None."""
    results = [_all_hold(conjunction, holds) for conjunction in ranges]
    if True in results:
        return True
    return None if None in results else False


def _all_hold(conjunction: Conjunction, holds: Callable[[str, str], bool | None]) -> bool | None:
    results = [holds(op, bound) for op, bound in conjunction]
    if False in results:
        return False
    return None if None in results else True


# --- release lines ---------------------------------------------------------------------------------------------


def _prefix_text(segments: VersionKey) -> str:
    """A version text whose key starts with these segments: (5, 0) -> "5.0"."""
    text = ""
    for index, (kind, number, letters) in enumerate(segments):
        if kind == NUMBER and index and segments[index - 1][0] == NUMBER:
            text += "."
        text += str(number) if kind == NUMBER else letters
    return text


def _line_text(bound: str, segments: VersionKey) -> str:
    """The line's first version as the bound writes it ("U" of "U61", not the key's "update")."""
    written = normalise_version(bound)
    runs = list(re.finditer(r"\d+|[A-Za-z]+", written))
    start = written[: runs[len(segments) - 1].end()] if len(runs) >= len(segments) else ""
    built = _prefix_text(segments)
    return start if start and version_key(start) == version_key(built) else built


def _common_prefix(left: VersionKey, right: VersionKey) -> int:
    length = 0
    while length < min(len(left), len(right)) and left[length] == right[length]:
        length += 1
    return length


def _next_line(line: VersionKey) -> str | None:
    """The first version of the line after this one ("4" -> "5", "1.24" -> "1.25"); None after a letter line."""
    kind, number, _ = line[-1]
    return _prefix_text((*line[:-1], (kind, number + 1, ""))) if kind == NUMBER else None


def release_line_ranges(bounds: Sequence[Constraint]) -> ReleaseLines | None:
    """(ranges, undecided) for a run of upper bounds, one per release line; None when they name no distinct lines.

    CISA writes "fixed in 36.011, 35.013 and 34.014" as "<v36.011_v35.013_v34.014" or "<=4.2.21|<=5.0.27".
    Read strictly (vers sorts and pairs), only the lowest bound would count and the newer lines would be
    missed. Read here, a bound's release line is its version up to and including the first segment that
    tells it apart from every other bound: among 4.2.21, 5.0.27 and 5.1.19 the lines are 4, 5.0 and 5.1;
    among 36.011 and 35.013 they are 36 and 35; among U61 and L81 they are U and L.
    - ranges: the lowest bound covers every version below it; each higher bound covers its own line, from
      the line's first version up to the bound.
    - undecided: lines no bound names, between two named lines (1.25 .. 1.27 for "< 1.28.16 | < 1.24.69"),
      where the text cannot tell: `matches` says None there, not False.
    Versions above a bound in its own line (4.2.22) and above the highest line match nothing. When a line
    would be the bound itself ("< 7.03 / 7.04") the bounds name no lines, and None is returned.
    """
    if len(bounds) < 2 or any(op not in ("<", "<=") for op, _ in bounds):
        return None
    ordered = sorted(bounds, key=lambda bound: version_key(bound[1]))
    keys = [version_key(version)[:-1] for _, version in ordered]  # without the end marker
    if len(set(keys)) != len(keys):
        return None
    lines: list[VersionKey] = []
    for index, key in enumerate(keys):
        shared = max(_common_prefix(key, other) for j, other in enumerate(keys) if j != index)
        if shared + 1 >= len(key):
            return None  # the line would be the bound itself: not a release line
        lines.append(key[: shared + 1])
    ranges: list[Conjunction] = [(ordered[0],)]
    undecided: list[Conjunction] = []
    for index in range(1, len(ordered)):
        start = _line_text(ordered[index][1], lines[index])
        ranges.append(((">=", start), ordered[index]))
        after = _next_line(lines[index - 1])
        if after is not None and version_key(after) < version_key(start):
            undecided.append(((">=", after), ("<", start)))
    return tuple(ranges), tuple(undecided)


_BOUND_RUN = re.compile(
    r"^(?P<op><=?)\s*(?P<run>[vV]?\d+(?:\.\d+)+(?:(?:\s+|\s*/\s*)[vV]?\d+(?:\.\d+)+)+)$"
)  # "<v36.011_v35.013_v34.014" (underscores read as spaces), "<= 2.0.11 / 3.0.11"


def release_lines_text(text: str) -> ReleaseLines | None:
    """Release lines of "<v36.011_v35.013_v34.014": one operator before several bounds, one per line.

    Only when the lines' leading numbers are consecutive (34, 35, 36): "< 14.00.15.00_51.25.00.01" is one
    version of two parts, not lines 14 and 51.
    """
    match = _BOUND_RUN.match(text.replace("_", " "))
    if match is None:
        return None
    op = match.group("op")
    bounds = [(op, normalise_version(bound)) for bound in re.split(r"\s*/\s*|\s+", match.group("run"))]
    majors = sorted({int(version.split(".")[0]) for _, version in bounds})
    if majors != list(range(majors[0], majors[0] + len(majors))):
        return None
    return release_line_ranges(bounds)


_SERIES = re.compile(r"^(?P<op><=?)\s*(?P<bound>\S+)\s*\((?P<line>\d+(?:\.\d+)*)\.x\s+series\)$", re.IGNORECASE)
_LABELLED = re.compile(
    r"^(?:(?:all\s+)?versions\s+(?P<line>[vV]?\d+(?:\.\d+)*)|(?P<label>[vV]?\d+(?:\.\d+)*):)\s*(?P<op><=?)\s*(?P<bound>.+)$",
    re.IGNORECASE,
)


def labelled_line(text: str) -> tuple[str, str, str] | None:
    """(line, operator, bound) of "< 6.6 (6.x series)", "Versions V7.1 < V7.1 Upd3", "V4.7: < V4.7 HF27"."""
    match = _SERIES.match(text) or _LABELLED.match(text)
    if match is None:
        return None
    line = normalise_version(match.group("line") or match.group("label"))
    return line, match.group("op"), match.group("bound")


# --- serial numbers --------------------------------------------------------------------------------------------

_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_SERIAL_FIRST = re.compile(
    r"^(?P<op><=|<|>=|>)\s*(?:with\s+)?(?:the\s+)?(?:first\s+)?(?P<n>\d+|two|three|four|five|six)\s+digits\s+of\s+"
    r"(?:the\s+)?serial\s+(?:number|no\.?)\s+(?:are\s+)?\"?(?P<bound>\d+)\"?(?:\s+(?P=bound))?$",
    re.IGNORECASE,
)
_SERIAL_AFTER = re.compile(
    r"^(?:the\s+)?(?:first\s+)?(?P<n>\d+)\s+digits\s+of\s+(?:the\s+)?serial\s+number\s+(?P<op><=|<|>=|>)\s*(?P<bound>\d+)$",
    re.IGNORECASE,
)
_SERIAL_MASK = re.compile(r"^(?P<op><=|<)\s*serial\s+numbers?\s+(?P<bound>\d+)\*+$", re.IGNORECASE)  # "2310****"


def serial_bound(text: str) -> tuple[Constraint, int] | None:
    """((operator, digits), prefix length) of a bound on the serial number's first digits."""
    compact = " ".join(text.replace("_", " ").split())
    match = _SERIAL_FIRST.match(compact) or _SERIAL_AFTER.match(compact)
    if match is not None:
        count = match.group("n").lower()
        length = _NUMBER_WORDS.get(count) or int(count)
        bound = match.group("bound")
        return ((match.group("op"), bound), length) if len(bound) == length else None
    match = _SERIAL_MASK.match(compact)
    if match is not None:
        # "<= 2310****": every serial up to the last one starting 2310, so the first 4 digits <= 2310.
        return (match.group("op"), match.group("bound")), len(match.group("bound"))
    return None


def serial_holds(op: str, bound: str, prefix_length: int, serial: str) -> bool | None:
    """The serial's first `prefix_length` characters, which must be digits, compared as a number."""
    head = re.sub(r"[\s-]", "", serial)[:prefix_length]
    if len(head) < prefix_length or not head.isdigit():
        return None
    return compare(op, int(head), int(bound))


# --- dates -----------------------------------------------------------------------------------------------------

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name} | {
    name.lower(): number for number, name in enumerate(calendar.month_abbr) if name
}
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DATE_FORMS = tuple(
    re.compile(pattern)
    for pattern in (
        r"^(?P<year>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<day>\d{1,2})$",  # 2023-04-20
        rf"^{_MONTH}[\s/-](?P<day>\d{{1,2}}),?[\s/-](?P<year>\d{{4}})$",  # April/20/2023, april 1, 2018
        rf"^(?P<day>\d{{1,2}})[\s/.-]{_MONTH}[\s/.-](?P<year>\d{{4}})$",  # 20 April 2023, 26-June-2017
        rf"^{_MONTH}[\s/-](?P<year>\d{{4}})$",  # May 2018: the whole month
        r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<year>\d{4})$",  # 8/30/2024: only when day and month cannot swap
        r"^(?P<day>\d{1,2})\.(?P<m>\d{1,2})\.(?P<year>\d{4})$",  # 20.04.2023
    )
)
DateSpan = tuple[date, date]


def parse_date(text: str) -> DateSpan | None:
    """The first and last day a date names (a month names 28-31 days); None when it is not a clear date."""
    compact = " ".join(text.replace("_", " ").replace(",", ", ").split()).strip(" .")
    for form in _DATE_FORMS:
        match = form.match(compact)
        if match is not None:
            return _span(match.groupdict())
    return None


def _span(fields: dict[str, str | None]) -> DateSpan | None:
    year = int(fields["year"] or 0)
    month = _MONTHS.get((fields.get("month") or "").lower()) or int(fields.get("m") or 0)
    day = int(fields.get("day") or 0)
    if fields.get("a"):
        first, second = int(fields["a"] or 0), int(fields["b"] or 0)
        if first <= 12 and second <= 12 and first != second:
            return None  # 04/05/2023: April 5 or May 4
        month, day = (first, second) if first <= 12 else (second, first)
    try:
        if day:
            return date(year, month, day), date(year, month, day)
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    except ValueError:
        return None


_DATE_BOUND = re.compile(
    r"^(?P<who>distributed\s+|production\s+date\s+)?(?P<op><=|<|>=|>)\s*(?P<prod>production\s+date\s+|build\s+)?"
    r"(?P<date>.+?)\.?$",
    re.IGNORECASE,
)


def date_bound(text: str) -> tuple[Constraint, str] | None:
    """((operator, ISO date), applies_to) of "<April/20/2023"; applies_to is "production_date" for production
    and distribution dates ("distributed < april 1, 2018"), else "version" (a version written as its date)."""
    match = _DATE_BOUND.match(" ".join(text.replace("_", " ").split()))
    if match is None:
        return None
    span = parse_date(match.group("date"))
    if span is None:
        return None
    op = match.group("op")
    # A month bound keeps its meaning at day precision: "< May 2018" is before May 1, "<= May 2018" through May 31.
    day = span[0] if op in ("<", ">=") else span[1]
    who = (match.group("who") or match.group("prod") or "").lower()
    applies_to = "version" if who.startswith("build") or not who else "production_date"
    return (op, day.isoformat()), applies_to


def date_holds(op: str, bound: str, value: str) -> bool | None:
    """The date the value names against an ISO bound; None when it is no date or straddles the bound."""
    span = parse_date(value)
    if span is None:
        return None
    limit = date.fromisoformat(bound)
    first, last = compare(op, span[0], limit), compare(op, span[1], limit)
    return first if first == last else None


# --- conditions ------------------------------------------------------------------------------------------------

# Remarks that narrow nothing about which versions are meant; dropped before parsing.
NEUTRAL_REMARK = re.compile(
    r"\s*\((?:only\s+affected\s+by\s+CVE[^)]*|formerly[^)]*|CVE-[\d-]+(?:\s+and\s+CVE-[\d-]+)*\s+only"
    r"|(?:also\s+)?part\s+of\s[^)]*|end-of-life[^)]*|EOL\s[^)]*|incl\.\s[^)]*|including\s[^)]*|integrated\s+into\s[^)]*"
    r"|these\s+products\s+are\s+sold\s+in\s+limited\s+regions|all\s+editions|replaced\s+by\s[^)]*)\)\s*$",
    re.IGNORECASE,
)
_NOTE = re.compile(r"^(?P<main>.+?)\s*\((?P<note>[^()]+)\)$")  # a trailing parenthesis
# A parenthesis that narrows: "(only with ...)", "(if X is installed)", "(Windows and Linux)".
_CONDITION_NOTE = re.compile(
    r"^(?:(?:only|with|if|for|using|when|that|based\s+on|these\s+product\s+versions\s+are\s+affected)\b"
    r"|.*\b(?:windows|linux|editions?|only|with)\b)",
    re.IGNORECASE,
)
_WITHOUT_VERSION = re.compile(r"^(?:<=?\s*)?with\s|^versions?\s+including\s+affected\s|^based\s+on\s", re.I)
# Words that start a narrowing clause after the version: "< V8.1 with WinCC V7.3", "<V9.62 installed on CP150".
_CONDITION_CLAUSE = re.compile(
    r"\s+(?=(?:with|without|only|when|using|running|installed|model|in\s+connection\s+with|utilizes|affected\s+only"
    r"|packaged\s+with|on\s+windows|in\s+(?:non-)?default\s+configuration|and\s+function\s+state)\b)",
    re.IGNORECASE,
)
# Remarks that widen or undo the rule ("7.50 may also be affected", "removed from the scope"): never a condition.
_WIDENING = re.compile(r"\b(?:also|may|possibly|regardless|removed|could)\b", re.IGNORECASE)


def condition_splits(text: str) -> list[tuple[str, str]]:
    """(version part, condition) readings, most likely first, when the text narrows a version by something a
    version cannot show; the caller takes the first whose version part it can read."""
    spaced = " ".join(text.replace("_", " ").split())
    if _WIDENING.search(spaced):
        return []
    splits: list[tuple[str, str]] = []
    note = _NOTE.match(spaced)
    if note is not None and (_CONDITION_NOTE.match(note.group("note")) or names_of(note.group("note"))):
        # "(only with ...)", "(Windows and Linux)", "(JACE 3e JACE 6e JACE 7 JACE-8000)": for that only
        splits.append((note.group("main").strip(" -"), note.group("note").strip()))
    if _WITHOUT_VERSION.match(spaced):
        # "with Web Office Portal", "<with Nozomi Guardian / CMC 23.4.1", "Versions including affected DNS
        # modules", "based on Android 5.1": the bound is on something else; the product itself, any version.
        splits.append(("*", spaced))
    for clause in _CONDITION_CLAUSE.finditer(spaced):
        part = spaced[: clause.start()].strip()
        if part and _balanced(part):  # never inside a parenthesis: "1SAP...R0001 (revision index A0 with BSP"
            splits.append((part, spaced[clause.end() :].strip()))
    return splits


def _balanced(text: str) -> bool:
    return text.count("(") == text.count(")")


# --- names -----------------------------------------------------------------------------------------------------

_LETTER_RUN = re.compile(r"[A-Za-z]+")
# Words that make a text prose or a version designation rather than a name.
_NOT_NAME_WORDS = frozenset(
    {"version", "versions", "all", "affected", "including", "prior", "earlier", "later", "since", "between", "running"}
    | {"using", "installed", "not", "may", "could", "only", "if", "when", "with", "without", "has", "have", "is"}
    | {"are", "was", "to", "the", "on", "such", "except", "program", "option", "number", "where", "before", "after"}
    | set(_MONTHS)  # "< august 28" is a date without its year
)
_QUALIFIER_WORDS = frozenset({"build", "update", "upd", "hotfix", "patch", "service", "pack", "sp", "hf", "fp"})
_VERSION_WORDS = _QUALIFIER_WORDS | {"release", "rev", "revision", "firmware", "edition", "beta", "alpha", "version"}
_NAME_CHARACTERS = re.compile(r"^[\w .+&/()'…-]+$")  # "…" of order-number masks, "MLFB 6SR52..-…..-…."
# "r515", "2.0.0", "V4.00", "6.x": versions, not name words.
_VERSION_LIKE_WORD = re.compile(r"^[rR]\d|\d\.[\dxX]")
_REMARK_IN_NAME = re.compile(r"\([^)]*\s[^)]*\)")  # "(for Beckhoff CX)": a condition, not part of the name
_WORD_AND_NUMBER = re.compile(r"^[A-Za-z]+\s+\d[\d.]*$")  # "Corefix 14", "HD 16": a version designation


def list_fragment(text: str) -> str:
    """The text without the ", and" a split list leaves: "DHI-HCVR51A08HE-S3, and" -> "DHI-HCVR51A08HE-S3"."""
    text = re.sub(r"(?:,\s*and|,|\s+and)\s*$", "", text.strip()).strip()
    return re.sub(r"^and\s+", "", text, flags=re.IGNORECASE)


def name_like(text: str) -> bool:
    """A product, variant or component name: words, at least one a real word, no prose, no version syntax."""
    words = text.split()
    if not words or len(words) > 10 or not _NAME_CHARACTERS.match(text) or text[0] in "-(" or not _balanced(text):
        return False
    if _REMARK_IN_NAME.search(text) or any(_VERSION_LIKE_WORD.search(word) for word in words):
        return False
    lowered = [word.lower().strip("()") for word in words]
    if lowered[0] in ("and", "or") or any(word in _NOT_NAME_WORDS for word in lowered):
        return False
    # A real word: three letters or more, not a version word, not a model-number mask ("XXX" of "16XXXXXXXXX").
    runs = (run.lower() for run in _LETTER_RUN.findall(re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z])", "", text)))  # "CR-IR"
    return any(len(run) >= 3 and run not in _VERSION_WORDS and set(run) != {"x"} for run in runs)


def name_qualifier_free(name: str) -> bool:
    """No service-pack or build words inside a name: "PI AF Client 2018 SP3 Patch 1" is a version, not a name."""
    return not any(
        word.lower() in _QUALIFIER_WORDS or re.match(r"^(?:sp|hf|fp|upd)\d+$", word, re.IGNORECASE)
        for word in name.split()
    )


_VERSION_START = re.compile(r"^[vV]?\d")


def name_version_splits(text: str) -> Iterator[tuple[str, str]]:
    """(name, version) candidates of "WinCC 7.3 Upd 16", longest version first; the version starts with a digit
    or with "Version" and a digit ("SCADA Web Server Version 2.02.0007 and prior")."""
    words = text.replace("_", " ").split()
    for index in range(1, len(words)):
        lead = words[index].lower() == "version" and index + 1 < len(words) and _VERSION_START.match(words[index + 1])
        if lead or _VERSION_START.match(words[index]):
            yield " ".join(words[:index]), " ".join(words[index:])


_ABBREVIATION = re.compile(r"\s*\([A-Z]{2,6}\)$")  # "(NVR)": the name's abbreviation


def names_of(text: str) -> tuple[str, ...] | None:
    """The names a "|"-separated text lists when every part is a name, else None."""
    parts = [NEUTRAL_REMARK.sub("", list_fragment(part)) for part in text.split("|")]
    parts = [" ".join(_ABBREVIATION.sub("", part).replace("_", " ").split()) for part in parts]
    # "Corefix 14", "HD 16": a word and a number is a version designation, not a variant.
    if not parts or any(_WORD_AND_NUMBER.match(part) or not name_like(part) for part in parts):
        return None
    return tuple(parts)


def strip_name(version: str, names: Sequence[str]) -> str:
    """An asset version without a leading name the rule gave ("NMC2 6.9.6" -> "6.9.6")."""
    if not names:
        return version
    spaced = " ".join(version.replace("_", " ").split())
    for name in names:
        if spaced.lower().startswith(name.lower() + " "):
            return spaced[len(name) + 1 :]
    return version


# --- a second spelling in parentheses ---------------------------------------------------------------------------

_SPELLING_LEAD = re.compile(r"^(?:aka|or)\s+|^(?:software|firmware)\s+(?:versions?\s+)?", re.IGNORECASE)
_VERSION_NUMBER = re.compile(r"^(?P<main>.*\w)\s+version\s+(?P<number>\d+(?:\.\d+)+)$", re.IGNORECASE)
_BUILD = re.compile(r"^(?:(?:gold\s+)?build(?:\s+nr\s*\.?)?\s*)(?P<build>\S+)$|^(?P<number>\d+)$", re.IGNORECASE)


def second_spelling(text: str) -> tuple[str, str, bool] | None:
    """(version text, second spelling, whether that is a build) of "< 2017 (1.9.0)", "<= Version 4.02C (aka <=
    Version 10.95.208.31)", "< 5.7.4 (96)", "1.01.01 (build 2149)"; None without a trailing parenthesis."""
    spaced = " ".join(text.replace("_", " ").split())
    named = _VERSION_NUMBER.match(spaced)
    if named is not None:  # "<= 2018 SP3 Version 3.4.430.460": a release name and its version number
        return named.group("main"), named.group("number"), False
    note = _NOTE.match(spaced)
    if note is None or _WIDENING.search(spaced):
        return None
    second = note.group("note").strip()
    while (shorter := _SPELLING_LEAD.sub("", second)) != second:  # "or Software Version 1.1.13166"
        second = shorter
    build = _BUILD.match(second)
    if build is not None:
        return note.group("main"), build.group("build") or build.group("number"), True
    return note.group("main"), second, False


_EXCLUDING = re.compile(r"^(?P<main>.+?)\s*\(excluding\s+(?P<versions>[^()]+)\)$", re.IGNORECASE)
_SPAN_MARKED = re.compile(
    r"^(?P<low>.+?)\s*\(including\)\s+(?:and|to)\s+(?P<high>.+?)\s*\(excluding\)$"
    r"|^>=\s*(?P<from>\S+)\s*-?\s*but\s+not\s+including\s+(?P<to>\S+)$",  # ">= 9.3.0 - but not including 9.3.8"
    re.IGNORECASE,
)


def excluding(text: str) -> tuple[str, str] | None:
    """(version text, excluded versions) of "<= 9.6 (excluding 9.4.2.6 and 9.5.3.2)"."""
    match = _EXCLUDING.match(" ".join(text.split()))
    return (match.group("main"), match.group("versions")) if match else None


def marked_span(text: str) -> tuple[str, str] | None:
    """(first, last) of "3.0.4.00.032 (including) and 3.0.6 (excluding)": from the first up to the last."""
    match = _SPAN_MARKED.match(" ".join(text.split()))
    if match is None:
        return None
    return match.group("low") or match.group("from"), match.group("high") or match.group("to")
