"""CycloneDX 1.4-1.6 JSON -> SbomDocument: what is read, what is warned about, what is refused (pure, no database).

Fixtures in tests/data/cyclonedx come from the CycloneDX specification's schema test suite and from pip's own
vendored SBOM (see SOURCE.md); the medical-device HBOM and the refusal cases are built here.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema._keywords
import pytest

from vigil.sources.inventory import cyclonedx
from vigil.sources.inventory.cyclonedx import SbomComponent, SbomDocument, SbomError, read_cyclonedx
from vigil.sources.inventory.records import InventoryFileError

DATA = Path(__file__).parent / "data" / "cyclonedx"
SERIAL = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"


def _bom(spec_version: str = "1.6", **fields: Any) -> dict[str, Any]:
    return {"bomFormat": "CycloneDX", "specVersion": spec_version, "version": 1, **fields}


def _read(doc: dict[str, Any], source: str = "device.cdx.json") -> SbomDocument:
    return read_cyclonedx(json.dumps(doc).encode(), source)


def _refusal(raw: bytes, source: str = "upload.json", **kwargs: Any) -> str:
    with pytest.raises(SbomError) as caught:
        read_cyclonedx(raw, source, **kwargs)
    message = str(caught.value)
    assert message.startswith(f"{source}: ")
    assert "\n" not in message
    assert len(message) < 300
    return message.removeprefix(f"{source}: ")


def _one(doc: SbomDocument, name: str) -> SbomComponent:
    (found,) = (c for c in doc.components if c.name == name)
    return found


# --- the CycloneDX specification's own examples -----------------------------------------------------------------


@pytest.mark.parametrize("spec_version", ["1.4", "1.5", "1.6"])
def test_spec_example_bom_of_each_version(spec_version: str) -> None:
    doc = read_cyclonedx((DATA / f"valid-bom-{spec_version}.json").read_bytes(), "valid-bom.json")

    assert doc.spec_version == spec_version
    assert doc.serial_number == SERIAL
    assert doc.warnings == ()
    # The subject names no vendor of its own beyond an `author`: the BOM's supplier comes first.
    assert doc.subject == SbomComponent(
        vendor="Acme, Inc.",
        name="Acme Application",
        version="9.1.1",
        component_type="application",
        purl=None,
        cpe=None,
        bom_ref=None,
        path=(),
    )
    # Pedigree ancestors describe where tomcat-catalina came from, not what is installed: not components.
    assert [(c.name, c.version) for c in doc.components] == [("tomcat-catalina", "9.0.14"), ("mylibrary", "1.0.0")]
    tomcat, mylibrary = doc.components
    assert tomcat.vendor == "Acme Inc"  # publisher (1.6 also has an author, which comes later)
    assert tomcat.purl == tomcat.bom_ref == "pkg:npm/acme/component@1.0.0"
    assert tomcat.component_type == "library"
    assert tomcat.path == ()
    # 1.6 components have a manufacturer, which comes before the supplier "Example, Inc.".
    assert mylibrary.vendor == ("Example-2, Inc." if spec_version == "1.6" else "Example, Inc.")
    assert mylibrary.purl is None


def test_spec_example_assembly_flattens_nested_components_and_skips_services() -> None:
    doc = read_cyclonedx((DATA / "valid-assembly-1.6.json").read_bytes(), "assembly.json")

    assert doc.subject is None
    assert [(c.name, c.path) for c in doc.components] == [
        ("acme-library-a", ()),
        ("acme-library-b", ("acme-library-a",)),
    ]


@pytest.mark.parametrize(
    ("fixture", "where"),
    [
        ("invalid-component-type-1.6.json", "at $.components[0].type: 'foo' is not one of"),
        ("invalid-serialnumber-1.6.json", "at $.serialNumber:"),
        # Accepted by the library's own validator unless optional format packages happen to be installed.
        ("invalid-metadata-timestamp-1.6.json", "at $.metadata.timestamp: '2020-04-13' is not a 'date-time'"),
    ],
)
def test_spec_invalid_examples_are_refused_with_the_json_path(fixture: str, where: str) -> None:
    reason = _refusal((DATA / fixture).read_bytes(), fixture)
    assert reason.startswith("not valid CycloneDX 1.6 ")
    assert where in reason


def test_real_generated_sbom_from_pip() -> None:
    doc = read_cyclonedx((DATA / "pip-vendored-bom-1.4.cdx.json").read_bytes(), "bom.cdx.json")

    assert doc.spec_version == "1.4"
    assert doc.serial_number is None  # absent, and not invented
    assert doc.subject is not None and doc.subject.name == "pip"
    assert len(doc.components) == 19
    assert doc.components[0].name == "pip"  # the subject repeated as a component, as generators often do
    cachecontrol = _one(doc, "CacheControl")
    assert cachecontrol.purl == "pkg:pypi/cachecontrol@0.14.4"  # pypi names are case-insensitive: canonical lower
    assert cachecontrol.bom_ref == "pkg:pypi/CacheControl@0.14.4"  # a reference, kept as written
    assert cachecontrol.vendor is None  # pypi purls have no namespace; nothing else names a vendor
    assert doc.warnings == ("bom-ref 'bom-ref:pip' is used by more than one component",)


# --- a medical-device HBOM --------------------------------------------------------------------------------------


def _workstation_hbom(spec_version: str = "1.6") -> dict[str, Any]:
    philips = {"name": "Philips Medical Systems Nederland B.V.", "url": ["https://www.philips.com"]}
    # 1.6 added `manufacturer` to components; 1.4/1.5 BOMs name the maker as supplier.
    maker = "manufacturer" if spec_version == "1.6" else "supplier"
    workspot = {
        "type": "application",
        "bom-ref": "app-iw",
        maker: philips,
        "name": "Interventional Workspot",
        "version": "1.4.5",
        "purl": "pkg:generic/philips/interventional-workspot@1.4.5?os=Windows&arch=x64",
        "components": [
            {
                "type": "library",
                "bom-ref": "lib-openssl",
                "name": "OpenSSL",
                "version": "1.1.1k",
                "cpe": "cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*",
                "purl": "pkg:generic/openssl@1.1.1k",
            }
        ],
    }
    return _bom(
        spec_version,
        serialNumber=SERIAL,
        metadata={
            "timestamp": "2024-03-18T09:30:00Z",
            "component": {
                "type": "device",
                "bom-ref": "ws-001",
                maker: philips,
                "name": "Azurion Interventional Workstation",
                "version": "R2.2",
                "components": [
                    {
                        "type": "firmware",
                        "bom-ref": "fw-bios",
                        "supplier": {"name": "Dell Inc."},
                        "name": "BIOS",
                        "version": "2.19.0",
                    },
                    {
                        "type": "operating-system",
                        "bom-ref": "os-win10",
                        "supplier": {"name": "Microsoft Corporation"},
                        "name": "Windows 10 Enterprise LTSC 2019",
                        "version": "10.0.17763",
                        "cpe": "cpe:2.3:o:microsoft:windows_10_1809:-:*:*:*:*:*:x64:*",
                    },
                    workspot,
                ],
            },
        },
        components=[{"type": "library", "name": "zlib", "version": "1.2.13", "purl": "pkg:generic/zlib@1.2.13"}],
        dependencies=[{"ref": "ws-001", "dependsOn": ["fw-bios", "os-win10", "app-iw"]}],
    )


@pytest.mark.parametrize("spec_version", ["1.4", "1.5", "1.6"])
def test_workstation_hbom(spec_version: str) -> None:
    doc = _read(_workstation_hbom(spec_version))

    workstation = "Azurion Interventional Workstation"
    assert doc.warnings == ()
    assert doc.subject == SbomComponent(
        vendor="Philips Medical Systems Nederland B.V.",
        name=workstation,
        version="R2.2",
        component_type="device",
        purl=None,
        cpe=None,
        bom_ref="ws-001",
        path=(),
    )
    # The subject's parts first, depth first, then the BOM's top-level components.
    assert [(c.component_type, c.name, c.version, c.path) for c in doc.components] == [
        ("firmware", "BIOS", "2.19.0", (workstation,)),
        ("operating-system", "Windows 10 Enterprise LTSC 2019", "10.0.17763", (workstation,)),
        ("application", "Interventional Workspot", "1.4.5", (workstation,)),
        ("library", "OpenSSL", "1.1.1k", (workstation, "Interventional Workspot")),
        ("library", "zlib", "1.2.13", ()),
    ]
    bios, windows, workspot, openssl, zlib = doc.components
    assert bios.vendor == "Dell Inc."
    assert windows.vendor == "Microsoft Corporation"
    assert windows.cpe == "cpe:2.3:o:microsoft:windows_10_1809:-:*:*:*:*:*:x64:*"
    assert workspot.vendor == "Philips Medical Systems Nederland B.V."
    assert workspot.purl == "pkg:generic/philips/interventional-workspot@1.4.5?arch=x64&os=Windows"
    assert workspot.bom_ref == "app-iw"
    assert openssl.vendor is None  # no namespace in its purl, nothing else names one
    assert openssl.cpe == "cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*"
    assert zlib.bom_ref is None


def test_component_manufacturer_is_refused_before_1_6() -> None:
    hbom = _workstation_hbom("1.5")
    hbom["metadata"]["component"]["manufacturer"] = {"name": "Philips"}
    reason = _refusal(json.dumps(hbom).encode())
    assert "at $.metadata.component: Additional properties are not allowed ('manufacturer' was unexpected)" in reason


def test_subject_vendor_falls_back_to_the_boms_manufacturer() -> None:
    for spec_version, key in (("1.4", "manufacture"), ("1.5", "manufacture"), ("1.6", "manufacturer")):
        doc = _read(
            _bom(
                spec_version,
                metadata={"component": {"type": "device", "name": "Monitor"}, key: {"name": "Philips"}},
            )
        )
        assert doc.subject is not None
        assert doc.subject.vendor == "Philips", spec_version


# --- vendor precedence ------------------------------------------------------------------------------------------

_ALL_VENDOR_SOURCES: dict[str, Any] = {
    "supplier": {"name": "Supplier Ltd"},
    "manufacturer": {"name": "Manufacturer GmbH"},
    "publisher": "Publisher Inc",
    "authors": [{"name": "Ada"}, {"email": "anon@example.com"}, {"name": "Grace"}],
    "author": "Author Team",
    "purl": "pkg:maven/org.example.purlns/thing@1.0",
    "group": "com.example.group",
}


@pytest.mark.parametrize(
    ("removed", "expected"),
    [
        ((), "Manufacturer GmbH"),
        (("manufacturer",), "Supplier Ltd"),
        (("supplier", "manufacturer"), "Publisher Inc"),
        (("supplier", "manufacturer", "publisher"), "Ada, Grace"),
        (("supplier", "manufacturer", "publisher", "authors"), "Author Team"),
        (("supplier", "manufacturer", "publisher", "authors", "author"), "org.example.purlns"),
        (("supplier", "manufacturer", "publisher", "authors", "author", "purl"), "com.example.group"),
        (("supplier", "manufacturer", "publisher", "authors", "author", "purl", "group"), None),
    ],
)
def test_vendor_precedence(removed: tuple[str, ...], expected: str | None) -> None:
    component = {"type": "library", "name": "thing", "version": "1.0"}
    component |= {key: value for key, value in _ALL_VENDOR_SOURCES.items() if key not in removed}
    doc = _read(_bom("1.6", components=[component]))
    assert doc.components[0].vendor == expected


def test_blank_vendor_names_fall_through() -> None:
    component = {"type": "library", "name": "thing", "supplier": {"name": "  "}, "publisher": "", "author": "Real"}
    assert _read(_bom("1.6", components=[component])).components[0].vendor == "Real"


def test_author_string_gives_the_vendor_in_1_4() -> None:
    component = {"type": "library", "name": "thing", "author": "Example Super Heros"}
    assert _read(_bom("1.4", components=[component])).components[0].vendor == "Example Super Heros"


# --- purls ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical", "vendor"),
    [
        ("pkg:pypi/Django_Rest_Framework@3.14.0", "pkg:pypi/django-rest-framework@3.14.0", None),
        ("pkg:npm/@angular/core@16.0.0", "pkg:npm/%40angular/core@16.0.0", "@angular"),
        (
            "pkg:maven/org.apache.tomcat/tomcat-catalina@9.0.14?type=jar&classifier=sources",
            "pkg:maven/org.apache.tomcat/tomcat-catalina@9.0.14?classifier=sources&type=jar",
            "org.apache.tomcat",
        ),
        ("pkg:github/Philips/Foo@v1", "pkg:github/philips/foo@v1", "philips"),
        (
            "  pkg:rpm/centos/keyutils-libs@1.5.8-3.el7#sub/path/ ",
            "pkg:rpm/centos/keyutils-libs@1.5.8-3.el7#sub/path",
            "centos",
        ),
    ],
)
def test_purl_is_canonicalised(written: str, canonical: str, vendor: str | None) -> None:
    doc = _read(_bom("1.5", components=[{"type": "library", "name": "x", "purl": written}]))
    assert doc.components[0].purl == canonical
    assert doc.components[0].vendor == vendor
    assert doc.warnings == ()


@pytest.mark.parametrize("written", ["not-a-purl", "pkg:npm/", "pkg:/nothing@1"])
def test_invalid_purl_is_dropped_with_a_warning(written: str) -> None:
    components = [
        {"type": "library", "name": "ok", "purl": "pkg:npm/ok@1"},
        {"type": "application", "name": "Workspot", "version": "1.4.5", "purl": written, "group": "philips"},
    ]
    doc = _read(_bom("1.6", components=components))
    workspot = doc.components[1]
    assert (workspot.name, workspot.version, workspot.purl, workspot.vendor) == ("Workspot", "1.4.5", None, "philips")
    (warning,) = doc.warnings
    assert warning.startswith("$.components[1].purl: ignored, not a valid purl: ")
    assert "\n" not in warning


# --- nesting ----------------------------------------------------------------------------------------------------


def test_nested_paths_and_document_order() -> None:
    def node(name: str, *children: dict[str, Any]) -> dict[str, Any]:
        return {"type": "library", "name": name, **({"components": list(children)} if children else {})}

    doc = _read(_bom("1.6", components=[node("a", node("a1", node("a1x")), node("a2")), node("b")]))
    assert [(c.name, c.path) for c in doc.components] == [
        ("a", ()),
        ("a1", ("a",)),
        ("a1x", ("a", "a1")),
        ("a2", ("a",)),
        ("b", ()),
    ]


def _nested(depth: int) -> dict[str, Any]:
    component: dict[str, Any] = {"type": "library", "name": "leaf"}
    for level in range(depth):
        component = {"type": "library", "name": f"level{level}", "components": [component]}
    return _bom("1.6", components=[component])


def test_moderately_deep_nesting_is_read() -> None:
    doc = _read(_nested(40))
    assert len(doc.components) == 41
    assert doc.components[-1].name == "leaf"
    assert len(doc.components[-1].path) == 40


def test_nesting_too_deep_to_validate_is_refused_not_crashed() -> None:
    reason = _refusal(json.dumps(_nested(400)).encode())
    assert reason == "components nested too deeply to validate"


# --- warnings ---------------------------------------------------------------------------------------------------


def test_duplicate_bom_ref_and_empty_name_are_warned() -> None:
    components = [
        {"type": "library", "bom-ref": "dup", "name": "one"},
        {"type": "library", "bom-ref": "dup", "name": "two"},
        {"type": "library", "name": " "},
    ]
    doc = _read(_bom("1.6", components=components))
    assert [c.name for c in doc.components] == ["one", "two", ""]
    assert doc.warnings == (
        "$.components[2]: component has an empty name",
        "bom-ref 'dup' is used by more than one component",
    )


# --- refusals ---------------------------------------------------------------------------------------------------


def test_sbom_error_is_an_inventory_file_error() -> None:
    assert issubclass(SbomError, InventoryFileError)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "not valid JSON: "),
        (b"{not json", "not valid JSON: "),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,', "not valid JSON: "),
        (b"\xff\xfe{\x00}\x00", "not valid JSON: UTF-16 encoded (JSON must be UTF-8)"),
        (b'{"name": "caf\xe9"}', "not valid JSON: "),
        (b"[1, 2]", "not a CycloneDX document: top level is a JSON array, not an object"),
        (b'  <?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>', "looks like XML; "),
        (b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n", "not JSON: looks like an SPDX tag-value document"),
    ],
)
def test_not_json(raw: bytes, expected: str) -> None:
    assert _refusal(raw).startswith(expected)


def test_spdx_json_is_named() -> None:
    spdx = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "workstation",
        "packages": [{"SPDXID": "SPDXRef-Package-iw", "name": "Interventional Workspot", "versionInfo": "1.4.5"}],
    }
    assert _refusal(json.dumps(spdx).encode()) == "not a CycloneDX document: looks like an SPDX document (SPDX-2.3)"


def test_csaf_json_is_named() -> None:
    csaf = {
        "document": {"category": "csaf_security_advisory", "csaf_version": "2.0", "title": "Philips ..."},
        "product_tree": {},
        "vulnerabilities": [],
    }
    reason = _refusal(json.dumps(csaf).encode())
    assert reason == "not a CycloneDX document: looks like a CSAF advisory (csaf_version 2.0)"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"version": 1, "components": []}, "not a CycloneDX document: bomFormat is missing"),
        (_bom() | {"bomFormat": "cyclonedx"}, "not a CycloneDX document: bomFormat is 'cyclonedx', not 'CycloneDX'"),
        (_bom("1.2"), "unsupported specVersion '1.2' (supported: 1.4, 1.5, 1.6)"),
        (_bom("2.0"), "unsupported specVersion '2.0' (supported: 1.4, 1.5, 1.6)"),
        (_bom("1.7"), "unsupported specVersion '1.7' (supported: 1.4, 1.5, 1.6)"),
        (_bom() | {"specVersion": 1.5}, "specVersion must be a string, got the JSON number 1.5"),
        ({"bomFormat": "CycloneDX", "version": 1}, "specVersion is missing (supported: 1.4, 1.5, 1.6)"),
    ],
)
def test_not_cyclonedx_or_unsupported_version(doc: dict[str, Any], expected: str) -> None:
    assert _refusal(json.dumps(doc).encode()) == expected


@pytest.mark.parametrize(
    ("spec_version", "component", "expected"),
    [
        ("1.6", {"name": "no-type"}, "at $.components[0]: 'type' is a required property"),
        ("1.4", {"type": "library", "name": "x", "colour": "red"}, "('colour' was unexpected)"),
        ("1.4", {"type": "platform", "name": "x"}, "at $.components[0].type: 'platform' is not one of"),  # 1.5+
        ("1.6", {"type": "library", "name": 7}, "at $.components[0].name: 7 is not of type 'string'"),
        (
            "1.6",
            {"type": "library", "name": "x", "licenses": [{"license": {"id": "NOT-A-LICENCE"}}]},
            "at $.components[0].licenses[0].license.id: 'NOT-A-LICENCE' is not one of ['0BSD'",
        ),
        (
            "1.5",
            {"type": "library", "name": "x", "externalReferences": [{"type": "website", "url": "https://x.org/a b"}]},
            "at $.components[0].externalReferences[0].url: 'https://x.org/a b' is not valid under any of the given",
        ),
        (
            "1.6",
            {"type": "library", "name": "x", "signature": {"algorithm": "XX", "value": "YWJj"}},
            "at $.components[0].signature.algorithm: 'XX' is not valid under any of the given schemas",
        ),
    ],
)
def test_schema_invalid_is_refused_with_the_first_errors_path(
    spec_version: str, component: dict[str, Any], expected: str
) -> None:
    reason = _refusal(json.dumps(_bom(spec_version, components=[component])).encode())
    assert reason.startswith(f"not valid CycloneDX {spec_version} at $.")
    assert expected in reason


def test_duplicate_components_violate_unique_items() -> None:
    twin = {"type": "library", "name": "zlib", "version": "1.2.13"}
    reordered = {"version": "1.2.13", "name": "zlib", "type": "library"}  # key order does not make it different
    reason = _refusal(json.dumps(_bom("1.6", components=[twin, {"type": "library", "name": "x"}, reordered])).encode())
    assert reason == (
        "not valid CycloneDX 1.6 at $.components: items 0 and 2 are equal; the schema requires unique items"
    )


def test_oversized_is_refused_before_parsing() -> None:
    raw = json.dumps(_workstation_hbom()).encode()
    assert read_cyclonedx(raw, "hbom.json", max_bytes=len(raw)).subject is not None
    reason = _refusal(raw + b" ", max_bytes=len(raw))
    assert reason == f"file is {len(raw) + 1:,} bytes, over the {len(raw):,}-byte limit"
    assert _refusal(b"{" * 100, max_bytes=10) == "file is 100 bytes, over the 10-byte limit"


def test_default_limit_is_50_mib() -> None:
    assert _refusal(b" " * (50 * 1024 * 1024 + 1)).startswith("file is 52,428,801 bytes, over the 52,428,800-byte")


def test_utf8_byte_order_mark_is_tolerated() -> None:
    raw = b"\xef\xbb\xbf" + json.dumps(_workstation_hbom()).encode()
    assert len(read_cyclonedx(raw, "hbom.json").components) == 5


# --- the validator itself ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2020-04-13T20:20:39+00:00", True),
        ("2024-02-29T23:59:59.123Z", True),
        ("2016-12-31t23:59:60z", True),
        ("2020-04-13", False),
        ("2023-02-29T00:00:00Z", False),
        ("2020-04-13T24:00:00Z", False),
        ("2020-04-13T20:20:39", False),
        ("2020-04-13T20:20:39+24:00", False),
        ("2020-04-13 20:20:39Z", False),
        ("２０２０-04-13T20:20:39Z", False),
    ],
)
def test_date_time_format(value: str, valid: bool) -> None:
    assert cyclonedx._is_date_time(value) is valid


def test_unique_items_uses_json_equality() -> None:
    def unique(*items: Any) -> bool:
        return not list(cyclonedx._Validator({"uniqueItems": True}).iter_errors(list(items)))

    assert not unique({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1})
    assert not unique(1, 1.0)
    assert unique(True, 1)
    assert unique(False, 0)
    assert unique([1, 2], [2, 1])
    assert unique({"a": True}, {"a": 1})
    assert unique(["bool", True], ["bool", 1])


def test_validation_never_falls_back_to_jsonschemas_quadratic_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """uniqueItems and enum, including inside the $ref'd SPDX schema, go through vigil's linear versions."""

    def forbidden(*args: Any) -> Any:
        raise AssertionError("stock jsonschema uniqueItems/enum was used")

    monkeypatch.setattr(jsonschema._keywords, "uniq", forbidden)
    monkeypatch.setattr(jsonschema._keywords, "equal", forbidden)
    components = [
        {"type": "library", "name": f"lib{i}", "licenses": [{"license": {"id": "Apache-2.0"}}]} for i in range(50)
    ]
    doc = _read(_bom("1.6", components=components))
    assert len(doc.components) == 50


def test_validation_is_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SPDX and JSF schemas are referenced by URL; they resolve from the library's bundled copies."""

    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("validation tried the network")

    cyclonedx._validator.cache_clear()
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    component = {
        "type": "library",
        "name": "signed",
        "licenses": [{"license": {"id": "MIT"}}],
        "signature": {"algorithm": "ES256", "value": "YWJj"},  # standard JSF algorithm: needs `uri` asserted
    }
    for spec_version in ("1.4", "1.5", "1.6"):
        assert _read(_bom(spec_version, components=[component])).components[0].name == "signed"


def test_large_sbom_reads_in_linear_time() -> None:
    """5,000 components: the library's own validator takes ~16 s here (pairwise uniqueItems); vigil well under 5 s."""
    components = [
        {
            "type": "library",
            "bom-ref": f"ref-{i}",
            "name": f"lib{i}",
            "version": "1.0",
            "purl": f"pkg:pypi/lib{i}@1.0",
        }
        for i in range(5000)
    ]
    doc = _workstation_hbom() | {"components": components}
    raw = json.dumps(doc).encode()
    started = time.perf_counter()
    result = read_cyclonedx(raw, "big.json")
    assert time.perf_counter() - started < 5
    assert len(result.components) == 5004
