"""Use case: attach a CycloneDX SBOM/HBOM to an asset; its components become installed products."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vigil.identity.vendors import ManufacturerAliases, default_aliases
from vigil.identity.versions import normalise_version
from vigil.services.audit import system_actor
from vigil.services.inventory_read import AssetNotFound, UnknownSite
from vigil.services.store import Store
from vigil.sources.inventory.assets import InstalledRecord
from vigil.sources.inventory.cyclonedx import SbomComponent, SbomDocument, SbomError, read_cyclonedx
from vigil.store import audit
from vigil.store.db import transaction
from vigil.store.inventory import find_asset, replace_sbom_products, site_ids


@dataclass(frozen=True)
class SbomReport:
    """What attaching an SBOM did."""

    site: str
    """Site of the asset."""
    asset_id: str
    """The asset it was attached to."""
    spec_version: str
    """CycloneDX version of the file."""
    installed: int
    """Installed products it now contributes (replacing those of an earlier SBOM)."""
    warnings: tuple[str, ...]
    """Tolerated problems, one line each."""


def attach_sbom(store: Store, path: Path, asset_id: str, site: str) -> SbomReport:
    """Read, validate and attach; SbomError for a file that is not a usable CycloneDX BOM."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SbomError(f"{path}: cannot read: {error.strerror or error}") from None
    document = read_cyclonedx(raw, str(path), store.settings.max_document_bytes)
    products = installed_from_sbom(document)
    with transaction(store.sessions) as session:
        ids = site_ids(session, [site], create=False)
        if not ids:
            raise UnknownSite(f"no site named {site!r}")
        if find_asset(session, ids[site], asset_id) is None:
            raise AssetNotFound(f"no asset {asset_id!r} in site {site!r}: import the inventory first")
        sbom = {
            "spec_version": document.spec_version,
            "serial_number": document.serial_number,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "source": str(path),
            "content": raw,
            "imported_at": datetime.now(UTC),
        }
        replace_sbom_products(session, ids[site], asset_id, products, sbom)
        detail = {
            "file": str(path),
            "sha256": sbom["sha256"],
            "spec_version": document.spec_version,
            "serial_number": document.serial_number,
            "installed": len(products),
        }
        audit.append(session, ids[site], system_actor(), "inventory.sbom", asset_id, detail, datetime.now(UTC))
    return SbomReport(site, asset_id, document.spec_version, len(products), document.warnings)


def installed_from_sbom(document: SbomDocument) -> list[InstalledRecord]:
    """Every component except `excluded` ones, plus the BOM's subject unless it is the device itself."""
    aliases = default_aliases()
    subject = [document.subject] if document.subject and document.subject.component_type != "device" else []
    seen: set[InstalledRecord] = set()
    products: list[InstalledRecord] = []
    for component in [*subject, *document.components]:
        if not component.name.strip():
            continue  # the reader already warned; an unnamed product can match nothing
        if component.scope == "excluded":
            continue  # CycloneDX: "not part of the runtime", e.g. test-only components
        record = _record(component, aliases)
        if record not in seen:
            seen.add(record)
            products.append(record)
    return products


def _record(component: SbomComponent, aliases: ManufacturerAliases) -> InstalledRecord:
    return InstalledRecord(
        vendor_raw=component.vendor,
        vendor=aliases.canonical(component.vendor) if component.vendor else None,
        name_raw=component.name,
        name=" ".join(component.name.split()),
        version_raw=component.version,
        version=normalise_version(component.version) if component.version else None,
        component_type=component.component_type,
        purl=component.purl,
        cpe=component.cpe,
        bom_ref=component.bom_ref,
    )
