"""`vigil inventory`: import, attach SBOMs, list, show, export, aliases, generate."""

from __future__ import annotations

import sys
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from vigil.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    DbOption,
    FormatOption,
    OutputFormat,
    QuietOption,
    err,
    fail,
    opened_store,
    out,
    print_json,
    progress_enabled,
)
from vigil.outputs.spreadsheet import write_csv, write_xlsx
from vigil.services.inventory_generate import generate_inventory
from vigil.services.inventory_import import InventoryImportReport, import_inventory
from vigil.services.inventory_read import (
    EXPORT_HEADER,
    NORMALISED_COLUMNS,
    PLAIN_COLUMNS,
    AssetNotFound,
    UnknownSite,
    alias_table,
    export_rows,
    list_assets,
    show_asset,
)
from vigil.services.inventory_sbom import attach_sbom
from vigil.services.store import Store
from vigil.sources.inventory.records import InventoryFileError

app = typer.Typer(help="Device inventory: import CMMS exports and SBOMs, list, show, export.", no_args_is_help=True)

SiteOption = Annotated[str | None, typer.Option("--site", help="Site (hospital, campus, customer).")]


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX inventory (canonical header, synonyms or a mapping).")],
    site: Annotated[
        str | None, typer.Option("--site", help="Site for rows whose site column is empty or absent.")
    ] = None,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="YAML/JSON file: column -> field.")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet (default: the first).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change; change nothing.")] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Remove the site's assets that the file no longer lists.")
    ] = False,
    db: DbOption = None,
    quiet: QuietOption = False,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Upsert a site's devices. Exit 1 if any row (or the file) was rejected; rejected rows go to FILE.rejects.csv."""
    with opened_store(db) as store:
        try:
            report = _run_import(store, file, site, mapping, sheet, dry_run, prune, quiet)
        except InventoryFileError as error:
            fail(f"{file}: {error}", EXIT_REJECTED)
    _print_import(report, output, quiet)
    raise typer.Exit(EXIT_REJECTED if report.rejections else EXIT_OK)


def _run_import(
    store: Store,
    file: Path,
    site: str | None,
    mapping: Path | None,
    sheet: str | None,
    dry_run: bool,
    prune: bool,
    quiet: bool,
) -> InventoryImportReport:
    if not progress_enabled(quiet):
        return import_inventory(store, file, site, mapping, sheet, dry_run, prune)
    columns = (SpinnerColumn(), TextColumn("reading {task.completed:,} rows"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("rows", total=None)
        return import_inventory(
            store, file, site, mapping, sheet, dry_run, prune, on_rows=lambda n: progress.update(task, completed=n)
        )


def _print_import(report: InventoryImportReport, output: OutputFormat, quiet: bool) -> None:
    if output is OutputFormat.json:
        print_json(
            {
                "file": report.file,
                "dry_run": report.dry_run,
                "added": report.added,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "missing": [{"site": s, "asset_id": a} for s, a in report.missing],
                "pruned": report.pruned,
                "rows": report.rows,
                "rows_rejected": len(report.rejections),
                "rejections": [
                    {"row": r.row.row_number, "column": r.column, "reason": r.reason} for r in report.rejections
                ],
                "rejects_file": str(report.rejects_file) if report.rejects_file else None,
            }
        )
        return
    for rejection in report.rejections:
        err.print(f"rejected: {report.file}: {rejection.line}", markup=False)
    out.print(report.line)
    if quiet:
        return
    if report.rejects_file:
        out.print(f"rejected rows written to {report.rejects_file}", markup=False)
    if report.missing:
        per_site = Counter(site for site, _ in report.missing)
        verb = "removed (--prune)" if report.pruned else "kept; --prune removes them"
        for site, count in sorted(per_site.items()):
            out.print(f"{count} assets of site {site!r} are not in this file: {verb}", markup=False)
    if report.dry_run:
        out.print("dry run: nothing was changed")


@app.command("import-sbom")
def import_sbom(
    file: Annotated[Path, typer.Argument(help="CycloneDX 1.4-1.6 JSON SBOM or HBOM.")],
    asset: Annotated[str, typer.Option("--asset", help="asset_id the BOM describes.")],
    site: Annotated[str, typer.Option("--site", help="Site of the asset.")],
    db: DbOption = None,
) -> None:
    """Attach an SBOM/HBOM to an asset: its components replace the asset's earlier SBOM components."""
    with opened_store(db) as store:
        try:
            report = attach_sbom(store, file, asset, site)
        except (InventoryFileError, AssetNotFound, UnknownSite) as error:
            fail(str(error), EXIT_REJECTED)
    for warning in report.warnings:
        err.print(f"warning: {file}: {warning}", markup=False)
    out.print(
        f"asset {report.asset_id} ({report.site}): {report.installed} installed products from CycloneDX "
        f"{report.spec_version}",
        markup=False,
    )


@app.command("list")
def list_(
    site: SiteOption = None,
    output: Annotated[ListFormat, typer.Option("--format", help="table, json or csv.")] = ListFormat.table,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many assets.")] = None,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many first.")] = 0,
    db: DbOption = None,
) -> None:
    """Assets with their installed products."""
    with opened_store(db) as store:
        if output is ListFormat.csv:
            try:
                write_csv(sys.stdout, EXPORT_HEADER, export_rows(store, site))
            except UnknownSite as error:
                fail(str(error), EXIT_REJECTED)
            return
        try:
            assets = list_assets(store, site, limit, offset)
        except UnknownSite as error:
            fail(str(error), EXIT_REJECTED)
    if output is ListFormat.json:
        print_json(assets)
        return
    table = Table("site", "asset id", "manufacturer", "model", "model number", "firmware", "installed", box=None)
    for a in assets:
        installed = "; ".join(f"{p['name']} {p['version'] or ''}".strip() for p in a["installed_products"])
        table.add_row(
            a["site"],
            a["asset_id"],
            a["manufacturer"] or "",
            a["model"] or "",
            a["model_number"] or "",
            a["firmware_version"] or "",
            installed,
        )
    out.print(table)
    out.print(f"{len(assets)} assets")


@app.command("show")
def show(
    asset_id: Annotated[str, typer.Argument(metavar="ASSET_ID")],
    site: SiteOption = None,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """One asset: identity (raw and normalised), clinical attributes, installed products, SBOM."""
    with opened_store(db) as store:
        try:
            asset = show_asset(store, asset_id, site)
        except AssetNotFound as error:
            fail(str(error), EXIT_REJECTED)
    if output is OutputFormat.json:
        print_json(asset)
        return
    fields = Table("field", "value", "as written", box=None, title=f"{asset['asset_id']} ({asset['site']})")
    for key in NORMALISED_COLUMNS:
        fields.add_row(key, str(asset[key] or ""), str(asset[f"{key}_raw"] or ""))
    for key in PLAIN_COLUMNS:
        fields.add_row(key, "" if asset[key] is None else str(asset[key]), "")
    for key, value in asset["extra"].items():
        fields.add_row(key, str(value), "(uninterpreted column)")
    out.print(fields)
    products = Table("origin", "vendor", "name", "version", "as written", title="Installed products", box=None)
    for p in asset["installed_products"]:
        written = " / ".join(str(x) for x in (p["vendor_raw"], p["name_raw"], p["version_raw"]) if x)
        products.add_row(p["origin"], p["vendor"] or "", p["name"], p["version"] or "", written)
    out.print(products)
    if asset["sbom"]:
        s = asset["sbom"]
        out.print(f"SBOM: CycloneDX {s['spec_version']} {s['serial_number'] or ''} from {s['source']}", markup=False)


@app.command("export")
def export(
    output: Annotated[ExportFormat, typer.Option("--format", help="csv or xlsx.")] = ExportFormat.csv,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="File to write (CSV: default standard output).")
    ] = None,
    site: SiteOption = None,
    db: DbOption = None,
) -> None:
    """The inventory under the canonical header; cells that look like formulas are neutralised."""
    if output is ExportFormat.xlsx and out_file is None:
        fail("--format xlsx needs --out FILE")
    with opened_store(db) as store:
        try:
            rows = export_rows(store, site)
            if output is ExportFormat.xlsx:
                assert out_file is not None
                count = write_xlsx(out_file, EXPORT_HEADER, rows, "inventory")
            elif out_file is None:
                count = write_csv(sys.stdout, EXPORT_HEADER, rows)
            else:
                with out_file.open("w", newline="", encoding="utf-8") as handle:
                    count = write_csv(handle, EXPORT_HEADER, rows)
        except UnknownSite as error:
            fail(str(error), EXIT_REJECTED)
        except OSError as error:
            fail(f"{out_file}: cannot write: {error.strerror or error}", EXIT_REJECTED)
    if out_file is not None:
        err.print(f"wrote {count} rows to {out_file}", markup=False)


@app.command("aliases")
def aliases(output: FormatOption = OutputFormat.table) -> None:
    """The manufacturer alias table in use (edit the YAML it names, or set VIGIL_MANUFACTURER_ALIASES)."""
    table_data = alias_table()
    if output is OutputFormat.json:
        print_json(table_data)
        return
    table = Table("manufacturer", "aliases", box=None, title=table_data["source"])
    for name, names in table_data["manufacturers"].items():
        table.add_row(name, ", ".join(names))
    out.print(table)


@app.command("generate")
def generate(
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    assets: Annotated[int, typer.Option("--assets", min=1, help="Number of devices.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same file.")] = 1,
    rows: Annotated[int | None, typer.Option("--rows", min=1, help="Stop after this many rows instead.")] = None,
    db: DbOption = None,
) -> None:
    """A realistic synthetic hospital inventory, from the advisories in the store (or a bundled catalog)."""
    with opened_store(db) as store:
        stats = generate_inventory(store, assets, seed, out_file, rows=rows)
    out.print(f"wrote {stats.rows} rows, {stats.assets} assets, {stats.sites} sites to {out_file}", markup=False)
