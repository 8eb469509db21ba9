"""Inventory import benchmark: a 1,000,000-row synthetic inventory, against a floor measured in the same run.

Prints rows per second for the full import, its ratio to the floor and its peak memory, where
  floor  = a bare `csv.reader` pass over the same file (open, iterate every row), one process;
  target = import time <= 3 x floor (issue #3).
Each import runs in a fresh child process so its peak RSS is its own. The file is generated first
(bundled catalog, fixed seed; not timed). The machine is shared and noisy, so only ratios within
one run mean anything.

    python bench/import_inventory.py [--rows N] [--seed S] [--postgres URL] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vigil.config import load_settings
from vigil.services.inventory_generate import generate_inventory
from vigil.services.store import open_store

TARGET_RATIO = 3.0


def floor(path: Path) -> tuple[float, int]:
    """Seconds for a bare csv.reader pass over the file, and the data rows it saw."""
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        rows = sum(1 for _ in csv.reader(handle)) - 1
    return time.perf_counter() - start, rows


def raw_insert_floor(path: Path, tmp: Path) -> float:
    """Seconds to load the file's rows unprocessed into SQLite with the stdlib alone.

    csv.reader -> tuples -> sqlite3.executemany into a table with the asset table's width and its
    three indexes, first row per asset_id only: no normalisation, no ORM, no hashing. What no
    importer that stores the rows can beat; it puts the 3x target in perspective.
    """
    db = sqlite3.connect(tmp / "raw-floor.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    columns = [f"c{i}" for i in range(36)]
    db.execute(
        f"CREATE TABLE a (site_id INT, asset_id TEXT, {', '.join(c + ' TEXT' for c in columns[2:])},"
        " PRIMARY KEY (site_id, asset_id))"
    )
    db.execute("CREATE INDEX a_manufacturer ON a (site_id, c3)")
    db.execute("CREATE INDEX a_model_number ON a (site_id, c4)")
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        seen: set[str] = set()
        rows = []
        for row in reader:
            if row[0] not in seen:
                seen.add(row[0])
                rows.append((1, *row, *([None] * (35 - len(row)))))
    db.executemany(f"INSERT INTO a VALUES ({', '.join('?' * 36)})", rows)  # noqa: S608 - fixed text
    db.commit()
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def _peak_mb() -> float:
    """This process's peak resident memory in MB.

    Linux's VmHWM belongs to the address space exec() created; ru_maxrss would also carry the
    parent's peak across fork+exec (the parent holds the raw floor's rows just before).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e3  # kB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3  # bytes on macOS, KiB elsewhere


def child_import(url: str, path: Path) -> None:
    """Runs in the child: one import, then its figures as one JSON line on stdout."""
    from vigil.services.inventory_import import import_inventory  # only the child needs the importer

    store = open_store(load_settings(url))
    try:
        baseline = _peak_mb()
        start = time.perf_counter()
        report = import_inventory(store, path, site=None, mapping=None, sheet=None, dry_run=False, prune=False)
        elapsed = time.perf_counter() - start
    finally:
        store.close()
    reasons = [f"row {r.row.row_number}: {r.column}: {r.reason}" for r in report.rejections[:5]]
    figures = {
        "seconds": elapsed,
        "line": report.line,
        "rejected": len(report.rejections),
        "reasons": reasons,
        "baseline_mb": baseline,
        "peak_mb": _peak_mb(),
    }
    print(json.dumps(figures))


def run_import(url: str, path: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child-import", url, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"import failed (exit {proc.returncode}):\n{proc.stderr.strip()}")
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="also import into this PostgreSQL URL (use an empty schema)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--child-import", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        child_import(args.child_import[0], Path(args.child_import[1]))
        return

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "inventory.csv"
        start = time.perf_counter()
        stats = generate_inventory(None, 1, args.seed, path, rows=args.rows)
        generated = time.perf_counter() - start
        size = path.stat().st_size / 1e6
        print(
            f"inventory: {stats.rows} rows, {stats.assets} assets, {stats.sites} sites, {size:.1f} MB "
            f"(generated in {generated:.1f} s, {stats.rows / generated:,.0f} rows/s; not timed below)"
        )
        floor_time, seen = floor(path)
        assert seen == stats.rows, (seen, stats.rows)
        print(f"{'floor (csv.reader pass, 1 process)':<36} {floor_time:6.2f} s  {seen / floor_time:9,.0f} rows/s")
        print(f"target: import <= {TARGET_RATIO:g} x floor = {TARGET_RATIO * floor_time:.2f} s")
        raw_time = raw_insert_floor(path, Path(tmp))
        print(
            f"{'raw floor (csv -> sqlite3, no work)':<36} {raw_time:6.2f} s  {seen / raw_time:9,.0f} rows/s  "
            f"ratio to floor {raw_time / floor_time:.2f}"
        )

        figures: dict[str, Any] = {
            "rows": stats.rows,
            "assets": stats.assets,
            "generate_s": generated,
            "floor_s": floor_time,
            "raw_floor_s": raw_time,
        }
        runs = [("sqlite", f"sqlite:///{tmp}/bench.db")]
        if args.postgres:
            runs.append(("postgres", args.postgres))
        invalid = []
        for backend, url in runs:
            first = run_import(url, path)
            again = run_import(url, path)
            ratio = first["seconds"] / floor_time
            verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
            print(
                f"{'import ' + backend:<36} {first['seconds']:6.2f} s  {stats.rows / first['seconds']:9,.0f} rows/s  "
                f"ratio to floor {ratio:.2f} ({verdict} target), to raw floor {first['seconds'] / raw_time:.2f}  "
                f"peak memory {first['peak_mb']:,.0f} MB "
                f"(at start {first['baseline_mb']:,.0f} MB)  [{first['line']}]"
            )
            print(
                f"{'  re-import (all unchanged)':<36} {again['seconds']:6.2f} s  "
                f"{stats.rows / again['seconds']:9,.0f} rows/s  ratio to floor {again['seconds'] / floor_time:.2f}  "
                f"peak memory {again['peak_mb']:,.0f} MB  [{again['line']}]"
            )
            figures[backend] = {"import": first, "reimport": again, "ratio": ratio}
            invalid += [f"{backend}: {reason}" for reason in first["reasons"]]
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
        if invalid:
            sys.exit("benchmark invalid: the generated inventory had rejected rows:\n" + "\n".join(invalid))


if __name__ == "__main__":
    main()
