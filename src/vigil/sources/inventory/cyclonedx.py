"""CycloneDX 1.4-1.6 JSON SBOMs/HBOMs -> the components installed on one device.

Pure: bytes in, records out, no I/O. The document is refused whole (SbomError) unless it is valid against
the CycloneDX JSON schema of its specVersion; problems that only cost one field (an unparseable purl, a
duplicate bom-ref) become warnings. XML CycloneDX is recognised and refused with a hint: reading it would need
lxml for validation (the library's `xml-validation` extra).

Why not the library's model (`Bom.from_json`): it took 0.25 s per 1,000 components (orjson.loads: 1 ms), keeps
components in a sorted set (document order lost, equal components merged into one), invents a serialNumber
when the BOM has none, and refuses the whole document over one unparseable purl. The schema check before it
guarantees the shapes read here, so the JSON is read directly.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import orjson
from cyclonedx.schema import SchemaVersion
from cyclonedx.schema._res import BOM_JSON, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON
from jsonschema.exceptions import ValidationError, best_match
from packageurl import PackageURL
from referencing import Registry
from referencing.jsonschema import DRAFT7

from vigil.sources.inventory.records import InventoryFileError

SUPPORTED_SPEC_VERSIONS = ("1.4", "1.5", "1.6")
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
_SCHEMA_VERSIONS = {"1.4": SchemaVersion.V1_4, "1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6}
_UTF8_BOM = b"\xef\xbb\xbf"
_MAX_MESSAGE = 200  # jsonschema messages embed the offending value; keep refusals one short line


class SbomError(InventoryFileError):
    """The SBOM cannot be used at all; the message is one line, `<source>: <reason>`."""


@dataclass(frozen=True, slots=True)
class SbomComponent:
    """One component of the BOM: a candidate installed product of the device."""

    vendor: str | None
    """manufacturer.name (1.6), else supplier.name, else publisher, else the author(s), else purl namespace/group.

    For the subject, the BOM's metadata.manufacturer (1.4/1.5: manufacture) and metadata.supplier come after the
    component's own manufacturer and supplier."""
    name: str
    """The component's `name`, stripped."""
    version: str | None
    """The component's `version`; None when absent or empty (1.6 components may give only a versionRange)."""
    component_type: str
    """`type` as in the BOM: application, firmware, operating-system, library, device, ..."""
    purl: str | None
    """The purl in canonical form (packageurl-python); None when absent or unparseable (the latter also warned)."""
    cpe: str | None
    """The `cpe` as written (CPE 2.2 or 2.3; the schema does not constrain it)."""
    bom_ref: str | None
    """The `bom-ref`, which dependencies and VEX statements in the same BOM use to point at the component."""
    path: tuple[str, ...]
    """Names of the enclosing components, outermost first; empty for a top-level component."""
    scope: str | None = None
    """`required`, `optional` or `excluded` (only for tests, not shipped), as the BOM says."""


@dataclass(frozen=True, slots=True)
class SbomDocument:
    """What vigil keeps of one CycloneDX document."""

    spec_version: str
    """`specVersion`: "1.4", "1.5" or "1.6"."""
    serial_number: str | None
    """`serialNumber` (urn:uuid:...), identifying the BOM across its versions; None when absent."""
    subject: SbomComponent | None
    """`metadata.component`: what the BOM describes (the device, or the software on it)."""
    components: tuple[SbomComponent, ...]
    """Every component, nested ones flattened: those nested in the subject first, then `components`, pre-order."""
    warnings: tuple[str, ...]
    """Tolerated problems, one line each, naming the JSON path."""


def read_cyclonedx(raw: bytes, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> SbomDocument:
    """Validate and read one CycloneDX JSON document; raise SbomError (`<source>: <reason>`) if it is unusable."""
    try:
        doc = _load(raw, max_bytes)
        spec_version = _spec_version_of(doc)
        _validate(doc, spec_version)
        return _read(doc, spec_version)
    except _Refused as refused:
        raise SbomError(f"{source}: {refused}") from None
    except RecursionError:
        # jsonschema recurses a few frames per JSON level: about 150 levels of nested components exhaust the stack.
        raise SbomError(f"{source}: components nested too deeply to validate") from None


class _Refused(Exception):
    """A reason to refuse the document, without the source name."""


# --- bytes -> JSON object ---------------------------------------------------------------------------------------


def _load(raw: bytes, max_bytes: int) -> dict[str, Any]:
    if len(raw) > max_bytes:
        raise _Refused(f"file is {len(raw):,} bytes, over the {max_bytes:,}-byte limit")
    body = raw.removeprefix(_UTF8_BOM)
    start = body.lstrip()[:1]
    if start == b"<":
        raise _Refused("looks like XML; only CycloneDX JSON is read (export the SBOM as JSON)")
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise _Refused("not valid JSON: UTF-16 encoded (JSON must be UTF-8)")
    try:
        # orjson refuses invalid UTF-8 and nesting past 1024 levels, as for CSAF (see vigil.sources.csaf.parse).
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        if body.lstrip().startswith(b"SPDXVersion:"):
            raise _Refused("not JSON: looks like an SPDX tag-value document, not CycloneDX") from None
        raise _Refused(f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    if not isinstance(value, dict):
        raise _Refused(f"not a CycloneDX document: top level is a JSON {_json_type(value)}, not an object")
    return value


def _spec_version_of(doc: dict[str, Any]) -> str:
    if doc.get("bomFormat") != "CycloneDX":
        raise _Refused(f"not a CycloneDX document: {_what_it_looks_like(doc)}")
    version = doc.get("specVersion")
    supported = ", ".join(SUPPORTED_SPEC_VERSIONS)
    if version is None:
        raise _Refused(f"specVersion is missing (supported: {supported})")
    if not isinstance(version, str):
        # A number 1.5 would print like a supported version; say what is wrong with it.
        raise _Refused(f"specVersion must be a string, got the JSON {_json_type(version)} {version!r}")
    if version not in SUPPORTED_SPEC_VERSIONS:
        raise _Refused(f"unsupported specVersion {_clip(version)!r} (supported: {supported})")
    return version


def _what_it_looks_like(doc: dict[str, Any]) -> str:
    if "bomFormat" in doc:
        return f"bomFormat is {_clip(repr(doc['bomFormat']))}, not 'CycloneDX'"
    if isinstance(doc.get("spdxVersion"), str):
        return f"looks like an SPDX document ({_clip(doc['spdxVersion'])})"
    context = doc.get("@context")
    if isinstance(context, str) and "spdx" in context.lower():
        return "looks like an SPDX 3 document"
    if isinstance(context, str) and "openvex" in context.lower():
        return "looks like an OpenVEX document"
    document = doc.get("document")
    if isinstance(document, dict) and "csaf_version" in document:
        return f"looks like a CSAF advisory (csaf_version {_clip(str(document['csaf_version']))})"
    return "bomFormat is missing"


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return names.get(type(value), "null")


def _clip(text: str) -> str:
    text = " ".join(text.split())  # one line, whatever the input holds
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


# --- schema ------------------------------------------------------------------------------------------------------
#
# The library's JsonStrictValidator (cyclonedx.validation.json) works offline, but is not used:
# - jsonschema checks `uniqueItems` on arrays of objects by comparing every pair: 0.6 s for 1,000 components,
#   15 s for 5,000, hours for a 50 MB BOM. `_unique_items` below is linear.
# - it asserts whichever formats the installed packages happen to support (here only idn-email; date-time, uri and
#   iri-reference too once jsonschema[format-nongpl] is installed), so acceptance would depend on the environment.
#   As installed here it refuses the specification's own valid-bom-1.4 example (empty email) and every BOM signed
#   with a standard JSF algorithm (see _is_uri), and accepts a date as metadata.timestamp.
# - it needs jsonschema and referencing, which are its optional `json-validation` extra.
# Below is the same construction (draft-07, the library's bundled schemas, references resolved only against the
# bundled SPDX, JSF and cryptography-defs schemas, never fetched) with uniqueItems and enum made fast and the
# formats asserted by vigil's own checks, whatever else is installed.


def _unique_items(validator: Any, unique: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not unique or not validator.is_type(instance, "array"):
        return
    first_index: dict[Any, int] = {}
    for index, item in enumerate(instance):
        first = first_index.setdefault(_hashable(item), index)
        if first != index:
            yield ValidationError(f"items {first} and {index} are equal; the schema requires unique items")
            return


_ENUM_STRINGS: dict[int, frozenset[str]] = {}  # id of an enum list in a cached (so never freed) schema -> its strings
_stock_enum = jsonschema.Draft7Validator.VALIDATORS["enum"]


def _enum(validator: Any, enums: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    # jsonschema compares against every member in turn; the SPDX licence-id enum has over 600 of them.
    if isinstance(instance, str):  # a JSON string equals only the same string
        strings = _ENUM_STRINGS.get(id(enums))
        if strings is None:
            strings = _ENUM_STRINGS.setdefault(id(enums), frozenset(e for e in enums if isinstance(e, str)))
        if instance in strings:
            return
    yield from _stock_enum(validator, enums, instance, schema)


_TRUE, _FALSE = object(), object()  # JSON true/false must not equal 1/0, as Python's would


def _hashable(value: Any) -> Any:
    """A hashable stand-in equal for exactly the JSON-equal values (1 == 1.0, true != 1, key order ignored)."""
    if isinstance(value, dict):
        return frozenset((key, _hashable(item)) for key, item in value.items())
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    return value


_DATE_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-](\d\d):(\d\d))", re.ASCII)
# RFC 3987 at the character level: no spaces, controls or "<>\"{}|\\^`", escapes complete, one "#" at most.
_IRI_CHAR = r'(?:[^\x00-\x20\x7f-\x9f<>"{}|\\^`%#]|%[0-9A-Fa-f]{2})'
_IRI_REFERENCE = re.compile(rf"{_IRI_CHAR}*(?:#{_IRI_CHAR}*)?")
_URI_CHAR = r"(?:[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})"
_URI = re.compile(rf"[A-Za-z][A-Za-z0-9+\-.]*:{_URI_CHAR}*(?:#{_URI_CHAR}*)?")


def _is_date_time(value: object) -> bool:
    """RFC 3339 date-time with an existing date and time (a leap second is let through as :60)."""
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    if match[7] is not None and (int(match[7]) > 23 or int(match[8]) > 59):
        return False
    try:
        datetime(year, month, day, hour, minute, min(second, 59))  # only checks that the fields exist
    except ValueError:
        return False
    return second <= 60


def _is_iri_reference(value: object) -> bool:
    return not isinstance(value, str) or _IRI_REFERENCE.fullmatch(value) is not None


def _is_uri(value: object) -> bool:
    # JSF tells a standard signature algorithm ("ES256") from a proprietary one by this format, in a oneOf:
    # unasserted, "ES256" matches both branches and every signed BOM fails.
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


# idn-email is deliberately not asserted: the specification's own valid-bom-1.4 example has an empty commit
# author email, which its reference tests accept and jsonschema's built-in check (an "@") refuses.
_FORMAT_CHECKER = jsonschema.FormatChecker(formats=())
_FORMAT_CHECKER.checks("date-time")(_is_date_time)
_FORMAT_CHECKER.checks("iri-reference")(_is_iri_reference)
_FORMAT_CHECKER.checks("uri")(_is_uri)
_Validator: Any = jsonschema.validators.extend(
    jsonschema.Draft7Validator, {"uniqueItems": _unique_items, "enum": _enum}
)


@functools.cache
def _validator(spec_version: str) -> Any:
    schema_file = BOM_JSON[_SCHEMA_VERSIONS[spec_version]]
    assert schema_file is not None  # the library ships JSON schemas for 1.2 and later
    prefix = "http://cyclonedx.org/schema/"
    registry: Registry[Any] = Registry().with_resources(
        (prefix + name, DRAFT7.create_resource(_read_schema(path)))
        for name, path in (
            ("spdx.SNAPSHOT.schema.json", SPDX_JSON),
            ("jsf-0.82.SNAPSHOT.schema.json", JSF),
            ("cryptography-defs.SNAPSHOT.schema.json", CRYPTOGRAPHY_DEFS),
        )
    )
    return _Validator(_read_schema(schema_file), registry=registry, format_checker=_FORMAT_CHECKER)


def _read_schema(path: str) -> dict[str, Any]:
    schema: dict[str, Any] = orjson.loads(Path(path).read_bytes())
    # All are draft-07. Where a schema names its dialect, jsonschema switches to the stock validator class on
    # following a $ref into it, dropping the keyword overrides above (measured: the SPDX enum check ran stock).
    schema.pop("$schema", None)
    return schema


def _validate(doc: dict[str, Any], spec_version: str) -> None:
    first = next(iter(_validator(spec_version).iter_errors(doc)), None)
    if first is None:
        return
    # A failed anyOf/oneOf reports at the parent; best_match descends to the branch that came closest.
    error = best_match([first])
    raise _Refused(f"not valid CycloneDX {spec_version} at {error.json_path}: {_clip(error.message)}")


# --- JSON -> records ---------------------------------------------------------------------------------------------


def _read(doc: dict[str, Any], spec_version: str) -> SbomDocument:
    warnings: list[str] = []
    metadata = doc.get("metadata", {})
    subject_json = metadata.get("component")
    subject = None
    components: list[SbomComponent] = []
    if subject_json is not None:
        # The BOM's own supplier/manufacturer describe the subject when the component does not name its vendor.
        fallback = [_name_of(metadata.get(key)) for key in ("manufacturer", "manufacture", "supplier")]
        subject = _component(subject_json, "$.metadata.component", (), warnings, fallback)
        for index, child in enumerate(subject_json.get("components", ())):
            components.extend(_walk(child, f"$.metadata.component.components[{index}]", (subject.name,), warnings))
    for index, child in enumerate(doc.get("components", ())):
        components.extend(_walk(child, f"$.components[{index}]", (), warnings))
    _warn_duplicate_refs(([subject] if subject else []) + components, warnings)
    return SbomDocument(
        spec_version=spec_version,
        serial_number=_text(doc.get("serialNumber")),
        subject=subject,
        components=tuple(components),
        warnings=tuple(warnings),
    )


def _walk(component: dict[str, Any], json_path: str, path: tuple[str, ...], warnings: list[str]) -> list[SbomComponent]:
    """The component, then everything nested in it, in document order (pre-order)."""
    found: list[SbomComponent] = []
    stack = [(component, json_path, path)]
    while stack:
        current, where, enclosing = stack.pop()
        record = _component(current, where, enclosing, warnings, [])
        found.append(record)
        children = current.get("components", ())
        stack.extend(
            (child, f"{where}.components[{index}]", (*enclosing, record.name))
            for index, child in reversed(list(enumerate(children)))
        )
    return found


def _component(
    component: dict[str, Any], where: str, path: tuple[str, ...], warnings: list[str], fallback: list[str | None]
) -> SbomComponent:
    name = _text(component.get("name")) or ""
    if not name:
        warnings.append(f"{where}: component has an empty name")
    purl = _canonical_purl(component.get("purl"), where, warnings)
    return SbomComponent(
        vendor=_vendor_of(component, purl, fallback),
        name=name,
        version=_text(component.get("version")),
        component_type=str(component["type"]),
        purl=purl.to_string() if purl else None,
        cpe=_text(component.get("cpe")),
        bom_ref=_text(component.get("bom-ref")),
        path=path,
        scope=_text(component.get("scope")),
    )


def _vendor_of(component: dict[str, Any], purl: PackageURL | None, fallback: list[str | None]) -> str | None:
    authors = [_name_of(author) for author in component.get("authors", ())]  # 1.6; `author` is its 1.4 string form
    # Manufacturer before supplier: advisories name the maker, and a device's supplier is often a distributor.
    candidates = [
        _name_of(component.get("manufacturer")),
        _name_of(component.get("supplier")),
        *fallback,
        _text(component.get("publisher")),
        ", ".join(a for a in authors if a) or None,
        _text(component.get("author")),
        _text(purl.namespace) if purl else None,
        _text(component.get("group")),
    ]
    return next((candidate for candidate in candidates if candidate), None)


def _canonical_purl(value: Any, where: str, warnings: list[str]) -> PackageURL | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return PackageURL.from_string(text)
    except ValueError as error:
        warnings.append(f"{where}.purl: ignored, not a valid purl: {_clip(str(error))}")
        return None


def _warn_duplicate_refs(components: list[SbomComponent], warnings: list[str]) -> None:
    seen: set[str] = set()
    for ref in (c.bom_ref for c in components if c.bom_ref is not None):
        if ref in seen:
            warnings.append(f"bom-ref {_clip(ref)!r} is used by more than one component")
        seen.add(ref)


def _name_of(entity: Any) -> str | None:
    return _text(entity.get("name")) if isinstance(entity, dict) else None


def _text(value: Any) -> str | None:
    """Stripped text; None for absent or blank values."""
    if not isinstance(value, str):
        return None
    return value.strip() or None
