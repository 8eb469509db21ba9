"""Import benchmark on the whole shared CISA corpus, against floors measured in the same run.

Prints documents per second for the full import and its ratio to the floor, where
  floor     = read + parse + schema-validate every file, nothing stored (one process);
  mandatory = the extra cost of the CSAF mandatory tests on top of the floor;
  target    = import time <= 2 x floor + mandatory   (issue #2).
The machine is shared and noisy, so only ratios within one run mean anything.

    python bench/import_corpus.py [--corpus DIR] [--postgres URL] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import csaf
import csaf.csaf.v20
import orjson

from vigil.config import load_settings
from vigil.services.advisory_import import import_candidates
from vigil.services.store import open_store
from vigil.sources.csaf.files import discover
from vigil.sources.csaf.parallel import default_workers

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "cisa-csaf"
VALIDATORS = {"2.0": csaf.csaf.v20.validate, "2.1": csaf.validate}


def advisory_files(corpus: Path) -> list[Path]:
    files = sorted(p for p in corpus.rglob("*.json") if "feed" not in p.name)
    return files


def floor(files: list[Path], preset: str) -> float:
    """Seconds to read, parse and validate (schema only, or schema + mandatory) every file."""
    start = time.perf_counter()
    for path in files:
        doc = orjson.loads(path.read_bytes())
        report = VALIDATORS[doc["document"]["csaf_version"]](doc, preset=preset)
        assert report.results[0].passed, path
    return time.perf_counter() - start


def full_import(corpus: Path, url: str, workers: int) -> tuple[float, str]:
    store = open_store(load_settings(url))
    try:
        start = time.perf_counter()
        summary = import_candidates(store, discover([corpus], store.settings.max_document_bytes), workers=workers)
        elapsed = time.perf_counter() - start
    finally:
        store.close()
    if summary.rejected:
        sys.exit(f"benchmark invalid: {summary.line}")
    return elapsed, summary.line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--postgres", help="also import into this PostgreSQL URL (use an empty schema)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    if not (args.corpus / "csaf_files").is_dir():
        print(f"skipped: shared CISA corpus not found at {args.corpus} (CI and developer machines have ../shared)")
        return

    files = advisory_files(args.corpus)
    n = len(files)
    print(f"corpus: {n} documents, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB")
    floor_time = floor(files, "schema")
    basic_time = floor(files, "basic")
    mandatory = max(0.0, basic_time - floor_time)
    target = 2 * floor_time + mandatory
    print(f"floor (read+parse+schema, 1 process):   {floor_time:6.1f} s  {n / floor_time:6.0f} docs/s")
    print(f"+ mandatory tests (1 process):           {basic_time:6.1f} s  (mandatory cost {mandatory:.1f} s)")
    print(f"target: import <= 2 x floor + mandatory = {target:.1f} s")

    figures: dict[str, object] = {
        "documents": n,
        "floor_s": floor_time,
        "mandatory_s": mandatory,
        "target_s": target,
    }
    runs = [("sqlite", args.workers), ("sqlite", 1)]
    if args.postgres:
        runs.append(("postgres", args.workers))
    for backend, workers in runs:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.postgres if backend == "postgres" else f"sqlite:///{tmp}/bench.db"
            elapsed, line = full_import(args.corpus, url, workers)
            again, line2 = full_import(args.corpus, url, workers)
        ratio = elapsed / floor_time
        verdict = "meets" if elapsed <= target else "MISSES"
        label = f"import {backend}, {workers} worker{'s' if workers > 1 else ''}"
        print(
            f"{label:<34} {elapsed:6.1f} s  {n / elapsed:6.0f} docs/s  ratio to floor {ratio:.2f}  "
            f"({verdict} target)  [{line}]"
        )
        print(f"{'  re-import (all unchanged)':<34} {again:6.1f} s  ratio to floor {again / floor_time:.2f}  [{line2}]")
        figures[f"{backend}_{workers}w"] = {"import_s": elapsed, "ratio": ratio, "reimport_s": again}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
