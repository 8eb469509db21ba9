"""Terminal rendering of one advisory (`vigil advisories show`)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def render_advisory(console: Console, a: dict[str, Any]) -> None:
    console.print(f"[bold]{a['tracking_id']}[/bold] v{a['version']} ({a['status']}), {a['title']}", markup=True)
    console.print(
        f"publisher {a['publisher']} ({a['publisher_namespace']}); released {a['initial_release_date']}, "
        f"current {a['current_release_date']}; CSAF {a['csaf_version']}; signature {a['signature']}",
        markup=False,
    )
    products = Table("product id", "vendor", "product", "version / range", "helpers", title="Products", box=None)
    for p in a["products"]:
        helpers = "; ".join(f"{h['kind']}={h['value']}" for h in p["identification_helpers"])
        version = p["product_version"] or p["product_version_range"] or ""
        products.add_row(p["product_id"], p["vendor"] or "", p["product_name"] or p["name"], version, helpers)
    console.print(products)
    if a["relationships"]:
        rels = Table("product id", "category", "component", "relates to", title="Relationships", box=None)
        for r in a["relationships"]:
            rels.add_row(r["product_id"], r["category"], r["product_reference"], r["relates_to_product_reference"])
        console.print(rels)
    for v in a["vulnerabilities"]:
        _render_vulnerability(console, v)
    if a["quality_flags"]:
        flags = Table("test", "where", "message", title="Quality flags", box=None)
        for f in a["quality_flags"]:
            flags.add_row(f["test_id"], f["instance_path"], f["message"])
        console.print(flags)
    revisions = Table("revision", "version", "current release", "sha256", "current", title="Revisions", box=None)
    for r in a["revisions"]:
        revisions.add_row(
            str(r["revision_id"]),
            r["version"],
            r["current_release_date"],
            r["sha256"][:16],
            "yes" if r["current"] else "",
        )
    console.print(revisions)


def _render_vulnerability(console: Console, v: dict[str, Any]) -> None:
    cwe = f" {v['cwe']['id']}" if v["cwe"] else ""
    console.print(f"\n[bold]{v['cve'] or '(no CVE)'}[/bold]{cwe} {v['title'] or ''}", markup=True)
    for s in v["scores"]:
        console.print(f"  CVSS {s['cvss_version']} {s['base_score']} {s['base_severity']}  {s['vector']}", markup=False)
    for status, ids in v["product_status"].items():
        console.print(f"  {status}: {', '.join(ids)}", markup=False)
    for r in v["remediations"]:
        url = f" <{r['url']}>" if r["url"] else ""
        console.print(f"  [{r['category']}] {r['details']}{url}", markup=False)
