"""A validated CSAF document flattened into the records the store keeps (CSAF 2.0 and 2.1).

Pure functions over the parsed JSON: no I/O, no database. Field names follow CSAF.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vigil.sources.csaf.scores import ScoreRecord, scores_of

# Branch categories whose names the matcher reads directly (CSAF §3.1.2.3.1).
_PATH_FIELDS = {
    "vendor": "vendor",
    "product_family": "product_family",
    "product_name": "product_name",
    "product_version": "product_version",
    "product_version_range": "product_version_range",
}
# Identification helpers: JSON key -> (kind stored, is a list).
_HELPER_LISTS = {
    "model_numbers": "model_number",
    "serial_numbers": "serial_number",
    "skus": "sku",
    "sbom_urls": "sbom_url",
    "purls": "purl",  # CSAF 2.1
}


@dataclass(frozen=True, slots=True)
class Header:
    """The document-level facts of one revision."""

    publisher_namespace: str
    """`/document/publisher/namespace`: with tracking_id, the document's identity."""
    publisher_name: str
    """`/document/publisher/name`."""
    publisher_category: str
    """`/document/publisher/category` (vendor, coordinator, ...)."""
    tracking_id: str
    """`/document/tracking/id`."""
    tracking_version: str
    """`/document/tracking/version`: integer or semantic version."""
    tracking_status: str
    """`draft`, `interim` or `final`."""
    initial_release_date: datetime
    """`/document/tracking/initial_release_date`, in UTC."""
    current_release_date: datetime
    """`/document/tracking/current_release_date`, in UTC."""
    csaf_version: str
    """`2.0` or `2.1`."""
    category: str
    """`/document/category`, e.g. `csaf_security_advisory`."""
    title: str
    """`/document/title`."""
    lang: str | None
    """`/document/lang`."""
    tlp_label: str | None
    """`/document/distribution/tlp/label`."""
    aggregate_severity: str | None
    """`/document/aggregate_severity/text`."""


@dataclass(frozen=True, slots=True)
class ProductRecord:
    """A product the document names, with its branch path spelled out."""

    product_id: str
    """The CSAF product_id."""
    name: str
    """The product's full name."""
    origin: str
    """`branch`, `full_product_name` or `relationship`."""
    leaf_category: str | None
    """Category of the branch that holds the product (usually product_version or _range)."""
    vendor: str | None
    """Name of the nearest `vendor` branch above it."""
    product_family: str | None
    """Name of the nearest `product_family` branch above it."""
    product_name: str | None
    """Name of the nearest `product_name` branch above it."""
    product_version: str | None
    """Name of the `product_version` branch that holds it."""
    product_version_range: str | None
    """Name of the `product_version_range` branch that holds it (vers or prose)."""
    branch_path: list[dict[str, str]]
    """Every branch from the root to the leaf as {category, name}."""


@dataclass(frozen=True, slots=True)
class HelperRecord:
    """One value of one product identification helper."""

    product_id: str
    """The product it identifies."""
    kind: str
    """cpe, purl, model_number, serial_number, sku, hash, sbom_url or x_generic_uri."""
    value: str
    """The value as written (normalisation belongs to the matcher)."""
    detail: dict[str, Any] | None
    """Extra context: hash algorithm and filename, or the x_generic_uri namespace."""


@dataclass(frozen=True, slots=True)
class RelationshipRecord:
    """A relationship and the product it defines."""

    product_id: str
    """The product_id of the relationship's full_product_name."""
    category: str
    """installed_on, installed_with, default_component_of, optional_component_of, external_component_of."""
    product_reference: str
    """The component (e.g. the software)."""
    relates_to_product_reference: str
    """What it relates to (e.g. the hardware it is installed on)."""


@dataclass(frozen=True, slots=True)
class GroupMemberRecord:
    """A product's membership in a product group."""

    group_id: str
    """The product_group_id."""
    group_summary: str | None
    """The group's summary."""
    product_id: str
    """A member."""


@dataclass(frozen=True, slots=True)
class VulnerabilityRecord:
    """A vulnerability entry; `ordinal` is its index in /vulnerabilities."""

    ordinal: int
    """Index in /vulnerabilities, the key its children use."""
    cve: str | None
    """The CVE id, if any."""
    title: str | None
    """Its title."""
    cwe_id: str | None
    """CWE id (2.0 `cwe`, or the first of 2.1 `cwes`)."""
    cwe_name: str | None
    """CWE name as the document writes it."""
    discovery_date: datetime | None
    """When it was discovered."""
    release_date: datetime | None
    """2.0 `release_date` / 2.1 `disclosure_date`."""
    ids: list[dict[str, str]] | None
    """Other ids (system_name, text)."""


@dataclass(frozen=True, slots=True)
class NoteRecord:
    """A note of the document (`vulnerability_ordinal` None) or of a vulnerability."""

    vulnerability_ordinal: int | None
    """Owner vulnerability, None for document notes."""
    category: str
    """CSAF note category (summary, details, general, ...)."""
    title: str | None
    """Note title."""
    audience: str | None
    """Intended audience."""
    text: str
    """The text."""


@dataclass(frozen=True, slots=True)
class ReferenceRecord:
    """A reference of the document or of a vulnerability."""

    vulnerability_ordinal: int | None
    """Owner vulnerability, None for document references."""
    category: str | None
    """`self` or `external`."""
    summary: str
    """What it points to."""
    url: str
    """Where."""


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """One product in one product_status list."""

    vulnerability_ordinal: int
    """Owner vulnerability."""
    status: str
    """The CSAF list, e.g. known_affected, fixed, known_not_affected."""
    product_id: str
    """The product."""


@dataclass(frozen=True, slots=True)
class RemediationRecord:
    """A remediation with the products and groups it covers."""

    vulnerability_ordinal: int
    """Owner vulnerability."""
    ordinal: int
    """Index in the vulnerability's remediations."""
    category: str
    """mitigation, workaround, vendor_fix, none_available, no_fix_planned (2.1: fix_planned, optional_patch)."""
    details: str
    """The vendor's text."""
    url: str | None
    """Where to read more."""
    date: datetime | None
    """When it was published."""
    restart_required: str | None
    """restart_required.category."""
    entitlements: list[str] | None
    """Entitlements, verbatim."""
    product_ids: list[str]
    """Products it covers."""
    group_ids: list[str]
    """Product groups it covers."""


@dataclass(frozen=True, slots=True)
class ThreatRecord:
    """A threat statement."""

    vulnerability_ordinal: int
    """Owner vulnerability."""
    category: str
    """impact, exploit_status or target_set."""
    details: str
    """The text."""
    date: datetime | None
    """When stated."""
    product_ids: list[str]
    """Products concerned."""
    group_ids: list[str]
    """Groups concerned."""


@dataclass(frozen=True, slots=True)
class FlagRecord:
    """A VEX flag (justification for not_affected)."""

    vulnerability_ordinal: int
    """Owner vulnerability."""
    label: str
    """E.g. component_not_present."""
    date: datetime | None
    """When stated."""
    product_ids: list[str]
    """Products concerned."""
    group_ids: list[str]
    """Groups concerned."""


@dataclass(frozen=True, slots=True)
class ExtractedAdvisory:
    """Everything the store keeps of one revision, besides its bytes and integrity."""

    header: Header
    """Document-level facts."""
    products: list[ProductRecord] = field(default_factory=list)
    """Branch leaves, full_product_names and relationship products."""
    helpers: list[HelperRecord] = field(default_factory=list)
    """Product identification helper values."""
    relationships: list[RelationshipRecord] = field(default_factory=list)
    """Relationships."""
    group_members: list[GroupMemberRecord] = field(default_factory=list)
    """Product group memberships."""
    vulnerabilities: list[VulnerabilityRecord] = field(default_factory=list)
    """Vulnerabilities."""
    notes: list[NoteRecord] = field(default_factory=list)
    """Document and vulnerability notes."""
    references: list[ReferenceRecord] = field(default_factory=list)
    """Document and vulnerability references."""
    scores: list[ScoreRecord] = field(default_factory=list)
    """CVSS scores."""
    statuses: list[StatusRecord] = field(default_factory=list)
    """Product status entries."""
    remediations: list[RemediationRecord] = field(default_factory=list)
    """Remediations."""
    threats: list[ThreatRecord] = field(default_factory=list)
    """Threats."""
    flags: list[FlagRecord] = field(default_factory=list)
    """Flags."""


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 timestamp in UTC (naive values are taken as UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def extract(doc: dict[str, Any]) -> ExtractedAdvisory:
    """Flatten a schema-valid CSAF document."""
    result = ExtractedAdvisory(header=_header(doc))
    tree = doc.get("product_tree") or {}
    for path, product, category in _walk_branches(tree.get("branches") or [], []):
        result.products.append(_branch_product(product, path, category))
        result.helpers.extend(_helpers(product))
    for product in tree.get("full_product_names") or []:
        result.products.append(_plain_product(product, "full_product_name"))
        result.helpers.extend(_helpers(product))
    for rel in tree.get("relationships") or []:
        product = rel["full_product_name"]
        result.products.append(_plain_product(product, "relationship"))
        result.helpers.extend(_helpers(product))
        result.relationships.append(
            RelationshipRecord(
                product["product_id"], rel["category"], rel["product_reference"], rel["relates_to_product_reference"]
            )
        )
    for group in tree.get("product_groups") or []:
        result.group_members.extend(
            GroupMemberRecord(group["group_id"], group.get("summary"), pid) for pid in group["product_ids"]
        )
    result.notes.extend(_notes(doc["document"].get("notes"), None))
    result.references.extend(_references(doc["document"].get("references"), None))
    for ordinal, vuln in enumerate(doc.get("vulnerabilities") or []):
        _vulnerability(result, ordinal, vuln)
    return result


def _header(doc: dict[str, Any]) -> Header:
    document = doc["document"]
    tracking = document["tracking"]
    publisher = document["publisher"]
    tlp = (document.get("distribution") or {}).get("tlp") or {}
    initial = parse_datetime(tracking["initial_release_date"])
    current = parse_datetime(tracking["current_release_date"])
    assert initial is not None and current is not None  # the schema requires date-time strings
    return Header(
        publisher_namespace=publisher["namespace"],
        publisher_name=publisher["name"],
        publisher_category=publisher["category"],
        tracking_id=tracking["id"],
        tracking_version=tracking["version"],
        tracking_status=tracking["status"],
        initial_release_date=initial,
        current_release_date=current,
        csaf_version=document["csaf_version"],
        category=document["category"],
        title=document["title"],
        lang=document.get("lang"),
        tlp_label=tlp.get("label"),
        aggregate_severity=(document.get("aggregate_severity") or {}).get("text"),
    )


def _walk_branches(
    branches: list[dict[str, Any]], path: list[dict[str, str]]
) -> Iterator[tuple[list[dict[str, str]], dict[str, Any], str]]:
    # Iterative on purpose: branch depth is attacker-controlled.
    stack = [(branch, path) for branch in reversed(branches)]
    while stack:
        branch, parent = stack.pop()
        here = [*parent, {"category": branch["category"], "name": branch["name"]}]
        if "product" in branch:
            yield here, branch["product"], branch["category"]
        stack.extend((child, here) for child in reversed(branch.get("branches") or []))


def _branch_product(product: dict[str, Any], path: list[dict[str, str]], category: str) -> ProductRecord:
    names: dict[str, str] = {}
    for step in path:  # the nearest (deepest) branch of each category wins
        key = _PATH_FIELDS.get(step["category"])
        if key:
            names[key] = step["name"]
    return ProductRecord(
        product_id=product["product_id"],
        name=product["name"],
        origin="branch",
        leaf_category=category,
        branch_path=path,
        **{key: names.get(key) for key in _PATH_FIELDS.values()},
    )


def _plain_product(product: dict[str, Any], origin: str) -> ProductRecord:
    return ProductRecord(
        product_id=product["product_id"],
        name=product["name"],
        origin=origin,
        leaf_category=None,
        vendor=None,
        product_family=None,
        product_name=None,
        product_version=None,
        product_version_range=None,
        branch_path=[],
    )


def _helpers(product: dict[str, Any]) -> Iterator[HelperRecord]:
    helper = product.get("product_identification_helper")
    if not helper:
        return
    pid = product["product_id"]
    for key in ("cpe", "purl"):  # single strings (purl is 2.0; 2.1 has purls)
        if isinstance(helper.get(key), str):
            yield HelperRecord(pid, key, helper[key], None)
    for key, kind in _HELPER_LISTS.items():
        for value in helper.get(key) or []:
            yield HelperRecord(pid, kind, value, None)
    for entry in helper.get("hashes") or []:
        for file_hash in entry.get("file_hashes") or []:
            detail = {"algorithm": file_hash["algorithm"], "filename": entry["filename"]}
            yield HelperRecord(pid, "hash", file_hash["value"], detail)
    for uri in helper.get("x_generic_uris") or []:
        yield HelperRecord(pid, "x_generic_uri", uri["uri"], {"namespace": uri["namespace"]})


def _notes(notes: list[dict[str, Any]] | None, ordinal: int | None) -> Iterator[NoteRecord]:
    for note in notes or []:
        yield NoteRecord(ordinal, note["category"], note.get("title"), note.get("audience"), note["text"])


def _references(refs: list[dict[str, Any]] | None, ordinal: int | None) -> Iterator[ReferenceRecord]:
    for ref in refs or []:
        yield ReferenceRecord(ordinal, ref.get("category"), ref["summary"], ref["url"])


def _vulnerability(result: ExtractedAdvisory, ordinal: int, vuln: dict[str, Any]) -> None:
    cwe = vuln.get("cwe") or next(iter(vuln.get("cwes") or []), None) or {}
    result.vulnerabilities.append(
        VulnerabilityRecord(
            ordinal=ordinal,
            cve=vuln.get("cve"),
            title=vuln.get("title"),
            cwe_id=cwe.get("id"),
            cwe_name=cwe.get("name"),
            discovery_date=parse_datetime(vuln.get("discovery_date")),
            release_date=parse_datetime(vuln.get("release_date") or vuln.get("disclosure_date")),
            ids=vuln.get("ids"),
        )
    )
    result.notes.extend(_notes(vuln.get("notes"), ordinal))
    result.references.extend(_references(vuln.get("references"), ordinal))
    result.scores.extend(scores_of(vuln, ordinal))
    for status, product_ids in (vuln.get("product_status") or {}).items():
        result.statuses.extend(StatusRecord(ordinal, status, pid) for pid in product_ids)
    for index, rem in enumerate(vuln.get("remediations") or []):
        result.remediations.append(
            RemediationRecord(
                vulnerability_ordinal=ordinal,
                ordinal=index,
                category=rem["category"],
                details=rem["details"],
                url=rem.get("url"),
                date=parse_datetime(rem.get("date")),
                restart_required=(rem.get("restart_required") or {}).get("category"),
                entitlements=rem.get("entitlements"),
                product_ids=rem.get("product_ids") or [],
                group_ids=rem.get("group_ids") or [],
            )
        )
    for threat in vuln.get("threats") or []:
        result.threats.append(
            ThreatRecord(
                ordinal,
                threat["category"],
                threat["details"],
                parse_datetime(threat.get("date")),
                threat.get("product_ids") or [],
                threat.get("group_ids") or [],
            )
        )
    for flag in vuln.get("flags") or []:
        result.flags.append(
            FlagRecord(
                ordinal,
                flag["label"],
                parse_datetime(flag.get("date")),
                flag.get("product_ids") or [],
                flag.get("group_ids") or [],
            )
        )
