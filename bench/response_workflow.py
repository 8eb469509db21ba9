"""Response workflow benchmark (issue 5): every use case of the workflow on one large site, each against a floor
measured in the same run.

Set-up (timed, not compared): import demo/advisories and demo/vendor-advisories, generate a synthetic inventory
of `--assets` devices drawn from them, import it, match. Then, on the site with the most open findings:

  floor_scan         a plain SELECT of the site's open findings (id, asset_id, advisory_id, cve, status,
                     response_status, product_ids), streamed through a Core connection, nothing done per row;
  priorities         list_priorities for the site                                     (ratio to floor_scan);
  actions sync 1/2   sync_actions creating every item, then again with nothing to change (ratio to floor_scan);
  actions list       list_actions for the whole site (sync + every item read)          (ratio to floor_scan);
  decision           add_decision for the (manufacturer, model, CVE) with the most affected devices
                     (ratio to update_floor: one plain UPDATE of those rows' response_status, one transaction);
  set_status x N     N single changes, one transaction each
                     (ratio to n_update_floor: N single-row UPDATE transactions on the same rows);
  expiry sweep       the same N findings risk_accepted with a past expiry (via set_status), then expire_due
                                                                                      (ratio to n_update_floor);
  report html        generate_report (build + render + audit entry)                    (ratio to floor_scan);
  vex csaf           export_vex in CSAF                                                (ratio to floor_scan).

Each floor is the best of three runs (they are short, and noise only ever adds); each phase runs once. Peak
RSS is the process's high-water mark after each phase (one process: it only grows). The machine is shared and
noisy: only ratios within one run mean anything.

    python bench/response_workflow.py [--assets 100000] [--changes 500] [--postgres URL] [--analyze] [--json FILE]

`--postgres URL` runs the same on PostgreSQL too, in a fresh schema of that database, dropped afterwards.
`--analyze` runs ANALYZE on vigil's tables after the set-up, as autovacuum would in time on a production server:
vigil itself never does, and without statistics PostgreSQL plans some site-scoped IN-list reads badly.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import and_, func, select, update

from vigil.config import load_settings
from vigil.response.states import (
    AFFECTED,
    MITIGATED,
    REMEDIATION_SCHEDULED,
    RISK_ACCEPTED,
    Evidence,
    StatusChange,
)
from vigil.services.actions import ActionQuery, list_actions, sync_actions
from vigil.services.advisory_import import import_candidates
from vigil.services.decisions import DecisionRequest, add_decision
from vigil.services.inventory_generate import generate_inventory
from vigil.services.inventory_import import import_inventory
from vigil.services.matching import run_match
from vigil.services.priorities import PriorityQuery, list_priorities
from vigil.services.reports import ReportQuery, generate_report
from vigil.services.response import expire_due, set_status
from vigil.services.store import Store, open_store
from vigil.services.vex import VexExportRequest, export_vex
from vigil.sources.csaf.files import discover
from vigil.store import schema as t
from vigil.store.db import transaction
from vigil.store.decision_queries import OVERRIDABLE_SOURCES
from vigil.store.inventory import all_sites

ROOT = Path(__file__).resolve().parents[1]
ADVISORIES = (ROOT / "demo" / "advisories", ROOT / "demo" / "vendor-advisories")
ACTOR = "bench"
FLOOR_RUNS = 3
CHUNK = 500
"""Ids per IN list in the floors (SQLite's bound-parameter limit is the reason, as in the store modules)."""
F, A = t.Finding, t.Asset


@dataclass(frozen=True)
class Phase:
    """One timed line of the summary table."""

    name: str
    """What was timed."""
    seconds: float
    """Wall-clock time."""
    rows: int
    """Rows, items, devices or findings it handled (the line says which)."""
    floor: str | None
    """The floor it is compared with; None for floors themselves."""
    ratio: float | None
    """seconds / the floor's seconds."""
    peak_mib: float
    """Process peak RSS after the phase."""


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


@contextmanager
def timed() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: end[0] - start
    end.append(time.perf_counter())


class Run:
    """The phases of one database, in order, with their floors."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.phases: list[Phase] = []
        self.floors: dict[str, float] = {}

    def add(self, name: str, seconds: float, rows: int, floor: str | None = None, note: str = "") -> None:
        if floor is None:
            self.floors[name] = seconds
        ratio = seconds / self.floors[floor] if floor else None
        phase = Phase(name, seconds, rows, floor, ratio, peak_mib())
        self.phases.append(phase)
        against = f"  {ratio:7.2f} x {floor}" if ratio is not None else "  (floor)"
        print(f"  {name:<34} {seconds:8.2f} s  {rows:>9,} rows{against}  peak {phase.peak_mib:,.0f} MiB{note}")


# --- set-up --------------------------------------------------------------------------------------------------


def set_up(store: Store, inventory: Path, assets: int, seed: int, workers: int) -> None:
    with timed() as took:
        summary = import_candidates(store, discover(ADVISORIES, store.settings.max_document_bytes), workers=workers)
    print(f"  advisories: {summary.line} in {took():.1f} s")
    if not inventory.exists():  # one file for every database: same catalog, same seed
        with timed() as took:
            stats = generate_inventory(store, assets, seed, inventory)
        print(f"  inventory generated: {stats.line} in {took():.1f} s")
    with timed() as took:
        report = import_inventory(store, inventory)
    print(f"  inventory import: {report.line} in {took():.1f} s")
    with timed() as took:
        matched = run_match(store)
    print(f"  match: {matched.line} in {took():.1f} s")


def largest_site(store: Store) -> tuple[int, str, int]:
    """(site id, name, open findings) of the site with the most open findings, counted one site at a time."""
    counts = []
    with store.sessions() as session:
        for site_id, name in all_sites(session):
            query = select(func.count()).where(F.site_id == site_id, F.closed_at.is_(None))
            counts.append((session.scalar(query) or 0, site_id, name))
    found, site_id, name = max(counts)
    return site_id, name, found


def analyze(store: Store) -> None:
    """Table statistics for the planner, vigil's tables only (a shared PostgreSQL holds other schemas too)."""
    with timed() as took, store.engine.begin() as connection:
        for table in t.Base.metadata.sorted_tables:
            connection.exec_driver_sql(f'ANALYZE "{table.name}"')
    print(f"  ANALYZE of {len(t.Base.metadata.sorted_tables)} tables in {took():.1f} s")


# --- floors --------------------------------------------------------------------------------------------------


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The shortest of `repeats` runs, in seconds."""
    times = []
    for _ in range(repeats):
        with timed() as took:
            work()
        times.append(took())
    return min(times)


def floor_scan(store: Store, site_id: int) -> int:
    query = select(F.id, F.asset_id, F.advisory_id, F.cve, F.status, F.response_status, F.product_ids).where(
        F.site_id == site_id, F.closed_at.is_(None)
    )
    with store.engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=2000).execute(query)
        return sum(1 for _ in result)


def update_floor(store: Store, site_id: int, ids: list[int], status: str) -> None:
    """One transaction: the rows' response_status rewritten (to the value it has), CHUNK ids per statement."""
    with store.engine.begin() as connection:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            connection.execute(update(F).where(F.site_id == site_id, F.id.in_(chunk)).values(response_status=status))


def n_update_floor(store: Store, site_id: int, ids: list[int], status: str) -> None:
    """One transaction per row: the least a status change that commits on its own can cost."""
    for finding_id in ids:
        with store.engine.begin() as connection:
            connection.execute(update(F).where(F.site_id == site_id, F.id == finding_id).values(response_status=status))


def item_count(store: Store, site_id: int) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).where(t.ActionItem.site_id == site_id)) or 0


# --- what the phases work on ---------------------------------------------------------------------------------


def decision_target(store: Store, site_id: int) -> tuple[str, str, str, list[int]]:
    """(manufacturer, model, CVE) with the most affected devices a decision may set, and those findings' ids."""
    affected = and_(
        F.site_id == site_id,
        F.closed_at.is_(None),
        F.prevailing.is_(True),
        F.response_status == AFFECTED,
        F.response_source.in_(OVERRIDABLE_SOURCES),
        F.cve.is_not(None),
    )
    joined = and_(A.site_id == F.site_id, A.asset_id == F.asset_id, A.manufacturer.is_not(None), A.model.is_not(None))
    devices = func.count(F.asset_id.distinct())
    top = (
        select(A.manufacturer, A.model, F.cve)
        .join(A, joined)
        .where(affected)
        .group_by(A.manufacturer, A.model, F.cve)
        .order_by(devices.desc(), A.manufacturer, A.model, F.cve)
        .limit(1)
    )
    with store.sessions() as session:
        row = session.execute(top).one()
        ids = session.scalars(
            select(F.id)
            .join(A, joined)
            .where(affected, A.manufacturer == row[0], A.model == row[1], F.cve == row[2])
            .order_by(F.id)
        ).all()
    return str(row[0]), str(row[1]), str(row[2]), list(ids)


def single_targets(store: Store, site_id: int, count: int, taken: set[int]) -> list[int]:
    """`count` affected findings a person may change (confirmed or certain matches) outside the decision's."""
    query = (
        select(F.id)
        .where(
            F.site_id == site_id,
            F.closed_at.is_(None),
            F.response_status == AFFECTED,
            F.match != "possible",
        )
        .order_by(F.id)
    )
    with store.sessions() as session:
        ids = [fid for fid in session.scalars(query) if fid not in taken]
    if len(ids) < count:
        sys.exit(f"benchmark invalid: only {len(ids)} affected findings for --changes {count}; use more --assets")
    step = len(ids) // count  # spread over the site rather than its first devices
    return ids[::step][:count]


# --- one database --------------------------------------------------------------------------------------------


def run(backend: str, url: str, inventory: Path, args: argparse.Namespace) -> Run:
    print(f"{backend}")
    result = Run(backend)
    store = open_store(load_settings(url))
    try:
        set_up(store, inventory, args.assets, args.seed, args.workers)
        if args.analyze:
            analyze(store)
        site_id, site, open_count = largest_site(store)
        print(f"  largest site: {site!r} with {open_count:,} open findings")
        phases(store, site_id, site, args.changes, result)
    finally:
        store.close()
    return result


def phases(store: Store, site_id: int, site: str, changes: int, result: Run) -> None:
    rows = floor_scan(store, site_id)  # also warms the caches: no floor is charged for a cold read
    result.add("floor_scan", best_of(FLOOR_RUNS, lambda: floor_scan(store, site_id)), rows)

    with timed() as took:
        priorities = list_priorities(store, PriorityQuery(site=site))
    result.add("priorities", took(), len(priorities), "floor_scan")
    del priorities

    now = datetime.now(UTC)
    for label in ("actions sync (first: creates)", "actions sync (again: no change)"):
        with timed() as took, transaction(store.sessions) as session:
            counts = sync_actions(session, site_id, now)
        result.add(label, took(), item_count(store, site_id), "floor_scan", f"  items {dict(counts) or 'unchanged'}")
    with timed() as took:
        items = list_actions(store, ActionQuery(site=site, states=("open", "done", "void")))
    result.add("actions list (site, every item)", took(), len(items), "floor_scan")
    del items

    manufacturer, model, cve, decided = decision_target(store, site_id)
    result.add(
        "update_floor", best_of(FLOOR_RUNS, lambda: update_floor(store, site_id, decided, AFFECTED)), len(decided)
    )
    request = DecisionRequest(
        site,
        StatusChange(REMEDIATION_SCHEDULED, fco_number="FCO-BENCH-1", planned_date=date.today() + timedelta(30)),
        manufacturer,
        model,
        cve=cve,
    )
    with timed() as took:
        _, applied = add_decision(store, request, ACTOR)
    note = f"  {manufacturer} {model} {cve}: refused {len(applied.refused)}, unchanged {len(applied.unchanged)}"
    result.add("decision (add_decision)", took(), len(applied.applied), "update_floor", note)

    singles = single_targets(store, site_id, changes, set(decided))
    seconds = best_of(FLOOR_RUNS, lambda: n_update_floor(store, site_id, singles, AFFECTED))
    result.add("n_update_floor", seconds, len(singles))
    mitigate = StatusChange(MITIGATED, evidence=(Evidence("text", "IPMI password changed (bench)"),))
    with timed() as took:
        for finding_id in singles:
            set_status(store, site, finding_id, mitigate, ACTOR)
    result.add(f"set_status x {len(singles)}", took(), len(singles), "n_update_floor")

    past = datetime.now(UTC) - timedelta(days=1)
    accept = StatusChange(RISK_ACCEPTED, owner="CISO (bench)", reason="bench", expires_at=past)
    with timed() as took:
        for finding_id in singles:
            set_status(store, site, finding_id, accept, ACTOR)
    result.add(f"set_status x {len(singles)} (risk_accepted)", took(), len(singles), "n_update_floor")
    with timed() as took:
        expired = expire_due(store)
    result.add("expiry sweep (expire_due)", took(), expired, "n_update_floor")
    if expired != len(singles):
        sys.exit(f"benchmark invalid: expire_due reopened {expired} findings, not {len(singles)}")

    with timed() as took:
        report, content = generate_report(store, ReportQuery(site=site), "html", ACTOR)
    note = f"  {len(content) / 1e6:.1f} MB, {report.devices:,} devices, {len(report.overdue):,} overdue"
    result.add("report html (build + render)", took(), sum(x.findings for x in report.totals), "floor_scan", note)
    del report, content

    with timed() as took:
        vex = export_vex(store, VexExportRequest(site=site, format="csaf"), ACTOR)
    note = f"  {len(vex.content) / 1e6:.1f} MB, {vex.devices:,} devices"
    result.add("vex csaf export", took(), vex.statements, "floor_scan", note)


# --- databases -----------------------------------------------------------------------------------------------


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema in the database `url` names, dropped afterwards (as tests/conftest.py does)."""
    schema = f"vigil_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def summary(runs: list[Run], assets: int, analyzed: bool) -> None:
    stats = "tables ANALYZEd after set-up" if analyzed else "no ANALYZE"
    print(f"\nsummary ({assets:,} assets, {stats}; ratio = seconds / the floor named, same run, same database)")
    print(f"{'database':<11} {'phase':<36} {'seconds':>9} {'rows':>10} {'ratio':>8}  floor")
    for result in runs:
        for p in result.phases:
            ratio = f"{p.ratio:8.2f}" if p.ratio is not None else f"{'-':>8}"
            print(f"{result.backend:<11} {p.name:<36} {p.seconds:9.2f} {p.rows:>10,} {ratio}  {p.floor or '(floor)'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100_000, help="synthetic devices (all sites)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--changes", type=int, default=500, help="N single status changes and acceptances")
    parser.add_argument("--workers", type=int, default=2, help="advisory import reader processes")
    parser.add_argument("--postgres", help="also run on PostgreSQL, in a fresh schema of this database")
    parser.add_argument("--analyze", action="store_true", help="ANALYZE vigil's tables after the set-up")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows in a log file too
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        inventory = Path(tmp) / "inventory.csv"
        runs.append(run("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", inventory, args))
        if args.postgres:
            with postgres_schema(args.postgres) as url:
                runs.append(run("postgresql", url, inventory, args))
    summary(runs, args.assets, args.analyze)
    if args.json:
        figures: dict[str, Any] = {"assets": args.assets, "changes": args.changes, "analyze": args.analyze}
        figures.update({r.backend: [asdict(p) for p in r.phases] for r in runs})
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
