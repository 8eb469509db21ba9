"""Use cases: export a site's response statuses as VEX (CSAF 2.0 csaf_vex, CycloneDX 1.6, OpenVEX 0.2.0), and
import a VEX file back onto the site's findings. docs/vex.md gives the rules; in short:

Export: one statement per open finding of the site (a rejected possible match is none). Without `--advisory`
only prevailing findings, one per device and CVE (the one whose status was set last); with it, every open
finding of that advisory.
Import: a statement's product is a device of the site by vigil's product id, else by serial number + model
number. Its findings: the advisory's finding the vigil marker names, else the device's prevailing open
findings for the CVE (or vulnerability key), else all of them. Each change goes through
`services.response.apply_status` (source `vex`), so the life cycle refuses what it refuses for a person; a VEX
stating an affected status for a device not yet affected passes through `affected` first. A status that
already holds, with the same detail, is left alone: re-importing changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from vigil import __version__
from vigil.matching.compiled import vulnerability_key
from vigil.outputs.vex_csaf import csaf_vex
from vigil.outputs.vex_cyclonedx import cyclonedx_vex
from vigil.outputs.vex_openvex import openvex
from vigil.response.states import AFFECTED, TRANSITIONS, IllegalTransition, StatusChange, change_from_detail
from vigil.response.vex_model import (
    VEX_FAMILY,
    VexDevice,
    VexDocument,
    VexPublisher,
    VexRemediation,
    VexStatement,
    VexVulnerability,
    asset_of_product_id,
    escape_part,
    product_id,
)
from vigil.services.response import FindingNotFound, ResponseConflict, apply_status
from vigil.services.store import Store
from vigil.sources.csaf.document import VulnerabilityRecord
from vigil.sources.vex import FORMATS, read_vex
from vigil.store.advisory_queries import find_advisories
from vigil.store.audit import append as audit
from vigil.store.db import transaction
from vigil.store.inventory import site_ids
from vigil.store.vex_queries import (
    DeviceRow,
    VexFindingRow,
    assets_by_identifiers,
    devices,
    existing_assets,
    group_members,
    identifier_key,
    open_findings,
    open_findings_of_assets,
    remediations,
    vulnerabilities,
)

IMPORT_FORMATS = ("auto", *FORMATS)
PUBLISHER_NAME_ENV = "VIGIL_VEX_PUBLISHER_NAME"
PUBLISHER_NAMESPACE_ENV = "VIGIL_VEX_PUBLISHER_NAMESPACE"


class VexRequestError(ValueError):
    """An unknown site, advisory or format, or an unusable publisher namespace; the message names it."""


class NothingToExport(Exception):
    """The site (or advisory) has no open finding: a VEX needs at least one statement."""


@dataclass(frozen=True)
class VexExportRequest:
    """What to export."""

    site: str
    """Site name."""
    format: str
    """csaf, cyclonedx or openvex."""
    advisory: str | None = None
    """Limit to one advisory (its /document/tracking/id)."""
    publisher_name: str | None = None
    """Issuer name; default VIGIL_VEX_PUBLISHER_NAME, else the site name."""
    publisher_namespace: str | None = None
    """Issuer URL; default VIGIL_VEX_PUBLISHER_NAMESPACE, else a placeholder under https://vigil.invalid/."""


@dataclass(frozen=True)
class VexExport:
    """A written VEX."""

    content: bytes
    """The document (UTF-8 JSON)."""
    tracking_id: str
    """Its CSAF tracking id (also the CycloneDX serial number's seed and the OpenVEX @id's end)."""
    statements: int
    """Statements written."""
    devices: int
    """Distinct devices among them."""


@dataclass(frozen=True)
class VexImportReport:
    """What an import did."""

    format: str
    """The format read."""
    statements: int
    """Statements in the file."""
    applied: int
    """Findings whose status changed."""
    unchanged: int
    """Findings whose status and detail already held."""
    problems: tuple[str, ...]
    """One line per unknown product, unknown vulnerability, refused change or unreadable part."""


def export_vex(store: Store, request: VexExportRequest, actor: str, now: datetime | None = None) -> VexExport:
    if request.format not in FORMATS:
        raise VexRequestError(f"unknown format {request.format!r}: expected one of {', '.join(FORMATS)}")
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    publisher = _publisher(request)
    with transaction(store.sessions) as session:
        site_id = _site_id(session, request.site)
        advisory_ids = _advisory_ids(session, request.advisory) if request.advisory else None
        statements = _statements(session, site_id, request.site, advisory_ids)
        if not statements:
            scope = f" for advisory {request.advisory}" if request.advisory else ""
            raise NothingToExport(f"site {request.site!r} has no open findings{scope}: a VEX needs a statement")
        tracking_id = _tracking_id(request.site, request.advisory, now)
        document = VexDocument(request.site, request.advisory, publisher, tracking_id, now, __version__, statements)
        content = _render(document, request.format)
        detail = {
            "format": request.format,
            "advisory": request.advisory,
            "statements": len(statements),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
        audit(session, site_id, actor, "vex.export", tracking_id, detail, now)
    return VexExport(content, tracking_id, len(statements), len({s.device.product_id for s in statements}))


def _publisher(request: VexExportRequest) -> VexPublisher:
    name = request.publisher_name or os.environ.get(PUBLISHER_NAME_ENV) or request.site
    namespace = (
        request.publisher_namespace
        or os.environ.get(PUBLISHER_NAMESPACE_ENV)
        or f"https://vigil.invalid/sites/{escape_part(request.site)}"
    )
    parts = urlsplit(namespace)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise VexRequestError(f"publisher namespace {namespace!r} is not an http(s) URL the hospital controls")
    return VexPublisher(name, namespace)


def _tracking_id(site: str, advisory: str | None, now: datetime) -> str:
    scope = f"-{escape_part(advisory)}" if advisory else ""
    return f"VIGIL-VEX-{escape_part(site)}{scope}-{now:%Y%m%d}"


def _render(document: VexDocument, fmt: str) -> bytes:
    if fmt == "cyclonedx":
        return (cyclonedx_vex(document) + "\n").encode("utf-8")
    if fmt == "csaf":  # keys sorted, as CSAF recommends (test 6.2.13)
        return (json.dumps(csaf_vex(document), indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    return (json.dumps(openvex(document), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _site_id(session: Session, site: str) -> int:
    found = site_ids(session, [site], create=False)
    if not found:
        raise VexRequestError(f"no site named {site!r}")
    return found[site]


def _advisory_ids(session: Session, tracking_id: str) -> list[int]:
    ids = [row[0].id for row in find_advisories(session, tracking_id)]
    if not ids:
        raise VexRequestError(f"no advisory with tracking id {tracking_id!r}")
    return ids


# --- export: findings -> statements ----------------------------------------------------------------------------


def _statements(
    session: Session, site_id: int, site: str, advisory_ids: Sequence[int] | None
) -> tuple[VexStatement, ...]:
    rows = open_findings(session, site_id, advisory_ids)
    if advisory_ids is None:
        rows = _one_per_device_and_cve(rows)
    found_devices = devices(session, site_id, {row.asset_id for row in rows})
    revision_ids = {row.revision_id for row in rows}
    titles, ordinals = _vulnerability_facts(session, revision_ids)
    actions = _advisory_remediations(session, revision_ids)
    statements = []
    for row in rows:
        ordinal = ordinals.get((row.revision_id, row.vulnerability_key))
        statements.append(
            VexStatement(
                device=_device(site, row.asset_id, found_devices),
                vulnerability=VexVulnerability(
                    row.cve,
                    row.vulnerability_key,
                    row.tracking_id,
                    row.publisher_namespace,
                    titles.get((row.revision_id, row.vulnerability_key)),
                ),
                change=_stored_change(row) or StatusChange(row.response_status),
                remediations=_remediations_for(actions, row, ordinal),
                first_issued=row.opened_at,
                last_updated=_status_time(row),
            )
        )
    return tuple(statements)


def _one_per_device_and_cve(rows: list[VexFindingRow]) -> list[VexFindingRow]:
    """Several prevailing advisories may name one CVE for one device: the finding whose status was set last
    speaks for the device (a VEX states one status per product and vulnerability)."""
    chosen: dict[tuple[str, ...], VexFindingRow] = {}
    for row in rows:
        key = (row.asset_id, row.cve) if row.cve else (row.asset_id, str(row.advisory_id), row.vulnerability_key)
        held = chosen.get(key)
        if held is None or (_status_time(row), -row.id) > (_status_time(held), -held.id):
            chosen[key] = row
    return sorted(chosen.values(), key=lambda r: (r.asset_id, r.cve or "", r.tracking_id, r.vulnerability_key))


def _status_time(row: VexFindingRow) -> datetime:
    at = (row.response_detail or {}).get("at")
    if isinstance(at, str):
        try:
            return datetime.fromisoformat(at).astimezone(UTC)
        except ValueError:
            pass
    return row.opened_at


def _device(site: str, asset_id: str, found: dict[str, DeviceRow]) -> VexDevice:
    row = found.get(asset_id)
    if row is None:  # the finding is open, so the asset exists; kept total for a concurrent prune
        return VexDevice(product_id(site, asset_id), asset_id)
    return VexDevice(
        product_id=product_id(site, asset_id),
        asset_id=asset_id,
        manufacturer=row.manufacturer,
        model=row.model,
        version=row.version,
        serial_number=row.serial_number,
        model_number=row.model_number,
    )


def _vulnerability_facts(
    session: Session, revision_ids: Iterable[int]
) -> tuple[dict[tuple[int, str], str | None], dict[tuple[int, str], int]]:
    """(revision, vulnerability key) -> title, and -> ordinal (the key the remediations hang off)."""
    titles: dict[tuple[int, str], str | None] = {}
    ordinals: dict[tuple[int, str], int] = {}
    for v in vulnerabilities(session, revision_ids):
        record = VulnerabilityRecord(v.ordinal, v.cve, v.title, None, None, None, None, v.ids)
        key = (v.revision_id, vulnerability_key(record))
        titles[key], ordinals[key] = v.title, v.ordinal
    return titles, ordinals


def _advisory_remediations(
    session: Session, revision_ids: Iterable[int]
) -> dict[tuple[int, int], list[tuple[VexRemediation, set[str]]]]:
    """(revision, vulnerability ordinal) -> each remediation with the product ids it covers (groups expanded)."""
    ids = set(revision_ids)
    members = group_members(session, ids)
    found: dict[tuple[int, int], list[tuple[VexRemediation, set[str]]]] = {}
    for r in remediations(session, ids):
        covered = set(r.product_ids)
        for group_id in r.group_ids:
            covered |= members.get((r.revision_id, group_id), set())
        remediation = VexRemediation(r.category, r.details, r.url, r.date)
        found.setdefault((r.revision_id, r.vulnerability_ordinal), []).append((remediation, covered))
    return found


def _remediations_for(
    actions: dict[tuple[int, int], list[tuple[VexRemediation, set[str]]]], row: VexFindingRow, ordinal: int | None
) -> tuple[VexRemediation, ...]:
    """The advisory's remediations of the finding's vulnerability that cover one of its matched products."""
    if ordinal is None:
        return ()
    wanted = {str(pid) for pid in row.product_ids}
    return tuple(r for r, covered in actions.get((row.revision_id, ordinal), []) if covered & wanted)


# --- import: statements -> status changes ----------------------------------------------------------------------


def import_vex(
    store: Store,
    raw: bytes,
    name: str,
    site: str,
    actor: str,
    fmt: str = "auto",
    now: datetime | None = None,
) -> VexImportReport:
    """Apply a VEX file's statements to the site's findings; VexFileError (nothing applied) when the file cannot
    be read at all."""
    if fmt not in IMPORT_FORMATS:
        raise VexRequestError(f"unknown format {fmt!r}: expected one of {', '.join(IMPORT_FORMATS)}")
    if not actor.strip():
        raise VexRequestError("an import needs the name of who imports it (--by)")
    now = now or datetime.now(UTC)
    with transaction(store.sessions) as session:
        site_id = _site_id(session, site)
        vex = read_vex(raw, name, fmt, store.settings.max_document_bytes)
        run = _ImportRun(session, site_id, site, name, actor.strip(), now)
        run.problems.extend(f"{name}: {problem}" for problem in vex.problems)
        run.apply(vex.statements)
        detail = {
            "format": vex.format,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "statements": len(vex.statements),
            "applied": run.applied,
            "unchanged": run.unchanged,
            "rejected": len(run.problems),
        }
        audit(session, site_id, actor.strip(), "vex.import", name, detail, now)
    return VexImportReport(vex.format, len(vex.statements), run.applied, run.unchanged, tuple(run.problems))


class _ImportRun:
    """One import: resolves products to devices and statements to findings, applies, counts, reports."""

    def __init__(self, session: Session, site_id: int, site: str, name: str, actor: str, now: datetime) -> None:
        self.session, self.site_id, self.site = session, site_id, site
        self.name, self.actor, self.now = name, actor, now
        self.applied = 0
        self.unchanged = 0
        self.problems: list[str] = []

    def apply(self, statements: Sequence[VexStatement]) -> None:
        assets = self._resolve([s.device for s in statements])
        by_asset: dict[str, list[VexFindingRow]] = {}
        for row in open_findings_of_assets(self.session, self.site_id, set(assets.values())):
            by_asset.setdefault(row.asset_id, []).append(row)
        current: dict[int, tuple[str, StatusChange | None, int]] = {}
        for statement in statements:
            asset_id = assets.get(_device_key(statement.device))
            if asset_id is None:
                continue  # reported once per product by _resolve
            targets = _targets(by_asset.get(asset_id, []), statement.vulnerability)
            if not targets:
                self.problems.append(
                    f"{self.name}: {statement.pointer}: device {asset_id} has no open finding for "
                    f"{statement.vulnerability.label} (ignored)"
                )
                continue
            for row in targets:
                state = current.get(row.id) or (row.response_status, _stored_change(row), row.response_version)
                current[row.id] = self._apply_one(statement, row, state)

    def _resolve(self, found: Sequence[VexDevice]) -> dict[str, str]:
        """Device key -> asset id for every product that names a device of the site; the rest reported once."""
        unique = {_device_key(d): d for d in found}
        named = {key: asset_of_product_id(self.site, d.product_id or "") for key, d in unique.items()}
        by_id = {key: asset for key, asset in named.items() if asset}
        present = existing_assets(self.session, self.site_id, by_id.values())
        resolved = {key: asset for key, asset in by_id.items() if asset in present}
        wanted = {
            key: identifier_key(d.serial_number, d.model_number)
            for key, d in unique.items()
            if key not in resolved and d.serial_number and d.model_number
        }
        matches = assets_by_identifiers(self.session, self.site_id, wanted.values())
        for key, device in unique.items():
            if key in resolved:
                continue
            candidates = matches.get(wanted[key], []) if key in wanted else []
            if len(candidates) == 1:
                resolved[key] = candidates[0]
                continue
            why = (
                f"matches {len(candidates)} devices of site {self.site!r} by serial and model number"
                if candidates
                else f"no device of site {self.site!r} has this product id, or this serial and model number"
            )
            self.problems.append(f"{self.name}: {device.pointer or '/'}: unknown {device.label}: {why} (ignored)")
        return resolved

    def _apply_one(
        self, statement: VexStatement, row: VexFindingRow, state: tuple[str, StatusChange | None, int]
    ) -> tuple[str, StatusChange | None, int]:
        status, held, version = state
        change = statement.change
        if status == change.status and held is not None and held.detail() == change.detail():
            self.unchanged += 1
            return state
        try:
            with self.session.begin_nested():  # both steps of a route, or neither
                for step in _route(status, change, self.name):
                    result = apply_status(
                        self.session, self.site_id, row.id, step, self.actor, self.now, version, source="vex"
                    )
                    version = result.version
        except (IllegalTransition, ResponseConflict, FindingNotFound) as error:
            self.problems.append(
                f"{self.name}: {statement.pointer}: device {row.asset_id}, {statement.vulnerability.label}: "
                f"finding {row.id} refused: {error}"
            )
            return state
        self.applied += 1
        return change.status, change, version


def _device_key(device: VexDevice) -> str:
    return json.dumps([device.product_id, device.serial_number, device.model_number])


def _targets(rows: list[VexFindingRow], vulnerability: VexVulnerability) -> list[VexFindingRow]:
    if vulnerability.advisory:
        named = [
            r
            for r in rows
            if r.tracking_id == vulnerability.advisory
            and vulnerability.publisher_namespace in (None, r.publisher_namespace)
            and r.vulnerability_key == (vulnerability.key or vulnerability.cve)
        ]
        if named:
            return named
    if vulnerability.cve:
        same = [r for r in rows if r.cve == vulnerability.cve]
    else:
        same = [r for r in rows if r.vulnerability_key == vulnerability.key]
    prevailing = [r for r in same if r.prevailing]
    return prevailing or same


def _stored_change(row: VexFindingRow) -> StatusChange | None:
    try:
        return change_from_detail(row.response_status, row.response_detail)
    except (ValueError, TypeError):
        return None  # a detail vigil cannot read back never counts as "already holds"


def _route(current: str, change: StatusChange, name: str) -> list[StatusChange]:
    """The change; or, for an affected status the life cycle reaches only through `affected` (from
    under_investigation, not_affected or fixed), `affected` first: the VEX states known_affected for all four."""
    target = change.status
    via_affected = AFFECTED in TRANSITIONS[current] and target in TRANSITIONS[AFFECTED]
    if target not in TRANSITIONS[current] and VEX_FAMILY[target] == AFFECTED and via_affected:
        return [StatusChange(AFFECTED, comment=f"stated known_affected by VEX {name}"), change]
    return [change]
