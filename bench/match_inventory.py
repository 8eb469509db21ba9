"""Matching benchmark (issue #4): the whole CISA corpus against 1,000,000 installed-product rows.

Per database (SQLite, and PostgreSQL when reachable):
  1. import the corpus and generate + import an inventory of N rows drawn from it (set-up, not targeted);
  2. floor       = a plain scan of the same asset and installed-product rows from the same database
                   (the very queries the matcher streams, every row fetched, nothing done with it);
  3. full        = `vigil match --full` on the empty findings table (evaluates and writes every finding);
     full again  = the same with everything already stored (evaluation cost alone);
  4. incremental = import one new advisory and `vigil match`: the corpus's newest document (first line of
                   changes.csv, held out of step 1), then Philips' own IPMI advisory, whose vendor scope
                   supersedes CISA's copy on every Workspot asset (the heavy case: it rewrites those findings).
Targets: full <= 60 s and <= 3 x floor; incremental <= 1 s; peak memory <= 2 GB. Every timed phase runs
in a fresh child process, so its peak RSS (VmHWM) is its own. The machine is shared and noisy: only
ratios within one run mean anything.

    python bench/match_inventory.py [--rows N] [--corpus DIR] [--no-postgres] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from vigil.config import load_settings
from vigil.services.advisory_import import import_candidates
from vigil.services.inventory_generate import generate_inventory
from vigil.services.inventory_import import import_inventory
from vigil.services.store import open_store
from vigil.sources.csaf.files import discover

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "cisa-csaf" / "csaf_files"
VENDOR = ROOT / "demo" / "vendor-advisories" / "philips-2021-01-14-interventional-ipmi.json"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_FULL_S, TARGET_RATIO, TARGET_INCREMENTAL_S, TARGET_PEAK_MB = 60.0, 3.0, 1.0, 2000.0


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1e3
    return float("nan")


# --- children ----------------------------------------------------------------------------------------------


def child(phase: str, url: str) -> None:
    """One timed phase in this (fresh) process; figures as one JSON line on stdout."""
    from vigil.services.matching import run_match
    from vigil.store.inventory import all_sites
    from vigil.store.matching_queries import scan_rows

    store = open_store(load_settings(url))
    try:
        figures: dict[str, Any] = {}
        start = time.perf_counter()
        if phase == "floor":
            with store.sessions() as session:
                figures["rows"] = sum(1 for site_id, _ in all_sites(session) for _ in scan_rows(session, site_id))
        elif phase == "write-floor":
            figures["rows"], figures["copy_seconds"] = write_floor(store)
        else:
            report = run_match(store, full=phase == "full")
            figures["line"] = report.line
            figures["assets"] = sum(site.assets for site in report.sites)
            figures["open"] = sum(site.open_findings or 0 for site in report.sites)
        figures["seconds"] = time.perf_counter() - start
        figures["peak_mb"] = _peak_mb()
    finally:
        store.close()
    print(json.dumps(figures))


def write_floor(store: Any) -> tuple[int, float]:
    """Copy every finding row into an empty twin of the table (same indexes) inside the database: no Python
    per row at all. The least any matcher that stores these findings must spend writing them."""
    from sqlalchemy import text

    with store.engine.begin() as connection:
        connection.execute(text("CREATE TABLE finding_floor AS SELECT * FROM finding WHERE 1 = 0"))
        for name, columns in (
            ("ff_pk", "site_id, id"),
            ("ff_key", "site_id, asset_id, advisory_id, vulnerability_key"),
            ("ff_advisory", "site_id, advisory_id"),
            ("ff_cve", "site_id, cve"),
        ):
            connection.execute(text(f"CREATE INDEX {name} ON finding_floor ({columns})"))
    start = time.perf_counter()
    with store.engine.begin() as connection:
        rows = connection.execute(text("INSERT INTO finding_floor SELECT * FROM finding")).rowcount
    elapsed = time.perf_counter() - start
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE finding_floor"))
    return int(rows), elapsed


def run_child(phase: str, url: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", phase, url], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"{phase} failed (exit {proc.returncode}):\n{proc.stderr.strip()}")
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return figures


# --- set-up ------------------------------------------------------------------------------------------------


@contextmanager
def databases(tmp: Path, postgres: bool) -> Iterator[list[tuple[str, str]]]:
    runs = [("sqlite", f"sqlite:///{tmp}/bench.db")]
    schema = f"vigil_bench_{uuid.uuid4().hex[:10]}"
    created = False
    if postgres:
        try:
            with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            created = True
            runs.append(("postgresql", f"{PG_URL}?options=-csearch_path%3D{schema}"))
        except psycopg.Error as error:
            print(f"PostgreSQL skipped: {str(error).strip().splitlines()[0]}")
    try:
        yield runs
    finally:
        if created:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def newest(corpus: Path) -> Path:
    """The corpus's newest document: the first line of its changes.csv (newest first, as CSAF providers list)."""
    first = (corpus / "OT" / "white" / "changes.csv").read_text(encoding="utf-8").splitlines()[0]
    return corpus.parent / first.split(",")[0]


def set_up(url: str, corpus: Path, rows: int, inventory: Path, held_out: Path) -> dict[str, Any]:
    store = open_store(load_settings(url))
    try:
        start = time.perf_counter()
        # Advisories sit in year folders; the ROLIE feeds beside them are not advisories.
        files = [p for p in sorted(corpus.rglob("*.json")) if p.parent.name.isdigit() and p != held_out]
        summary = import_candidates(store, discover(files, store.settings.max_document_bytes))
        imported = time.perf_counter() - start
        if not inventory.exists():
            generate_inventory(store, 1, 1, inventory, rows=rows)
        start = time.perf_counter()
        report = import_inventory(store, inventory)
        loaded = time.perf_counter() - start
    finally:
        store.close()
    return {"advisories": summary.line, "advisories_s": imported, "inventory": report.line, "inventory_s": loaded}


def add_advisory(url: str, path: Path) -> str:
    store = open_store(load_settings(url))
    try:
        return import_candidates(store, discover([path], store.settings.max_document_bytes), workers=1).line
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--child", nargs=2, metavar=("PHASE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows in a log file too
    if not args.corpus.is_dir():
        print(f"match benchmark skipped: the CISA corpus is not at {args.corpus} (it lives in ../shared)")
        return
    results: dict[str, Any] = {"rows": args.rows}
    with tempfile.TemporaryDirectory() as tmp, databases(Path(tmp), not args.no_postgres) as runs:
        inventory = Path(tmp) / "inventory.csv"
        held_out = newest(args.corpus)
        for backend, url in runs:
            setup = set_up(url, args.corpus, args.rows, inventory, held_out)
            print(
                f"{backend}: corpus {setup['advisories']} in {setup['advisories_s']:.1f} s; "
                f"inventory {setup['inventory']} in {setup['inventory_s']:.1f} s (set-up, not targeted)"
            )
            run_child("floor", url)  # warm the caches once, so the floor is not charged for a cold read
            floor = run_child("floor", url)
            full = run_child("full", url)
            write = run_child("write-floor", url)
            again = run_child("full", url)
            added = add_advisory(url, held_out)
            incremental = run_child("incremental", url)
            vendor_added = add_advisory(url, VENDOR)
            vendor = run_child("incremental", url)
            ratio = full["seconds"] / floor["seconds"]
            print(f"  floor (plain scan of {floor['rows']:,} rows)      {floor['seconds']:7.2f} s")
            _line("full match (writes every finding)", full, floor["seconds"], TARGET_FULL_S)
            print(
                f"  write floor: copying the {write['rows']:,} finding rows in the database, no Python per row: "
                f"{write['copy_seconds']:.2f} s ({write['copy_seconds'] / floor['seconds']:.2f} x the floor)"
            )
            _line("full match again (all unchanged)", again, floor["seconds"], TARGET_FULL_S)
            print(f"  new advisory {held_out.name}: {added}")
            _line("incremental match", incremental, floor["seconds"], TARGET_INCREMENTAL_S)
            print(f"  new vendor advisory {VENDOR.name}: {vendor_added}")
            _line("incremental match (vendor scope)", vendor, floor["seconds"], TARGET_INCREMENTAL_S)
            results[backend] = {
                **setup,
                "floor": floor,
                "full": full,
                "full_again": again,
                "write_floor": write,
                "incremental": incremental,
                "incremental_vendor": vendor,
                "ratio": ratio,
            }
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def _line(label: str, figures: dict[str, Any], floor_s: float, target_s: float) -> None:
    ratio = figures["seconds"] / floor_s
    meets = figures["seconds"] <= target_s and figures["peak_mb"] <= TARGET_PEAK_MB
    ratio_note = f"ratio to floor {ratio:5.2f} ({'meets' if ratio <= TARGET_RATIO else 'MISSES'} {TARGET_RATIO:g}x)"
    print(
        f"  {label:<36} {figures['seconds']:7.2f} s  {ratio_note}  peak {figures['peak_mb']:,.0f} MB  "
        f"{'meets' if meets else 'MISSES'} {target_s:g} s / {TARGET_PEAK_MB:,.0f} MB  "
        f"[{figures['assets']:,} assets; {figures['line']}]"
    )


if __name__ == "__main__":
    main()
