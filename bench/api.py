"""API benchmark (issue #6): the filtered findings list and the device page under 20 concurrent clients.

  1. set-up (not timed, cached): a SQLite database under build/ with the bundled advisories, an inventory of
     N generated devices (`vigil inventory generate`, then the ordinary import) and a match run. A cached file
     from an earlier run with the same N is reused: building 1,000,000 devices takes a while;
  2. `vigil serve` on a free loopback port, an API token for an analyst who sees every site;
  3. 20 clients for 30 s (`wrk`, Debian's C load generator, when installed: it takes far less CPU from the
     server than a Python client on the same cores; else httpx, async), each request one of:
       findings  GET /api/v1/findings?site=S&response_status=affected&match=exact&limit=50, from a random point
                 of the site's keyset (the cursor of a random finding id: any page costs the same);
       device    GET /api/v1/assets/{id}?site=S and GET /api/v1/findings?site=S&asset_id={id} (what the
                 device page shows), for a random device;
  4. p50/p95/p99 per kind and overall, requests per second, errors (any non-2xx or transport error).
Target: p95 <= 100 ms, 0 errors. Traffic goes to 127.0.0.1 only.

    python bench/api.py [--devices 1000000] [--clients 20] [--seconds 30] [--workers 2] [--threads 2]
                        [--load wrk|python] [--rebuild] [--json FILE]

wrk reports one latency distribution over the mix (a third each of findings pages, devices and device
findings); the python client reports each kind too.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from vigil.config import load_settings
from vigil.services import users
from vigil.services.store import open_store

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
VIGIL = [sys.executable, "-m", "vigil"]
WRK_SCRIPT = Path(__file__).with_name("api_wrk.lua")
TARGET_P95_MS = 100.0


def run(*args: str, env: dict[str, str]) -> None:
    started = time.perf_counter()
    subprocess.run([*VIGIL, *args], check=True, env=env, stdout=subprocess.DEVNULL)
    print(f"  vigil {' '.join(args[:2])}: {time.perf_counter() - started:.1f} s", flush=True)


def build(devices: int, rebuild: bool) -> Path:
    """The cached benchmark database for `devices` devices (built when missing)."""
    BUILD.mkdir(exist_ok=True)
    database = BUILD / f"bench-api-{devices}.db"
    if database.exists() and not rebuild:
        print(f"reusing {database}", flush=True)
        return database
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    partial = BUILD / f"bench-api-{devices}.partial.db"
    env = {**os.environ, "VIGIL_DATABASE_URL": f"sqlite:///{partial}"}
    csv = BUILD / f"bench-api-{devices}.csv"
    print(f"building {database} ({devices} devices)", flush=True)
    run(
        "advisories",
        "import",
        "--quiet",
        str(ROOT / "demo" / "advisories"),
        str(ROOT / "demo" / "vendor-advisories"),
        env=env,
    )
    run("inventory", "generate", "--assets", str(devices), "--seed", "7", "--out", str(csv), env=env)
    run("inventory", "import", "--quiet", str(csv), env=env)
    run("match", env=env)
    with sqlite3.connect(partial) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial.replace(database)
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    csv.unlink(missing_ok=True)
    return database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def token_for(url: str) -> str:
    store = open_store(load_settings(url))
    try:
        name = f"bench-{int(time.time())}"
        users.add_user(store, name, "analyst", None, "bench")
        users.grant(store, name, None, "bench")
        return users.create_token(store, name, "bench", None, "bench").token
    finally:
        store.close()


def samples(database: Path) -> tuple[list[tuple[int, str]], dict[int, tuple[int, int]], list[tuple[str, str]]]:
    """Sites (id, name), each site's finding id range, and a sample of (site, asset id) to ask for."""
    with sqlite3.connect(database) as connection:
        sites = list(connection.execute("SELECT id, name FROM site ORDER BY id"))
        ranges = {
            site_id: (low, high)
            for site_id, low, high in connection.execute(
                "SELECT site_id, min(id), max(id) FROM finding GROUP BY site_id"
            )
        }
        names = dict(sites)
        assets = [
            (names[site_id], asset_id)
            for site_id, asset_id in connection.execute(
                "SELECT site_id, asset_id FROM asset WHERE rowid % 97 = 0 LIMIT 20000"
            )
        ]
    return [s for s in sites if s[0] in ranges], ranges, assets


def cursor(site_id: int, after_id: int) -> str:
    raw = json.dumps([site_id, after_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def client_loop(
    client: httpx.AsyncClient,
    until: float,
    rng: random.Random,
    sites: list[tuple[int, str]],
    ranges: dict[int, tuple[int, int]],
    assets: list[tuple[str, str]],
    timings: dict[str, list[float]],
    errors: list[str],
) -> None:
    while time.perf_counter() < until:
        if rng.random() < 0.5:
            site_id, name = rng.choice(sites)
            low, high = ranges[site_id]
            params = {
                "site": name,
                "response_status": "affected",
                "match": "exact",
                "limit": "50",
                "cursor": cursor(site_id, rng.randint(low, high)),
            }
            requests = [("findings", "/api/v1/findings", params)]
        else:
            site, asset_id = rng.choice(assets)
            requests = [
                ("device", f"/api/v1/assets/{asset_id}", {"site": site}),
                ("device findings", "/api/v1/findings", {"site": site, "asset_id": asset_id, "superseded": "true"}),
            ]
        for kind, path, query in requests:
            started = time.perf_counter()
            try:
                response = await client.get(path, params=query)
                if response.status_code != 200:
                    errors.append(f"{kind}: {response.status_code} {response.text[:200]}")
            except httpx.HTTPError as error:
                errors.append(f"{kind}: {type(error).__name__}")
                continue
            timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def drive(base: str, token: str, clients: int, seconds: float, database: Path) -> dict[str, Any]:
    sites, ranges, assets = samples(database)
    timings: dict[str, list[float]] = {}
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        for _ in range(20):  # warm up: first connections, the server's caches
            await client.get("/api/v1/findings", params={"site": sites[0][1], "limit": "50"})
        until = time.perf_counter() + seconds
        await asyncio.gather(
            *(
                client_loop(client, until, random.Random(n), sites, ranges, assets, timings, errors)
                for n in range(clients)
            )
        )
    every = [v for values in timings.values() for v in values]
    report: dict[str, Any] = {
        "clients": clients,
        "seconds": seconds,
        "load": "python",
        "errors": len(errors),
        "first_errors": errors[:5],
    }
    for kind, values in [*sorted(timings.items()), ("all", every)]:
        report[kind] = {
            "requests": len(values),
            "per_second": round(len(values) / seconds, 1),
            "p50_ms": round(percentile(values, 0.50), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
            "p99_ms": round(percentile(values, 0.99), 1),
        }
    return report


def url_list(database: Path, count: int, seed: int = 1) -> list[str]:
    """`count` request paths, a third each of findings pages, devices and device findings (the same mix as the
    python client: half its iterations are a findings page, half a device page of two requests)."""
    sites, ranges, assets = samples(database)
    rng = random.Random(seed)
    paths: list[str] = []
    while len(paths) < count:
        site_id, name = rng.choice(sites)
        low, high = ranges[site_id]
        query = {"site": name, "response_status": "affected", "match": "exact", "limit": "50"}
        paths.append("/api/v1/findings?" + urlencode({**query, "cursor": cursor(site_id, rng.randint(low, high))}))
        site, asset_id = rng.choice(assets)
        paths.append(f"/api/v1/assets/{asset_id}?" + urlencode({"site": site}))
        paths.append("/api/v1/findings?" + urlencode({"site": site, "asset_id": asset_id, "superseded": "true"}))
    return paths


def _tree(root: int) -> list[int]:
    """`root` and its child processes (the server's workers)."""
    pids = [root]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == root:
                pids.append(int(entry.name))
    return pids


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    """CPU time the whole machine spent busy so far (every core, every process)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def drive_wrk(base: str, token: str, clients: int, seconds: float, database: Path, server: int) -> dict[str, Any]:
    """The same load from wrk (one thread: 20 connections keep it busy far below one core). Also the CPU time
    per request of the server and of wrk, and what other processes took meanwhile (a shared machine skews
    latency, not CPU per request)."""
    paths = url_list(database, 30_000)
    listing = BUILD / "bench-api-urls.txt"
    listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        for path in paths[:60]:  # warm up: the server's caches and the pages the first requests touch
            client.get(path, timeout=30)
    command = ["wrk", "-t", "1", "-c", str(clients), "-d", f"{seconds:g}s", "--timeout", "10s"]
    command += ["-s", str(WRK_SCRIPT), base, "--", str(listing), token]
    pids = _tree(server)
    server_before, busy_before = _cpu_seconds(pids), _busy_seconds()
    wrk = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert wrk.stdout is not None
    stdout = wrk.stdout.read()
    _, status, usage = os.wait4(wrk.pid, 0)  # reaped here, for its CPU time
    wrk.returncode = os.waitstatus_to_exitcode(status)
    wrk.stdout.close()
    server_cpu, busy = _cpu_seconds(pids) - server_before, _busy_seconds() - busy_before
    if wrk.returncode:
        raise SystemExit(f"wrk failed ({wrk.returncode})")
    figures = json.loads([line for line in stdout.splitlines() if line.startswith("{")][-1])
    errors = sum(figures[kind] for kind in ("connect", "read", "write", "status", "timeout"))
    requests = figures["requests"]
    wrk_cpu = usage.ru_utime + usage.ru_stime
    return {
        "clients": clients,
        "seconds": seconds,
        "load": "wrk",
        "errors": errors,
        "first_errors": [f"wrk errors: {figures}"] if errors else [],
        "cpu_ms_per_request": {
            "server": round(server_cpu * 1000 / max(requests, 1), 2),
            "wrk": round(wrk_cpu * 1000 / max(requests, 1), 2),
            "other_processes_cpu_s": round(busy - server_cpu - wrk_cpu, 1),
            "cores": os.cpu_count(),
        },
        "all (wrk)": {
            "requests": requests,
            "per_second": round(requests / (figures["duration_us"] / 1e6), 1),
            "p50_ms": round(figures["p50_us"] / 1000, 1),
            "p95_ms": round(figures["p95_us"] / 1000, 1),
            "p99_ms": round(figures["p99_us"] / 1000, 1),
        },
    }


def serve(url: str, port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VIGIL_DATABASE_URL": url}
    process = subprocess.Popen(
        [
            *VIGIL,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("the server did not start within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2, help="Server processes (`vigil serve --workers`).")
    parser.add_argument("--threads", type=int, default=2, help="Requests per process at once (`--threads`).")
    parser.add_argument(
        "--load",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="Load generator (default: wrk when installed).",
    )
    parser.add_argument("--rebuild", action="store_true", help="Build the database again even if cached.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    database = build(args.devices, args.rebuild)
    url = f"sqlite:///{database}"
    token = token_for(url)
    port = free_port()
    process = serve(url, port, args.workers, args.threads)
    base = f"http://127.0.0.1:{port}"
    try:
        if args.load == "wrk":
            report = drive_wrk(base, token, args.clients, args.seconds, database, process.pid)
        else:
            report = asyncio.run(drive(base, token, args.clients, args.seconds, database))
    finally:
        process.terminate()
        process.wait(timeout=30)
    report["devices"] = args.devices
    report["workers"] = args.workers
    report["threads"] = args.threads
    print(
        f"{args.devices} devices, {args.workers} server process(es) x {args.threads} threads, "
        f"{args.clients} clients ({args.load}), {args.seconds:g} s"
    )
    cpu = report.pop("cpu_ms_per_request", None)
    for kind in [k for k in report if isinstance(report[k], dict)]:
        figures = report[kind]
        print(
            f"{kind:>16}: {figures['requests']:>7} requests, {figures['per_second']:>7}/s, "
            f"p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms"
        )
    overall = report["all (wrk)" if args.load == "wrk" else "all"]
    if cpu is not None:
        report["cpu_ms_per_request"] = cpu
        print(
            f"CPU per request: server {cpu['server']} ms, wrk {cpu['wrk']} ms ({cpu['cores']} cores); "
            f"other processes meanwhile: {cpu['other_processes_cpu_s']} CPU-s"
        )
    verdict = "met" if overall["p95_ms"] <= TARGET_P95_MS and report["errors"] == 0 else "NOT met"
    print(f"errors: {report['errors']}; target p95 <= {TARGET_P95_MS:.0f} ms and 0 errors: {verdict}")
    for line in report["first_errors"]:
        print(f"  {line}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
