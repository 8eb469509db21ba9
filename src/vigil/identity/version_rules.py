"""A CSAF leaf's version text (`product_version` / `product_version_range` branch name) as a rule.

Notations, all seen in CISA's corpus (counts: bench/version_notations.py):
- exact: one version, "1.4.5", "R1.4.5", "6.3V1L10", "Rev B-M", "V1.5 SP3 Update 2".
- list: several versions in one string, "(Release 1.3.2 1.4.0 1.4.5)", "5.1 | 6.0", "V1.1, V1.2, and V1.3".
- wildcard: "2.x", "V4.x", "3.0.x" (the versions under one prefix).
- vers: "vers:generic/>=1.0|<2.0", and CISA's non-standard scheme "vers:all/<V4.3.8", "vers:all/>=V7.80<V9.40".
- constraints: bare operator lists, "<4.2", ">= 1.0 | <= 1.32", ">= V2.3 and < V6.30.016", "All versions < V6.4".
- prose_range: words, "prior to 4.2", "4.1 and earlier", "through 3.0", "4.0 and later", "versions 2.0 to 2.5".
- all: "vers:all/*", "All versions", "All".
- release_lines: one bound per release line, "<v36.011_v35.013_v34.014", "< 6.6 (6.x series)".
- aliased: a version or bound spelled twice, "< 2017 (1.9.0)", "< 5.7.4 (96)", "1.01.01 (build 2149)".
- name: a product variant named where a version belongs, "CODESYS Control for Linux": every version of it.
- named_version: a name with a version or bound, "NMC2 <= 6.9.6", "< WinCC 7.3 Upd 16", "Web firmware v01.12.10".
- conditional: a version rule narrowed by something a version cannot show, "< V8.1 with WinCC V7.3 Upd 19".
- serial_range: a bound on the serial number, "<=the_first_5_digits_of_serial_number_22081".
- date_range: a bound on a date, "<April/20/2023", "distributed < april 1, 2018".
- unparsed: anything else ("No version", "<= 7.20 (7.50 and 7.60 may also be affected ...)"): kept, never
  guessed; they can only yield `possible` matches.

The regular grammar (exact .. all) lives in `version_grammar`; the irregular notations (release_lines ..
date_range) in `version_notations`, tried only on texts the regular grammar cannot read, so they never change
how a regular text is understood. docs/version-notations.md has corpus examples and counts.

Constraint lists follow the vers specification (github.com/package-url/purl-spec, VERSION-RANGE-SPEC):
constraints are sorted by version and read pairwise, so ">=1.0|<2.0", "<2.0|>=1.0" and ">= 1.0 <2.0"
all mean [1.0, 2.0), "<1.0|>2.0" means outside [1.0, 2.0], and "=" constraints add single versions.
One exception: a run of only upper bounds, CISA's "<=4.2.21|<=5.0.27", reads as one bound per release line
(`version_notations.release_line_ranges`), because the strict reading keeps only the lowest bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from vigil.identity import version_notations as notations
from vigil.identity.version_compare import VersionKey, version_key
from vigil.identity.version_grammar import (
    OPERATOR,
    QUALIFIER,
    Conjunction,
    Constraint,
    constraint_list,
    next_prefix,
    prose_ranges,
    single_version,
    vers_ranges,
    version_list,
    wildcard_range,
)

CATEGORIES = frozenset({"product_version", "product_version_range"})
NOTATIONS = (
    *("exact", "list", "wildcard", "vers", "constraints", "prose_range", "release_lines", "all"),
    *("aliased", "name", "named_version", "conditional", "serial_range", "date_range", "unparsed"),
)
APPLIES_TO = ("version", "serial_number", "production_date")


@dataclass(frozen=True, slots=True)
class VersionRule:
    """Which versions of a product one CSAF leaf names (or, see `applies_to`, which serials or dates)."""

    notation: str
    """How the text was written: one of NOTATIONS."""
    versions: tuple[str, ...]
    """Versions named one by one (exact and list notations), prefix-normalised ("R1.4.5" -> "1.4.5")."""
    ranges: tuple[Conjunction, ...]
    """Ranges: a value matches when it meets every (operator, bound) of any one conjunction. The bounds are
    versions; for serial_range the serial's leading digits, for date_range ISO dates ("2023-04-20")."""
    all_versions: bool
    """Every version of the product (vers:all/*, "All versions", and the variant a `name` rule names)."""
    text: str
    """The leaf's text as written."""
    condition: str | None = None
    """What else must hold that no version shows ("with WinCC V7.3 Upd 19"): `matches` then never says True,
    only None (cannot tell) or False (the version part alone already excludes the asset)."""
    names: tuple[str, ...] = ()
    """Product, variant, component or firmware-line names the text gives instead of or before a version
    ("CODESYS Control for Linux"; "NMC2" of "NMC2 <= 6.9.6"). The rule is about assets of that name: `matches`
    only sees a version (without a leading name, "NMC2 6.9.6" -> "6.9.6"), so callers check the name."""
    applies_to: str = "version"
    """What `matches` must be given (one of APPLIES_TO): the asset's version, serial number or production date."""
    prefix_length: int | None = None
    """serial_range: how many leading digits of the serial number the bounds compare (5: "first 5 digits")."""
    undecided: tuple[Conjunction, ...] = ()
    """Ranges the text leaves open, where `matches` says None instead of False (`ranges` and `versions` win):
    release lines no bound names between two named ones (1.25 .. 1.27 in "< 1.28.16 | < 1.24.69"); for an
    aliased bound each spelling alone (they disagree); for a version with a build, its other builds."""

    def matches(self, value: str) -> bool | None:
        """Whether the asset falls under the rule; None when that cannot be told.

        `value` is the asset's attribute that `applies_to` names: its version (the default); its serial number
        as printed (spaces and hyphens ignored; the first `prefix_length` characters must be digits, and
        passing only those digits is enough); or its production date ("2020-07-31", "July 31, 2020", "July 2020").
        A rule for every version holds whatever the asset's version, even when the inventory records none.
        """
        if self.all_versions and self.condition is None and self.applies_to == "version":
            return True
        if self.notation == "unparsed" or not value.strip():
            return None
        held = self._holds(value)
        # The version part holds, but the condition is beyond what a version shows.
        return None if held and self.condition is not None else held

    def _holds(self, value: str) -> bool | None:
        if self.all_versions:
            return True
        if self.applies_to == "serial_number":
            length = self.prefix_length or 0
            return notations.any_conjunction(self.ranges, lambda op, b: notations.serial_holds(op, b, length, value))
        if self.notation == "date_range":
            return notations.any_conjunction(self.ranges, lambda op, b: notations.date_holds(op, b, value))
        try:
            key = version_key(notations.strip_name(value, self.names))
        except ValueError:
            return None
        if any(key == version_key(member) for member in self.versions) or _in_any(key, self.ranges):
            return True
        return None if _in_any(key, self.undecided) else False


def _in_any(key: VersionKey, ranges: tuple[Conjunction, ...]) -> bool:
    return any(all(notations.compare(op, key, version_key(b)) for op, b in conjunction) for conjunction in ranges)


def _unparsed(text: str) -> VersionRule:
    return VersionRule("unparsed", (), (), False, text)


# --- entry point and the regular notations (vigil.identity.version_grammar) -----------------------------------

_ALL = re.compile(r"^(?:all|all\s+versions?|all\s+(?:bios|firmware|software)\s+versions|\*)$", re.IGNORECASE)
_ALL_LEAD = re.compile(
    r"^(?:all\s+)?(?:(?:bios|firmware|software)\s+)?versions?\s*(?=[<>=])|^(?:bios|all)\s*(?=[<>=])", re.IGNORECASE
)


def parse_version_rule(text: str, category: str) -> VersionRule:
    """The rule a leaf's version text states; `unparsed` when it states none that can be read safely."""
    if category not in CATEGORIES:
        raise ValueError(f"not a version branch category: {category!r}")
    cleaned = notations.NEUTRAL_REMARK.sub("", " ".join(text.split()))
    if not cleaned:
        return _unparsed(text)
    rule = _parse_regular(cleaned, text) or _parse_irregular(cleaned, text) or _conditional(cleaned, text)
    return rule or _unparsed(text)


def _parse_regular(cleaned: str, text: str) -> VersionRule | None:
    if cleaned.lower().startswith("vers:"):
        return _parse_vers(cleaned, text)
    if _ALL.match(cleaned):
        return VersionRule("all", (), (), True, text)
    prose = prose_ranges(cleaned)
    if prose is not None:
        return VersionRule("prose_range", (), prose, False, text)
    body = _ALL_LEAD.sub("", cleaned)
    if body and (body[:1] in "<>=!" or ("|" in body and OPERATOR.search(body))):
        constraints = constraint_list(body)
        return None if constraints is None else _bounded("constraints", constraints, text)
    wildcard = wildcard_range(cleaned)
    if wildcard is not None:
        return VersionRule("wildcard", (), (wildcard,), False, text)
    version = single_version(cleaned)
    if version is not None:
        return VersionRule("exact", (version,), (), False, text)
    listed = version_list(cleaned)
    if listed is not None:
        return VersionRule("list", listed[0], listed[1], False, text)
    return None


def _parse_vers(cleaned: str, text: str) -> VersionRule | None:
    scheme, _, spec = cleaned[len("vers:") :].partition("/")
    spec = spec.strip()
    if not scheme or not spec:
        return None
    if spec == "*":
        return VersionRule("all", (), (), True, text)
    # Standard vers has no operator for "=" ("vers:generic/1.0|2.0"); CISA's vers:all mixes both.
    constraints = constraint_list(spec)
    return None if constraints is None else _bounded("vers", constraints, text)


def _bounded(notation: str, constraints: list[Constraint], text: str, names: tuple[str, ...] = ()) -> VersionRule:
    """A rule from constraints: vers semantics, except that a run of only upper bounds reads per release line."""
    upper = [c for c in constraints if c[0] in ("<", "<=")]
    if len(upper) >= 2 and all(op in ("<", "<=", "=") for op, _ in constraints):
        lines = notations.release_line_ranges(upper)
        if lines is not None:
            equal = tuple(v for op, v in constraints if op == "=")
            return VersionRule(notation, equal, lines[0], False, text, names=names, undecided=lines[1])
    versions, ranges = vers_ranges(constraints)
    return VersionRule(notation, versions, ranges, False, text, names=names)


# --- the irregular notations (vigil.identity.version_notations) ------------------------------------------------


def _parse_irregular(cleaned: str, text: str) -> VersionRule | None:
    """The irregular notations, only where the regular grammar fails; names last, as they accept the most."""
    parsers = (_fragment, _star, _serial, _date, _release_lines, _typo, _low_high, _span, _aliased, _excluding)
    for parse in (*parsers, _reworded, _joined, _named, _name):
        rule = parse(cleaned, text)
        if rule is not None:
            return rule
    return None


def _fragment(cleaned: str, text: str) -> VersionRule | None:
    """A piece of a list CISA split into leaves: "and  5.028" is 5.028 (names: "DH-HCVR4XXX, and", in `_name`)."""
    fragment = notations.list_fragment(cleaned)
    return _parse_regular(fragment, text) if fragment != cleaned else None


def _reworded(cleaned: str, text: str) -> VersionRule | None:
    """CISA's renderings of regular texts: "1.275M—1.280S" (a dash range), "3.0 and <" ("3.0 and all prior")."""
    reworded = re.sub(r"\s*—\s*", " - ", re.sub(r"\s+and\s+<$", " and earlier", cleaned))
    return _parse_regular(reworded, text) if reworded != cleaned else None


def _joined(cleaned: str, text: str) -> VersionRule | None:
    """ "V04.00.02 and all versions >= V04.00.15 < 04.00.18": each part a regular rule, any of them."""
    parts = re.split(r"\s+and\s+all\s+versions\s+", cleaned, flags=re.IGNORECASE)
    rules = [_parse_regular(part, text) for part in parts] if len(parts) > 1 else []
    if not rules or any(rule is None or rule.all_versions or rule.undecided for rule in rules):
        return None
    versions = tuple(v for rule in rules if rule for v in rule.versions)
    return VersionRule("constraints", versions, tuple(r for rule in rules if rule for r in rule.ranges), False, text)


def _star(cleaned: str, text: str) -> VersionRule | None:
    """ "2.2.4 *": every revision of 2.2.4 (Hitachi Energy's "Version 2.2.4 all revisions")."""
    match = re.match(r"^(?P<version>\d\S*)\s+\*$", cleaned)
    wildcard = wildcard_range(f"{match.group('version')}.x") if match else None
    return None if wildcard is None else VersionRule("wildcard", (), (wildcard,), False, text)


def _serial(cleaned: str, text: str) -> VersionRule | None:
    found = notations.serial_bound(cleaned)
    if found is None:
        return None
    bound, length = found
    return VersionRule("serial_range", (), ((bound,),), False, text, applies_to="serial_number", prefix_length=length)


def _date(cleaned: str, text: str) -> VersionRule | None:
    found = notations.date_bound(cleaned)
    if found is None:
        return None
    bound, applies_to = found
    return VersionRule("date_range", (), ((bound,),), False, text, applies_to=applies_to)


def _release_lines(cleaned: str, text: str) -> VersionRule | None:
    lines = notations.release_lines_text(_ALL_LEAD.sub("", cleaned))
    if lines is not None:
        return VersionRule("release_lines", (), lines[0], False, text, undecided=lines[1])
    labelled = notations.labelled_line(cleaned)
    if labelled is None:
        return None
    line, op, bound_text = labelled
    bound = single_version(bound_text)
    if bound is None or not _in_line(bound, line):
        return None
    return VersionRule("release_lines", (), (((">=", line), (op, bound)),), False, text)


def _in_line(version: str, line: str) -> bool:
    """Whether the version is in the release line: "14.4u1" in "14", "7.1 Upd3" in "7.1"."""
    prefix = version_key(line)[:-1]  # without the end marker
    return version_key(version)[: len(prefix)] == prefix


def _typo(cleaned: str, text: str) -> VersionRule | None:
    """Operator typos ("=<8.5", "=> 5.0", ">=R6.01.01 -| <=R8.03.01", '>="05"|<="07"', "<15.2{7}E2") when the
    result is one clean range: every lower bound below every upper bound."""
    fixed = cleaned.replace("=<", "<=").replace("=>", ">=").replace("-|", "|").replace('"', "")
    fixed = fixed.replace("{", "(").replace("}", ")")  # "<15.2{7}E2": IOS's 15.2(7)E2
    constraints = constraint_list(_ALL_LEAD.sub("", fixed)) if fixed != cleaned else None
    if constraints is None:
        return None
    ordered = sorted(constraints, key=lambda c: version_key(c[1]))
    sides = [op[0] for op, _ in ordered if op[0] in "<>"]
    return _bounded("constraints", constraints, text) if sides == sorted(sides, reverse=True) else None


_LOW_HIGH = re.compile(r"^(?P<low>[^<>=|]+?)\s*(?P<op><=|<)\s*(?P<high>[^<>=|]+)$")


def _low_high(cleaned: str, text: str) -> VersionRule | None:
    """ "0 < 8.0.1", "16 <= 20", "2.2.5 <= 2.2.5.1": from the first version up to the second (CVE JSON's
    version/lessThan pair; Hitachi Energy's "Version 2.2.5 revisions up to 2.2.5.1")."""
    match = _LOW_HIGH.match(cleaned)
    if match is None:
        return None
    low, high = single_version(match.group("low")), single_version(match.group("high"))
    # Both written alike ("A10 < A11"), so that a name before a bound ("NMC2 <= 6.9.6") is not a version.
    if low is None or high is None or low[0].isdigit() != high[0].isdigit() or version_key(low) > version_key(high):
        return None
    return VersionRule("constraints", (), (((">=", low), (match.group("op"), high)),), False, text)


def _span(cleaned: str, text: str) -> VersionRule | None:
    """ "3.0.4.00.032 (including) and 3.0.6 (excluding)"."""
    span = notations.marked_span(cleaned)
    low, high = (single_version(span[0]), single_version(span[1])) if span else (None, None)
    if low is None or high is None:
        return None
    return VersionRule("prose_range", (), (((">=", low), ("<", high)),), False, text)


def _aliased(cleaned: str, text: str) -> VersionRule | None:
    """A version or bound spelled twice. Both spellings of an exact version match. A bound holds when both
    spellings say so and fails when both say not; where they disagree (the asset is written in the other
    numbering) the rule cannot tell, so the two bounds alone go to `undecided`."""
    found = notations.second_spelling(cleaned)
    main = (_parse_regular(found[0], text) or _named(found[0], text)) if found else None
    if found is None or main is None:
        return None
    _, second, is_build = found
    if main.notation == "exact":
        version = main.versions[0]
        if is_build:  # "1.01.01 (build 2149)": other builds of 1.01.01, and 1.01.01 alone, cannot be told
            line = (((">=", version), ("<", next_prefix(version))),)
            spellings = (f"{version}.{second}", f"{version} build {second}")
            return VersionRule("aliased", spellings, (), False, text, undecided=line)
        other = single_version(second)
        if other is None or not other[:1].isdigit():
            return None
        return VersionRule("aliased", (version, other), (), False, text)
    bound = _one_bound(main)
    if bound is None:
        return None
    if is_build and not second.startswith(bound[1].split(".")[0] + "."):  # "< 5.7.4 (96)": build 96 of 5.7.4
        alias: Constraint | None = (bound[0], f"{bound[1]}.{second}")
    else:
        alternative = _parse_regular(second, text)
        alias = (bound[0], alternative.versions[0]) if alternative and alternative.notation == "exact" else None
        alias = alias or (_one_bound(alternative) if alternative else None)
    if alias is None or not alias[1][:1].isdigit():  # "(RES670 2.0.0.4 and prior)" is another model's bound
        return None
    names = main.names
    return VersionRule("aliased", (), ((bound, alias),), False, text, names=names, undecided=((bound,), (alias,)))


def _one_bound(rule: VersionRule) -> Constraint | None:
    """The single upper or lower bound a rule is, or None."""
    if rule.versions or len(rule.ranges) != 1 or len(rule.ranges[0]) != 1 or rule.ranges[0][0][0] in ("=", "!="):
        return None
    return rule.ranges[0][0]


def _excluding(cleaned: str, text: str) -> VersionRule | None:
    """ "<= 9.6 (excluding 9.4.2.6 and 9.5.3.2)": the range without those versions."""
    found = notations.excluding(cleaned)
    main = _parse_regular(found[0], text) if found else None
    listed = version_list(found[1]) if found else None
    if main is None or main.versions or listed is None or listed[1] or not main.ranges:
        return None
    excluded = tuple(("!=", version) for version in listed[0])
    return replace(main, ranges=tuple((*conjunction, *excluded) for conjunction in main.ranges))


_OP_LEAD = re.compile(r"^(?:all\s+versions\s*|vers:all/)?(?P<op><=|>=|<|>)\s*(?P<rest>.+)$", re.IGNORECASE)
_NAME_OP = re.compile(r"^(?P<name>[^<>=|]+?)\s*(?P<bound>(?:<=|>=|<|>)[^|]+)$")
_DOTTED = re.compile(r"\d\.(?:\d|x)", re.IGNORECASE)


def _named(cleaned: str, text: str) -> VersionRule | None:
    """A name and a version: "NMC2 <= 6.9.6", "< WinCC 7.3 Upd 16", "Web firmware v01.12.10"."""
    match = _NAME_OP.match(cleaned)
    if match is not None and _good_name(match.group("name")):
        constraints = constraint_list(match.group("bound"))
        if constraints is not None:
            return _bounded("named_version", constraints, text, _names(match.group("name")))
    match = _OP_LEAD.match(cleaned)
    return _named_bound(match.group("op"), match.group("rest"), text) if match else _named_version(cleaned, text)


def _named_bound(op: str, rest: str, text: str) -> VersionRule | None:
    """ "< WinCC 7.3 Upd 16", "All versions < ROS V4.3.4", "vers:all/<CPCI85 V05"."""
    for name, version in notations.name_version_splits(rest):
        # The name starts with a letter: "< 9 Linux Image 2019-12-13" is Debian 9's image, not a product "9 Linux".
        if name[0].isalpha() and _good_name(name) and _one_version(version):
            constraints = constraint_list(f"{op} {version}")
            return None if constraints is None else _bounded("named_version", constraints, text, _names(name))
    return None


def _named_version(cleaned: str, text: str) -> VersionRule | None:
    """ "Web firmware v01.12.10", "MCE_3.x", "SCADA Web Server Version 2.02.0007 and prior"."""
    for name, version in notations.name_version_splits(cleaned):
        if not _good_name(name):
            continue
        prose = prose_ranges(version)
        if prose is not None:
            return VersionRule("named_version", (), prose, False, text, names=_names(name))
        # A dotted version: "CODESYS Gateway V3" is a name, "Web firmware v01.12.10" a name and a version.
        if not (_one_version(version) and _DOTTED.search(version)):
            continue
        wildcard = wildcard_range(version)
        if wildcard is not None:
            return VersionRule("named_version", (), (wildcard,), False, text, names=_names(name))
        exact = single_version(version)
        if exact is not None:
            return VersionRule("named_version", (exact,), (), False, text, names=_names(name))
    return None


def _names(name: str) -> tuple[str, ...]:
    return (" ".join(name.replace("_", " ").split()),)


def _good_name(name: str) -> bool:
    return notations.name_like(name) and notations.name_qualifier_free(name)


def _one_version(text: str) -> bool:
    """One version, not two run together: "7.3 Upd 16" and "2010 SP3" are one, "2020 v5.21.x" is two."""
    words = text.split()
    starts = [i for i, w in enumerate(words) if re.match(r"^[vV]?\d", w) and not (i and QUALIFIER.match(words[i - 1]))]
    return len(starts) == 1 and (single_version(text) is not None or wildcard_range(text) is not None)


def _name(cleaned: str, text: str) -> VersionRule | None:
    """ "CODESYS Control for Linux", "TSXETY5103 *": a variant, every version of it."""
    names = notations.names_of(re.sub(r"\s+\*$", "", cleaned))
    return None if names is None else VersionRule("name", (), (), True, text, names=names)


def _conditional(cleaned: str, text: str) -> VersionRule | None:
    """A version rule and what else must hold: "All versions < V8.1 with WinCC V7.3 Upd 19"."""
    for part, condition in notations.condition_splits(cleaned):
        part = notations.NEUTRAL_REMARK.sub("", part)
        base = _parse_regular(part, text)
        if base is None or (base.notation in ("exact", "list") and not all(map(_version_shaped, base.versions))):
            base = _parse_irregular(part, text)  # "1SAP551100R0001 (revision index B1 ...)": an order code, a name
        if base is not None and base.notation not in ("serial_range", "date_range", "aliased"):
            return replace(base, notation="conditional", condition=condition)
    return None


def _version_shaped(version: str) -> bool:
    """ "8.3.2", "2016 R2", "2018" look like versions; option and order codes ("A84", "1SAP551100R0001") do not."""
    return version[:1].isdigit() and (version.isdigit() or re.search(r"\d\.\d|\s", version) is not None)
