"""CSAF products -> predicates: what an asset must look like for a product to be it (pure; no database).

One predicate per CSAF product_id. A branch or full_product_name product states a vendor, names, a version
rule and identifiers; a relationship product states only which two products must both match one asset.

Packed names: "Coronary Tools/Dynamic Coronary Roadmap/Stentboost Live" names three products. Checked against
every product name of the CISA corpus, where "/" far more often sits inside one name ("PN/DP", "TCP/IP",
"MiniMed Paradigm 522K/722K pumps", "Precision Source/Measure Units", "Creo Elements/Direct Modeling"),
a name is split only where the split is plain:
- on a slash with spaces on both sides ("SCADA Expert Vijeo Citect / CitectSCADA"), when every part is
  product-like (two words or more, or one CamelCase word of four letters or more);
- on unspaced slashes, when every "/" stands between whole words of four letters or more and every part is
  product-like, and there are three parts or more, or one part is a single CamelCase brand
  ("Vijeo Historian/CitectHistorian", "SiNVR/SiVMS Video Server").
The packed form (and each spaced part) is always kept as well: inventories copy the advisory's text too.

Exclusions: "LOGIQ, not including LOGIQ 100 Pro", "Vivid products, not including EchoPAC", "SIMATIC ET200SP
(incl. SIPLUS variants, except IM155-6 PN ST and IM155-6 PN HF)" name a product line minus some members. The
line's name ("LOGIQ", "Vivid") becomes a family key: a device or product whose name starts with it, word for
word ("LOGIQ E10"), is a `possible` match for a person to confirm; a name that starts with an excluded member
("LOGIQ 100 Pro", "EchoPAC Plug-in") never matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from vigil.identity import identifiers, wildcards
from vigil.identity.names import name_key
from vigil.identity.package_ids import PackageId, parse_cpe, parse_purl
from vigil.identity.vendors import ManufacturerAliases
from vigil.identity.version_rules import CATEGORIES, VersionRule, parse_version_rule
from vigil.sources.csaf.document import GroupMemberRecord, HelperRecord, ProductRecord, RelationshipRecord

# Helper kind -> the device field it is compared with. SKUs are order numbers: inventories keep them as model numbers.
IDENTIFIER_FIELDS = {"model_number": "model_number", "sku": "model_number", "serial_number": "serial_number"}
UDI_DI_FIELD = "udi_di"


@dataclass(frozen=True, slots=True)
class Identifier:
    """One product identification helper value, normalised the way the inventory normalises its column."""

    kind: str
    """model_number, sku, serial_number or udi_di."""
    field: str
    """The asset device field it is compared with."""
    raw: str
    """As the document writes it (evidence)."""
    value: str
    """Normalised: part_number / serial_number / udi_di of the raw text; wildcards kept."""
    pattern: re.Pattern[str] | None
    """For values with CSAF wildcards (`?` one character, `*` any run): the compiled full-match regex."""

    def matches(self, normalised: str) -> bool:
        """Whether an asset's normalised field value is this identifier."""
        return self.pattern.fullmatch(normalised) is not None if self.pattern else normalised == self.value


@dataclass(frozen=True, slots=True)
class PackageIdentifier:
    """A purl or CPE helper of a product, compared with an installed product's purl or CPE."""

    kind: str
    """`purl` or `cpe`."""
    raw: str
    """As the document writes it (evidence)."""
    package: PackageId
    """Its key (type/namespace/name, or part:vendor:product) and the version it names, if any."""


@dataclass(frozen=True, slots=True)
class ProductPredicate:
    """What one CSAF product requires of an asset."""

    product_id: str
    """The CSAF product_id."""
    origin: str
    """`branch`, `full_product_name` or `relationship`."""
    full_name: str
    """The product's full name as written (evidence)."""
    vendor_raw: str | None
    """The nearest `vendor` branch name, as written."""
    vendor: str | None
    """Canonical manufacturer of vendor_raw (alias table); None when the document names no vendor."""
    names: tuple[str, ...]
    """Name forms an asset may carry: the product name whitespace-collapsed, then each packed part."""
    name_keys: dict[str, str]
    """name_key(form) -> form, for every form in names."""
    version_rule: VersionRule | None
    """The leaf's version rule; None when the product names no version (a branch above version level)."""
    identifiers: tuple[Identifier, ...]
    """Model numbers, SKUs, serial numbers and UDI-DIs."""
    groups: tuple[str, ...] = ()
    """product_group_ids the product belongs to."""
    relationship: str | None = None
    """For relationship products: the category (installed_on, ...)."""
    component_id: str | None = None
    """For relationship products: product_reference (e.g. the software)."""
    platform_id: str | None = None
    """For relationship products: relates_to_product_reference (e.g. the hardware it runs on)."""
    packages: tuple[PackageIdentifier, ...] = ()
    """purl and CPE helpers."""
    family_keys: tuple[str, ...] = ()
    """Name keys of product lines the name states with an exclusion ("LOGIQ, not including ..."): a name that
    starts with one, word for word, is a `possible` match."""
    excluded_keys: tuple[str, ...] = ()
    """Name keys of the excluded members: a name that starts with one never matches."""


def compile_products(
    products: Iterable[ProductRecord],
    helpers: Iterable[HelperRecord],
    relationships: Iterable[RelationshipRecord],
    group_members: Iterable[GroupMemberRecord],
    aliases: ManufacturerAliases,
) -> dict[str, ProductPredicate]:
    """A predicate per product_id of one document's flattened product tree."""
    by_product: dict[str, list[Identifier]] = {}
    packages: dict[str, list[PackageIdentifier]] = {}
    for helper in helpers:
        identifier = compile_identifier(helper)
        if identifier is not None:
            by_product.setdefault(helper.product_id, []).append(identifier)
        package = compile_package(helper)
        if package is not None:
            packages.setdefault(helper.product_id, []).append(package)
    groups: dict[str, list[str]] = {}
    for member in group_members:
        groups.setdefault(member.product_id, []).append(member.group_id)
    related = {rel.product_id: rel for rel in relationships}
    compiled: dict[str, ProductPredicate] = {}
    for product in products:
        pid = product.product_id
        group_ids = tuple(dict.fromkeys(groups.get(pid, ())))
        rel = related.get(pid)
        if rel is not None:
            compiled[pid] = _relationship(product, rel, group_ids)
            continue
        name, families, excluded = split_exclusions(_product_name(product))
        rule = _version_rule(product)
        names = packed_names(name) + tuple(rule_names(rule))
        vendor = aliases.canonical(product.vendor) if product.vendor else None
        compiled[pid] = ProductPredicate(
            product_id=pid,
            origin=product.origin,
            full_name=product.name,
            vendor_raw=product.vendor,
            vendor=vendor,
            names=names,
            name_keys={name_key(form): form for form in reversed(names) if name_key(form)},
            version_rule=rule,
            identifiers=tuple(by_product.get(pid, ())),
            groups=group_ids,
            packages=tuple(packages.get(pid, ())),
            family_keys=families,
            excluded_keys=excluded,
        )
    return compiled


def _relationship(product: ProductRecord, rel: RelationshipRecord, groups: tuple[str, ...]) -> ProductPredicate:
    return ProductPredicate(
        product_id=product.product_id,
        origin="relationship",
        full_name=product.name,
        vendor_raw=None,
        vendor=None,
        names=(),
        name_keys={},
        version_rule=None,
        identifiers=(),
        groups=groups,
        relationship=rel.category,
        component_id=rel.product_reference,
        platform_id=rel.relates_to_product_reference,
    )


def _product_name(product: ProductRecord) -> str:
    # The product_name branch names the product without its version; a full_product_name has only its full name.
    return " ".join((product.product_name or product.product_family or product.name).split())


def _version_rule(product: ProductRecord) -> VersionRule | None:
    if product.origin == "full_product_name":
        # The version, if any, is buried in the free-text name: never guessed, so only `possible` matches.
        return VersionRule("unparsed", (), (), False, product.name)
    category = product.leaf_category
    if category not in CATEGORIES:
        return None  # a leaf above version level (product_name, product_family): every version
    text = product.product_version if category == "product_version" else product.product_version_range
    return parse_version_rule(text or "", category)


def rule_names(rule: VersionRule | None) -> tuple[str, ...]:
    """Product names a version leaf states instead of a version ("CODESYS Control for Linux"). Names in front of
    a version ("NMC2 6.9.5") are component labels, too generic to stand alone as a product: not used."""
    if rule is None or not rule.names or not rule.all_versions:
        return ()
    return rule.names


# "X, not including Y", "X excluding Y", "X (incl. SIPLUS variants, except Y and Z)"
_EXCLUSION = re.compile(
    r"^(?P<base>.+?)(?:,\s*|\s+|\s*\((?:incl\.?|including)[^,)]*,\s*)(?:not\s+including|excluding|except)\s+"
    r"(?P<excluded>[^()]+?)\)?$",
    re.IGNORECASE,
)
_FAMILY_WORDS = re.compile(r"\s+(?:products?|product\s+line|series|family|devices|systems)$", re.IGNORECASE)
_MEMBER_SEPARATOR = re.compile(r"\s*(?:,|\band\b|\bor\b)\s*", re.IGNORECASE)


def split_exclusions(name: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(name, family keys, excluded keys): a name stating a product line minus members loses the exclusion
    text; the line becomes a family key and each member an excluded key. Other names come back unchanged."""
    match = _EXCLUSION.match(name)
    if match is None:
        return name, (), ()
    base = match.group("base").strip()
    family = name_key(_FAMILY_WORDS.sub("", base))
    excluded = tuple(
        key
        for key in (name_key(_FAMILY_WORDS.sub("", part)) for part in _MEMBER_SEPARATOR.split(match.group("excluded")))
        if key
    )
    if not family or not excluded:
        return name, (), ()
    return base, (family,), excluded


_CAMEL = re.compile(r"^[A-Za-z0-9]*[a-z][A-Z][A-Za-z0-9]*$")
_SPACED_SLASH = re.compile(r"\s+/\s+")


def packed_names(name: str) -> tuple[str, ...]:
    """The name, then each product a packed name lists (see the module docstring for when a name is packed)."""
    name = " ".join(name.split())
    if not name:
        return ()
    forms = [name]
    spaced = _SPACED_SLASH.split(name)
    if len(spaced) > 1 and not all(_product_like(part) for part in spaced):
        spaced = [name]
    for part in spaced:
        forms.append(part)
        tight = [piece.strip() for piece in part.split("/")]
        if _tight_pack(tight):
            forms.extend(tight)
    return tuple(dict.fromkeys(forms))


def _tight_pack(parts: list[str]) -> bool:
    """Unspaced slashes: "A b/C d/E f" (three or more product-like parts), or two parts of which one is a
    single CamelCase brand ("SiNVR/SiVMS Video Server"); each "/" between whole words of four letters or more."""
    if len(parts) < 2 or not all(_product_like(part) for part in parts) or not _clean_cuts(parts):
        return False
    return len(parts) >= 3 or any(len(part.split()) == 1 for part in parts)


def _product_like(part: str) -> bool:
    """Two words or more, or one CamelCase word of four letters or more."""
    words = part.split()
    if len(words) >= 2:
        return True
    return len(words) == 1 and sum(c.isalpha() for c in part) >= 4 and _CAMEL.match(part) is not None


def _clean_cuts(parts: list[str]) -> bool:
    """Whether every "/" stands between two whole words ("Tools/Dynamic"), not inside a token: "PN/DP",
    "522K/722K", "TCP/IP", "emPC-A/iMX6" are one name each."""
    for left, right in pairwise(parts):
        for word in (left.split()[-1], right.split()[0]):
            if not (word.isalpha() and len(word) >= 4):
                return False
    return True


def compile_package(helper: HelperRecord) -> PackageIdentifier | None:
    """A purl or CPE helper as a comparable package id; None for other kinds and for unparseable values."""
    if helper.kind == "purl":
        package = parse_purl(helper.value)
    elif helper.kind == "cpe":
        package = parse_cpe(helper.value)
    else:
        return None
    return PackageIdentifier(helper.kind, helper.value, package) if package is not None else None


def compile_identifier(helper: HelperRecord) -> Identifier | None:
    """The helper as a comparable identifier; None for kinds the device columns cannot hold (cpe, purl, hash)."""
    if helper.kind in IDENTIFIER_FIELDS:
        normalise = identifiers.serial_number if helper.kind == "serial_number" else identifiers.part_number
        value = normalise(helper.value)
        return Identifier(helper.kind, IDENTIFIER_FIELDS[helper.kind], helper.value, value, _wildcard(value))
    if helper.kind == "x_generic_uri":
        udi = _udi_di(helper)
        if udi is not None:
            return Identifier("udi_di", UDI_DI_FIELD, helper.value, udi, None)
    return None


def _wildcard(value: str) -> re.Pattern[str] | None:
    """CSAF §3.1.3.3.3 wildcards as a full-match regex; None for a plain value."""
    return wildcards.as_regex(value) if wildcards.has_wildcard(value) else None


def _udi_di(helper: HelperRecord) -> str | None:
    # x_generic_uris are free-form; only those whose namespace or URI says UDI are UDI-DIs. The DI is the last
    # path/URN segment ("urn:gs1:udi-di:00884838012345" -> "00884838012345").
    namespace = str((helper.detail or {}).get("namespace", ""))
    if "udi" not in namespace.lower() and "udi" not in helper.value.lower():
        return None
    last = re.split(r"[:/=]", helper.value.rstrip("/"))[-1]
    value = identifiers.udi_di(last)
    return value if value and any(c.isdigit() for c in value) else None
