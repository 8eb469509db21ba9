"""Use case: read advisories back as plain data, the same for the CLI, the API and reports."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from vigil.outputs.timestamps import iso_utc
from vigil.services.store import Store
from vigil.store import schema as t
from vigil.store.advisory_queries import (
    current_revisions,
    find_advisories,
    revisions_of,
    rows_of,
    values_by_revision,
)


class AdvisoryNotFound(LookupError):
    """No stored advisory has that tracking id, or several do (the message lists them)."""


def list_advisories(
    store: Store,
    publisher: str | None = None,
    cve: str | None = None,
    search: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Current revision of every advisory, newest first, as JSON-ready dicts."""
    with store.sessions() as session:
        rows = current_revisions(session, publisher, cve, search, limit, offset)
        ids = [row[0].id for row in rows]
        cves = values_by_revision(session, t.Vulnerability.cve, ids)
        flags = values_by_revision(session, t.QualityFlag.test_id, ids)
    return [
        {
            "tracking_id": row.tracking_id,
            "publisher": row[0].publisher_name,
            "publisher_namespace": row.publisher_namespace,
            "title": row[0].title,
            "version": row[0].tracking_version,
            "status": row[0].tracking_status,
            "current_release_date": iso_utc(row[0].current_release_date),
            "csaf_version": row[0].csaf_version,
            "cves": cves.get(row[0].id, []),
            "quality_flags": flags.get(row[0].id, []),
            "revisions": row.revisions,
            "signature": row[0].signature,
        }
        for row in rows
    ]


def show_advisory(store: Store, ident: str) -> dict[str, Any]:
    """Everything vigil knows of one advisory's current revision, plus its revision history."""
    with store.sessions() as session:
        matches = find_advisories(session, ident)
        if not matches:
            raise AdvisoryNotFound(f"no advisory with tracking id {ident!r}")
        if len(matches) > 1:
            names = ", ".join(f"{m[0].publisher_namespace}" for m in matches)
            raise AdvisoryNotFound(f"tracking id {ident!r} is used by several publishers: {names}")
        advisory = matches[0][0]
        revisions = revisions_of(session, advisory.id)
        current = next(r for r in revisions if r.is_current)
        return {
            "tracking_id": advisory.tracking_id,
            "publisher_namespace": advisory.publisher_namespace,
            **_revision_header(current),
            "revisions": [_revision_header(r) | {"current": r.is_current} for r in revisions],
            "products": _products(session, current.id),
            "relationships": [
                {
                    "product_id": r.product_id,
                    "category": r.category,
                    "product_reference": r.product_reference,
                    "relates_to_product_reference": r.relates_to_product_reference,
                }
                for r in rows_of(session, t.Relationship, current.id)
            ],
            "product_groups": _groups(session, current.id),
            "notes": [_note(n) for n in rows_of(session, t.Note, current.id) if n.vulnerability_ordinal is None],
            "vulnerabilities": _vulnerabilities(session, current.id),
            "quality_flags": [
                {
                    "test_id": f.test_id,
                    "group": f.test_group,
                    "instance_path": f.instance_path,
                    "message": f.message,
                }
                for f in rows_of(session, t.QualityFlag, current.id)
            ],
        }


def _revision_header(rev: t.AdvisoryRevision) -> dict[str, Any]:
    return {
        "revision_id": rev.id,
        "title": rev.title,
        "publisher": rev.publisher_name,
        "publisher_category": rev.publisher_category,
        "version": rev.tracking_version,
        "status": rev.tracking_status,
        "csaf_version": rev.csaf_version,
        "category": rev.category,
        "initial_release_date": iso_utc(rev.initial_release_date),
        "current_release_date": iso_utc(rev.current_release_date),
        "tlp": rev.tlp_label,
        "aggregate_severity": rev.aggregate_severity,
        "sha256": rev.content_sha256,
        "integrity": rev.integrity,
        "signature": rev.signature,
        "signer_fingerprint": rev.signer_fingerprint,
        "source": rev.source,
        "imported_at": iso_utc(rev.imported_at),
    }


def _products(session: Any, revision_id: int) -> list[dict[str, Any]]:
    helpers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for h in rows_of(session, t.ProductIdentificationHelper, revision_id):
        helpers[h.product_id].append({"kind": h.kind, "value": h.value, **(h.detail or {})})
    return [
        {
            "product_id": p.product_id,
            "name": p.name,
            "origin": p.origin,
            "vendor": p.vendor,
            "product_family": p.product_family,
            "product_name": p.product_name,
            "product_version": p.product_version,
            "product_version_range": p.product_version_range,
            "branch_path": p.branch_path,
            "identification_helpers": helpers.get(p.product_id, []),
        }
        for p in rows_of(session, t.Product, revision_id)
    ]


def _groups(session: Any, revision_id: int) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for m in rows_of(session, t.ProductGroupMember, revision_id):
        group = groups.setdefault(m.group_id, {"group_id": m.group_id, "summary": m.group_summary, "product_ids": []})
        group["product_ids"].append(m.product_id)
    return list(groups.values())


def _note(n: t.Note) -> dict[str, Any]:
    return {"category": n.category, "title": n.title, "audience": n.audience, "text": n.text}


def _vulnerabilities(session: Any, revision_id: int) -> list[dict[str, Any]]:
    by_ordinal: dict[int, dict[str, Any]] = {}
    for v in rows_of(session, t.Vulnerability, revision_id):
        by_ordinal[v.ordinal] = {
            "cve": v.cve,
            "title": v.title,
            "cwe": {"id": v.cwe_id, "name": v.cwe_name} if v.cwe_id else None,
            "release_date": iso_utc(v.release_date),
            "scores": [],
            "product_status": {},
            "remediations": [],
            "threats": [],
            "flags": [],
            "notes": [],
        }
    for s in rows_of(session, t.Score, revision_id):
        by_ordinal[s.vulnerability_ordinal]["scores"].append(
            {
                "cvss_version": s.cvss_version,
                "vector": s.vector,
                "base_score": s.base_score,
                "base_severity": s.base_severity,
                "stated_base_score": s.stated_base_score,
                "product_ids": s.product_ids,
            }
        )
    for st in rows_of(session, t.ProductStatus, revision_id):
        by_ordinal[st.vulnerability_ordinal]["product_status"].setdefault(st.status, []).append(st.product_id)
    for r in rows_of(session, t.Remediation, revision_id):
        by_ordinal[r.vulnerability_ordinal]["remediations"].append(
            {
                "category": r.category,
                "details": r.details,
                "url": r.url,
                "date": iso_utc(r.date),
                "product_ids": r.product_ids,
                "group_ids": r.group_ids,
            }
        )
    for th in rows_of(session, t.Threat, revision_id):
        by_ordinal[th.vulnerability_ordinal]["threats"].append(
            {
                "category": th.category,
                "details": th.details,
                "product_ids": th.product_ids,
                "group_ids": th.group_ids,
            }
        )
    for f in rows_of(session, t.Flag, revision_id):
        by_ordinal[f.vulnerability_ordinal]["flags"].append(
            {"label": f.label, "product_ids": f.product_ids, "group_ids": f.group_ids}
        )
    for n in rows_of(session, t.Note, revision_id):
        if n.vulnerability_ordinal is not None:
            by_ordinal[n.vulnerability_ordinal]["notes"].append(_note(n))
    return [by_ordinal[k] for k in sorted(by_ordinal)]
