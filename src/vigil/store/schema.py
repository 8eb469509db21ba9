"""The relational schema: one declarative model per table, in CSAF's own vocabulary.

Advisory tables are *reference data*: every site reads the same advisories, so under Citus they
are reference tables (replicated to every node), not distributed ones, and carry no `site_id`.
Tenant tables (assets, installed products, findings, match state) key on `site_id`: under Citus they are
distributed by it, so every primary key and unique constraint starts with it.

Every table below an advisory revision hangs off `revision_id` with ON DELETE CASCADE, so a
revision is stored or removed as one unit, inside one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is timezone-aware UTC in Python on both databases.

    PostgreSQL keeps the offset; SQLite keeps none and hands values back naive. Stored in UTC,
    read back as UTC, so no caller has to guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


def _revision_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("advisory_revision.id", ondelete="CASCADE"), index=True)


class OpenPGPKey(Base):
    """A public key whose signatures vigil accepts on advisories (`vigil keys add`)."""

    __tablename__ = "openpgp_key"
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_ids: Mapped[list[Any]]
    armored: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Advisory(Base):
    """A CSAF document, identified by (publisher namespace, tracking id) across all its revisions."""

    __tablename__ = "advisory"
    __table_args__ = (UniqueConstraint("publisher_namespace", "tracking_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publisher_namespace: Mapped[str] = mapped_column(String(1000))
    tracking_id: Mapped[str] = mapped_column(String(1000), index=True)


class AdvisoryRevision(Base):
    """One tracking version of an advisory, exactly as received (bytes kept in advisory_content)."""

    __tablename__ = "advisory_revision"
    __table_args__ = (
        UniqueConstraint("advisory_id", "content_sha256"),
        Index("ix_advisory_revision_current", "is_current", "current_release_date"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisory.id", ondelete="CASCADE"), index=True)
    tracking_version: Mapped[str] = mapped_column(String(100))
    tracking_status: Mapped[str] = mapped_column(String(20))
    initial_release_date: Mapped[datetime] = mapped_column(UTCDateTime())
    current_release_date: Mapped[datetime] = mapped_column(UTCDateTime())
    csaf_version: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    publisher_name: Mapped[str] = mapped_column(String(1000))
    publisher_category: Mapped[str] = mapped_column(String(50))
    lang: Mapped[str | None] = mapped_column(String(50))
    tlp_label: Mapped[str | None] = mapped_column(String(20))
    aggregate_severity: Mapped[str | None] = mapped_column(String(200))
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_sha512: Mapped[str] = mapped_column(String(128))
    size_bytes: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    integrity: Mapped[str] = mapped_column(String(40))
    """Which sibling hashes matched, e.g. `sha512` or `none`."""
    signature: Mapped[str] = mapped_column(String(20))
    """`verified` (by a configured key), `unchecked` (signed, no key configured) or `absent`."""
    signer_fingerprint: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)


class AdvisoryContent(Base):
    """The original bytes of a revision, separate so listing revisions never drags them along."""

    __tablename__ = "advisory_content"
    revision_id: Mapped[int] = mapped_column(ForeignKey("advisory_revision.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class QualityFlag(Base):
    """A CSAF test (6.1.x) the revision failed, or another defect vigil tolerated on import."""

    __tablename__ = "quality_flag"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    test_id: Mapped[str] = mapped_column(String(50))
    test_group: Mapped[str] = mapped_column(String(20))
    instance_path: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)


class Product(Base):
    """A product a revision names: a branch leaf, a top-level full_product_name or a relationship.

    Branch leaves carry their whole branch path and the names found on it by category, which is
    what the matcher needs (vendor, product name, version or range).
    """

    __tablename__ = "product"
    __table_args__ = (Index("ix_product_revision_product", "revision_id", "product_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    product_id: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(20))
    """`branch`, `full_product_name` or `relationship`."""
    leaf_category: Mapped[str | None] = mapped_column(String(40))
    vendor: Mapped[str | None] = mapped_column(Text)
    product_family: Mapped[str | None] = mapped_column(Text)
    product_name: Mapped[str | None] = mapped_column(Text)
    product_version: Mapped[str | None] = mapped_column(Text)
    product_version_range: Mapped[str | None] = mapped_column(Text)
    branch_path: Mapped[list[Any]]


class ProductIdentificationHelper(Base):
    """One value of a product's identification helper (cpe, purl, model number, sku, ...)."""

    __tablename__ = "product_identification_helper"
    __table_args__ = (Index("ix_pih_kind_value", "kind", "value"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    product_id: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None]


class Relationship(Base):
    """A CSAF relationship: `product_reference` <category> `relates_to_product_reference`."""

    __tablename__ = "relationship"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    product_id: Mapped[str] = mapped_column(String(1000))
    category: Mapped[str] = mapped_column(String(40))
    product_reference: Mapped[str] = mapped_column(String(1000))
    relates_to_product_reference: Mapped[str] = mapped_column(String(1000))


class ProductGroupMember(Base):
    """Membership of a product in a product group (one row per member)."""

    __tablename__ = "product_group_member"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    group_id: Mapped[str] = mapped_column(String(1000))
    group_summary: Mapped[str | None] = mapped_column(Text)
    product_id: Mapped[str] = mapped_column(String(1000))


class Vulnerability(Base):
    """One entry of /vulnerabilities; children refer to it by (revision_id, ordinal)."""

    __tablename__ = "vulnerability"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    ordinal: Mapped[int] = mapped_column(Integer)
    cve: Mapped[str | None] = mapped_column(String(50), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    cwe_id: Mapped[str | None] = mapped_column(String(20))
    cwe_name: Mapped[str | None] = mapped_column(Text)
    discovery_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    release_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ids: Mapped[list[Any] | None]


class Note(Base):
    """A document note (vulnerability_ordinal null) or a vulnerability note."""

    __tablename__ = "note"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    vulnerability_ordinal: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(Text)
    audience: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)


class Reference(Base):
    """A document reference (vulnerability_ordinal null) or a vulnerability reference."""

    __tablename__ = "reference"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    vulnerability_ordinal: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)


class Score(Base):
    """A CVSS score of a vulnerability, recomputed from its vector with the `cvss` library."""

    __tablename__ = "score"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    vulnerability_ordinal: Mapped[int] = mapped_column(Integer)
    cvss_version: Mapped[str] = mapped_column(String(10))
    vector: Mapped[str] = mapped_column(Text)
    base_score: Mapped[float | None] = mapped_column(Float)
    """Computed from the vector; null when the vector cannot be parsed (then a quality flag says so)."""
    base_severity: Mapped[str | None] = mapped_column(String(20))
    stated_base_score: Mapped[float | None] = mapped_column(Float)
    """The score the document itself states, kept to show disagreements."""
    product_ids: Mapped[list[Any]]


class ProductStatus(Base):
    """One product in one product_status list of one vulnerability."""

    __tablename__ = "product_status"
    __table_args__ = (Index("ix_product_status_revision_product", "revision_id", "product_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    vulnerability_ordinal: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(40))
    product_id: Mapped[str] = mapped_column(String(1000))


class Remediation(Base):
    """A remediation of a vulnerability, with the products and groups it applies to."""

    __tablename__ = "remediation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    vulnerability_ordinal: Mapped[int] = mapped_column(Integer)
    ordinal: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    restart_required: Mapped[str | None] = mapped_column(String(60))
    entitlements: Mapped[list[Any] | None]
    product_ids: Mapped[list[Any]]
    group_ids: Mapped[list[Any]]


class Threat(Base):
    """A threat statement of a vulnerability (impact, exploit_status, target_set)."""

    __tablename__ = "threat"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    vulnerability_ordinal: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text)
    date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    product_ids: Mapped[list[Any]]
    group_ids: Mapped[list[Any]]


class Flag(Base):
    """A VEX flag of a vulnerability (e.g. component_not_present) for products or groups."""

    __tablename__ = "flag"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = _revision_fk()
    vulnerability_ordinal: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(80))
    date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    product_ids: Mapped[list[Any]]
    group_ids: Mapped[list[Any]]


class SyncSource(Base):
    """A trusted provider or mirror that `vigil advisories sync` has read."""

    __tablename__ = "sync_source"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    location: Mapped[str] = mapped_column(String(2000), unique=True)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SyncEntry(Base):
    """What a sync last saw of one advisory URL, so the next sync fetches only what changed."""

    __tablename__ = "sync_entry"
    __table_args__ = (UniqueConstraint("source_id", "url"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sync_source.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    changed: Mapped[str | None] = mapped_column(String(60))
    """The timestamp the provider gave (changes.csv or ROLIE `updated`), verbatim."""
    validator: Mapped[str | None] = mapped_column(String(200))
    """HTTP ETag or Last-Modified of the last fetch, for conditional requests."""
    outcome: Mapped[str] = mapped_column(String(20))
    """`imported`, `unchanged`, `rejected` (retried on the next sync) or `listing` (a changes.csv,
    index.txt or ROLIE feed row, kept for its HTTP validator)."""
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Site(Base):
    """A hospital, campus or customer: the tenant boundary and, under Citus, the distribution key."""

    __tablename__ = "site"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Asset(Base):
    """One device of a site. `*_raw` columns hold the value as the inventory wrote it."""

    __tablename__ = "asset"
    __table_args__ = (
        Index("ix_asset_site_manufacturer", "site_id", "manufacturer"),
        Index("ix_asset_site_model_number", "site_id", "model_number"),
        Index("ix_asset_site_model_key", "site_id", "model_key"),
        Index("ix_asset_site_serial_number", "site_id", "serial_number"),
        Index("ix_asset_site_udi_di", "site_id", "udi_di"),
        Index("ix_asset_site_change_seq", "site_id", "change_seq"),
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    manufacturer_raw: Mapped[str | None] = mapped_column(Text)
    manufacturer: Mapped[str | None] = mapped_column(Text)
    """Canonical manufacturer (alias table applied)."""
    model_raw: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    model_key: Mapped[str | None] = mapped_column(Text)
    """name_key(model_raw): what the matcher looks a product name up by."""
    model_number_raw: Mapped[str | None] = mapped_column(Text)
    model_number: Mapped[str | None] = mapped_column(String(200))
    """Separators and case removed: 12NC `4598 009 39471` -> `459800939471`."""
    serial_number_raw: Mapped[str | None] = mapped_column(Text)
    serial_number: Mapped[str | None] = mapped_column(String(200))
    udi_di_raw: Mapped[str | None] = mapped_column(Text)
    udi_di: Mapped[str | None] = mapped_column(String(200))
    firmware_version_raw: Mapped[str | None] = mapped_column(Text)
    firmware_version: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    ip_address_raw: Mapped[str | None] = mapped_column(Text)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    """Canonical IP, null when the inventory's text is not an address ("DHCP")."""
    mac_address_raw: Mapped[str | None] = mapped_column(Text)
    mac_address: Mapped[str | None] = mapped_column(String(17))
    bmc_address: Mapped[str | None] = mapped_column(Text)
    """BMC/management address `host[:port]`: the only address active checks may contact."""
    network_zone: Mapped[str | None] = mapped_column(Text)
    device_category: Mapped[str | None] = mapped_column(Text)
    patient_connected: Mapped[bool | None] = mapped_column(Boolean)
    life_sustaining: Mapped[bool | None] = mapped_column(Boolean)
    do_not_scan: Mapped[bool | None] = mapped_column(Boolean)
    extra: Mapped[dict[str, Any] | None]
    """Inventory columns vigil does not interpret, by their original header."""
    content_hash: Mapped[str] = mapped_column(String(64))
    """Digest of everything imported for the asset: equal means `unchanged` on re-import."""
    source: Mapped[str] = mapped_column(Text)
    """The file the asset last came from."""
    source_row: Mapped[int] = mapped_column(Integer)
    """Its first row in that file."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """The site's change counter when the asset (or its SBOM) was last written: the matcher re-evaluates
    assets at or above the counter value it saw last (store/ids.py explains why a counter, not a clock)."""


class AssetRemoval(Base):
    """An asset removed from a site's inventory (`--prune`), stamped with the site's change counter, so the
    matcher closes its findings without comparing every finding with the inventory."""

    __tablename__ = "asset_removal"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    change_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(200), primary_key=True)


class InstalledProduct(Base):
    """Software (or an SBOM component) installed on an asset."""

    __tablename__ = "installed_product"
    __table_args__ = (
        ForeignKeyConstraint(
            ["site_id", "asset_id"], ["asset.site_id", "asset.asset_id"], ondelete="CASCADE", name="fk_installed_asset"
        ),
        Index("ix_installed_product_site_name", "site_id", "name"),
        Index("ix_installed_product_site_name_key", "site_id", "name_key"),
        Index(
            "ix_installed_product_site_purl_key",
            "site_id",
            "purl_key",
            sqlite_where=text("purl_key IS NOT NULL"),
            postgresql_where=text("purl_key IS NOT NULL"),
        ),
        Index(
            "ix_installed_product_site_cpe_key",
            "site_id",
            "cpe_key",
            sqlite_where=text("cpe_key IS NOT NULL"),
            postgresql_where=text("cpe_key IS NOT NULL"),
        ),
    )
    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    origin: Mapped[str] = mapped_column(String(20), primary_key=True)
    """`inventory` (a row of the inventory file) or `sbom` (a component of an attached SBOM)."""
    ordinal: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor_raw: Mapped[str | None] = mapped_column(Text)
    vendor: Mapped[str | None] = mapped_column(Text)
    name_raw: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)
    """name_key(name_raw): what the matcher looks a product name up by."""
    version_raw: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(Text)
    """Prefixes stripped: `Release 1.4.5` -> `1.4.5`."""
    component_type: Mapped[str | None] = mapped_column(String(40))
    purl: Mapped[str | None] = mapped_column(Text)
    cpe: Mapped[str | None] = mapped_column(Text)
    bom_ref: Mapped[str | None] = mapped_column(Text)
    purl_key: Mapped[str | None] = mapped_column(Text)
    """`pkg:type/namespace/name` of the purl (identity/package_ids.py), null without one."""
    cpe_key: Mapped[str | None] = mapped_column(Text)
    """`cpe:part:vendor:product` of the CPE, null without one."""


class AssetSbom(Base):
    """The SBOM/HBOM last attached to an asset, kept verbatim."""

    __tablename__ = "asset_sbom"
    __table_args__ = (
        ForeignKeyConstraint(
            ["site_id", "asset_id"], ["asset.site_id", "asset.asset_id"], ondelete="CASCADE", name="fk_sbom_asset"
        ),
    )
    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    spec_version: Mapped[str] = mapped_column(String(10))
    serial_number: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IdBlock(Base):
    """Next free id of a table whose primary key is (site_id, id): ids stay unique across sites without a
    database-specific sequence. Taken in blocks by one atomic UPDATE ... RETURNING (store/ids.py)."""

    __tablename__ = "id_block"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_id: Mapped[int] = mapped_column(BigInteger)


class Finding(Base):
    """An advisory's vulnerability on one asset: one per (asset, advisory, vulnerability), following the
    advisory's current revision. Never deleted: a finding no longer supported is closed, with the reason."""

    __tablename__ = "finding"
    __table_args__ = (
        UniqueConstraint("site_id", "asset_id", "advisory_id", "vulnerability_key"),
        Index("ix_finding_site_advisory", "site_id", "advisory_id"),
        Index("ix_finding_site_cve", "site_id", "cve"),
        Index(
            "ix_finding_site_superseded",
            "site_id",
            "cve",
            sqlite_where=text("prevailing = 0 AND closed_at IS NULL"),
            postgresql_where=text("prevailing = false AND closed_at IS NULL"),
        ),
        # The review queue: small beside all findings, so counting and listing it never scans them all.
        Index(
            "ix_finding_site_review_pending",
            "site_id",
            sqlite_where=text("review = 'pending' AND closed_at IS NULL"),
            postgresql_where=text("review = 'pending' AND closed_at IS NULL"),
        ),
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    asset_id: Mapped[str] = mapped_column(String(200))
    """No foreign key on purpose: a finding outlives its asset's removal (closed, reason kept)."""
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisory.id"))
    vulnerability_key: Mapped[str] = mapped_column(String(300))
    """The vulnerability within the advisory: its CVE, else its first id (`system_name:text`), else `#ordinal`."""
    revision_id: Mapped[int] = mapped_column(ForeignKey("advisory_revision.id"))
    """The revision that last supported (or, once closed, last evaluated) the finding."""
    cve: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(30))
    """affected, fixed, not_affected or under_investigation (the CSAF product status, mapped)."""
    csaf_status: Mapped[str] = mapped_column(String(30))
    """The CSAF product_status list the matched product is in (known_affected, first_fixed, ...)."""
    match: Mapped[str] = mapped_column(String(10))
    """exact, probable or possible."""
    review: Mapped[str | None] = mapped_column(String(10))
    """For `possible` findings: pending, confirmed or rejected. Null for exact and probable ones."""
    product_ids: Mapped[list[Any]]
    product_families: Mapped[list[Any]]
    """`vendor|name key` of every matched product: what the cross-document rule compares."""
    evidence_digest: Mapped[str] = mapped_column(String(32))
    """Key of the finding's evidence in `finding_evidence` (shared by every finding with the same evidence)."""
    digest: Mapped[str] = mapped_column(String(32))
    """Digest of everything the matcher derived (outcome, products, evidence): equal means unchanged, so a
    rerun compares digests instead of reading every finding's evidence back."""
    prevailing: Mapped[bool] = mapped_column(Boolean)
    """False when a vendor's own advisory for the same CVE and product family prevails over this one."""
    superseded_by: Mapped[str | None] = mapped_column(String(1000))
    """Tracking id of the vendor advisory that prevails, when `prevailing` is false."""
    scope_reason: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_reason: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[str] = mapped_column(String(30), server_default="under_investigation")
    """The site's own status of the device for this vulnerability (response/states.py): VEX's four plus
    mitigated, remediation_scheduled and risk_accepted."""
    response_version: Mapped[int] = mapped_column(Integer, server_default="1")
    """Optimistic lock: every status write names the version it read and bumps it; a stale writer is refused."""
    response_source: Mapped[str] = mapped_column(String(20), server_default="initial")
    """Who set the current status: initial (from the advisory), device (a person, for this device: decisions
    leave it alone), decision (a decide-once rule), matcher (reopened by a changed revision or asset), expiry
    (a risk acceptance ran out), action (an action item completed)."""
    response_detail: Mapped[dict[str, Any] | None]
    """What the current status rests on: justification, evidence, FCO, planned date, owner, expiry, comment."""
    decision_id: Mapped[int | None] = mapped_column(BigInteger)
    """The decide-once rule that set the current status, when response_source is `decision`."""
    risk_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """End of a risk acceptance: the expiry sweep reopens the finding then (indexed while accepted)."""


Index(
    "ix_finding_site_risk_expiry",
    Finding.site_id,
    Finding.risk_expires_at,
    sqlite_where=text("response_status = 'risk_accepted'"),
    postgresql_where=text("response_status = 'risk_accepted'"),
)
Index("ix_finding_site_response_status", Finding.site_id, Finding.response_status)


class FindingEvidence(Base):
    """Evidence of findings, stored once per site and content: one asset's five CVEs of one advisory, and every
    asset matched the same way, share one row (the evidence was two thirds of a finding's bytes)."""

    __tablename__ = "finding_evidence"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(32), primary_key=True)
    evidence: Mapped[dict[str, Any]]


class FindingEvent(Base):
    """One entry of a finding's history: opened, changed, closed, reopened, superseded, confirmed, ..."""

    __tablename__ = "finding_event"
    __table_args__ = (
        ForeignKeyConstraint(
            ["site_id", "finding_id"], ["finding.site_id", "finding.id"], ondelete="CASCADE", name="fk_event_finding"
        ),
        Index("ix_finding_event_site_finding", "site_id", "finding_id"),
    )
    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    finding_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    revision_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]]
    """What changed (before/after values) and why."""


class SiteMatchState(Base):
    """Where the matcher left off for a site: what an incremental run may skip."""

    __tablename__ = "site_match_state"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    asset_change_seq: Mapped[int] = mapped_column(BigInteger)
    """The site's change counter when the last run started: assets with change_seq at or above it are
    re-evaluated by the next incremental run."""
    fingerprint: Mapped[str] = mapped_column(String(64))
    """Matcher rules + alias table digest of the last run: when it differs, the next run is a full one."""
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MatchedRevision(Base):
    """An advisory revision the matcher has evaluated against every asset of a site."""

    __tablename__ = "matched_revision"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("advisory_revision.id", ondelete="CASCADE"), primary_key=True)
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Decision(Base):
    """Decide once: a status for (CVE or advisory) x (manufacturer, model, release, optional model number),
    applied to every current and future matching device of the site, unless a person set that device's
    status directly (a per-device override)."""

    __tablename__ = "decision"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    cve: Mapped[str | None] = mapped_column(String(50))
    """The CVE the decision is about; or null when it is about a whole advisory."""
    advisory_id: Mapped[int | None] = mapped_column(ForeignKey("advisory.id"))
    """The advisory the decision is about; or null when it is about a CVE."""
    manufacturer: Mapped[str] = mapped_column(Text)
    """Canonical manufacturer (alias table applied), compared with asset.manufacturer."""
    model: Mapped[str] = mapped_column(Text)
    """The model or product name as typed; matched by name_key against the asset model or its software."""
    model_key: Mapped[str] = mapped_column(Text)
    release: Mapped[str | None] = mapped_column(Text)
    """Version of the device or its software (CSAF `*`/`?` wildcards allowed); null: any release."""
    model_number: Mapped[str | None] = mapped_column(String(200))
    """Normalised model number (12NC, ...); null: any."""
    status: Mapped[str] = mapped_column(String(30))
    detail: Mapped[dict[str, Any]]
    """The fields the status needs (justification, evidence, FCO, owner, expiry, comment)."""
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(200))


class ActionItem(Base):
    """One remediation of an advisory (mitigation, workaround, vendor_fix, none_available, no_fix_planned) to
    carry out on one affected device, with the advisory's own text and URL."""

    __tablename__ = "action_item"
    __table_args__ = (
        UniqueConstraint("site_id", "asset_id", "advisory_id", "remediation_key"),
        Index("ix_action_item_site_advisory", "site_id", "advisory_id"),
        Index("ix_action_item_site_state", "site_id", "state"),
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    asset_id: Mapped[str] = mapped_column(String(200))
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisory.id"))
    revision_id: Mapped[int] = mapped_column(BigInteger)
    """The revision whose remediation the item last followed."""
    remediation_key: Mapped[str] = mapped_column(String(32))
    """Digest of the remediation's category, details and URL: the same advice keeps its item across revisions."""
    category: Mapped[str] = mapped_column(String(30))
    details: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    vulnerability_keys: Mapped[list[Any]]
    """The advisory's vulnerabilities (CVE, else key) of this device the remediation answers."""
    state: Mapped[str] = mapped_column(String(20))
    """open, done or void (no finding of the device needs it any more; void_reason says why)."""
    assignee: Mapped[str | None] = mapped_column(String(200))
    completed_by: Mapped[str | None] = mapped_column(String(200))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evidence: Mapped[str | None] = mapped_column(Text)
    void_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KevEntry(Base):
    """A CVE in CISA's Known Exploited Vulnerabilities catalog (reference data, like advisories)."""

    __tablename__ = "kev_entry"
    cve: Mapped[str] = mapped_column(String(50), primary_key=True)
    vendor_project: Mapped[str | None] = mapped_column(Text)
    product: Mapped[str | None] = mapped_column(Text)
    vulnerability_name: Mapped[str | None] = mapped_column(Text)
    date_added: Mapped[str | None] = mapped_column(String(10))
    due_date: Mapped[str | None] = mapped_column(String(10))
    known_ransomware: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(Text)
    """The file it was imported from, and the catalog version when it carries one."""
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EpssScore(Base):
    """FIRST's EPSS probability for a CVE (reference data), from an imported `epss_scores` file."""

    __tablename__ = "epss_score"
    cve: Mapped[str] = mapped_column(String(50), primary_key=True)
    epss: Mapped[float] = mapped_column(Float)
    percentile: Mapped[float] = mapped_column(Float)
    score_date: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Append-only, hash-chained audit log. One chain per site (`site_id` 0: installation-wide events such
    as advisory imports), so chains never cross sites; `hash` covers the entry and the previous hash."""

    __tablename__ = "audit_entry"
    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    """What happened, dotted: advisory.import, inventory.import, match.run, finding.status, decision.add, ..."""
    subject: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last entry of each audit chain: appending locks this row (so two writers never fork a chain), and
    verification compares it with the chain's last entry (so deleting the newest entries is detected too)."""

    __tablename__ = "audit_head"
    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class UserAccount(Base):
    """A person (or system) who logs in: installation-wide, so no `site_id`; what they see is `user_site_grant`."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    """As typed at creation; looked up case-insensitively through `username_key`."""
    username_key: Mapped[str] = mapped_column(String(200), unique=True)
    """casefold()ed username: `Alice` and `alice` are one account."""
    role: Mapped[str] = mapped_column(String(20))
    """admin | analyst | technician | viewer (vigil.services.access)."""
    password_hash: Mapped[str | None] = mapped_column(Text)
    """argon2id PHC string (parameters inside); None: no password login (API tokens only)."""
    all_sites: Mapped[bool] = mapped_column(Boolean, default=False)
    """An all-sites grant (a manufacturer-wide user): every site, present and future."""
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserSiteGrant(Base):
    """One site a user may see and change (within what their role permits)."""

    __tablename__ = "user_site_grant"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True, index=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """An API token: the secret is shown once; only its SHA-256 is kept (a random 256-bit token needs no salt)."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Updated at most once a minute: a busy API client must not turn every read into a write."""


class UserSession(Base):
    """A browser session: the cookie holds a random token, this row its SHA-256 (a stolen table logs no one in)."""

    __tablename__ = "user_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    """The synchronizer token forms and htmx send back on unsafe requests."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """Idle expiry counts from here; refreshed at most once a minute."""
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    """Absolute expiry: created_at plus the maximum session length."""


class LoginThrottle(Base):
    """Recent failed logins per key (a username's or a client address's SHA-256): the back-off state."""

    __tablename__ = "login_throttle"
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BackgroundJob(Base):
    """A background job (an upload's import, a sync, a match run) and its progress. In the database, not in one
    process's memory, so that any of several server processes answers for a job another one runs."""

    __tablename__ = "background_job"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """A UUID4's hex: unguessable, so an id alone reveals nothing (visibility is checked too)."""
    kind: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20))
    """queued | running | succeeded | failed."""
    progress: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
