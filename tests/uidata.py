"""Shared data for the web UI tests (test_web_ui.py, test_browser.py): the demo advisories, a generated
inventory, a hostile advisory and hostile inventory rows (XSS payloads in every kind of text), matched; and
users with one-site grants. Built with the real CLI, once per database per test module."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from conftest import DEMO_ADVISORIES, PG_URL, ROOT, require_postgres
from vigil.config import load_settings
from vigil.services import users
from vigil.services.store import open_store

SITE = "St. Elsewhere General"
OTHER_SITE = "Mercy North Campus"
PASSWORD = "correct horse battery staple"
SCRIPT = '<script>alert("xss")</script>'
ATTRIBUTE = '" onmouseover="alert(\'xss\')" x="'
XSS_TRACKING_ID = "XSS-<b>\"'-1"
"""A tracking id that breaks naive HTML and URLs alike."""
XSS_ASSET = 'XSS-"><img src=x onerror=alert(1)>'
"""An asset id that would break out of an attribute if it were not escaped."""
JS_URL = "javascript:alert('xss')"


@dataclass(frozen=True)
class UiData:
    """A database filled for the UI tests."""

    database_url: str
    """Where it is."""
    site_id: int
    """id of SITE (granted to the users)."""
    other_site_id: int
    """id of OTHER_SITE (granted to nobody but the admin)."""


def _vigil(database_url: str, cwd: Path, *args: str) -> str:
    env = {**os.environ, "VIGIL_DATABASE_URL": database_url, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "vigil", *args], capture_output=True, text=True, env=env, cwd=cwd, check=False
    )
    assert proc.returncode == 0, (args, proc.stderr)
    return proc.stdout


def hostile_advisory(folder: Path) -> Path:
    """The Philips vendor advisory, renamed, with XSS payloads in its title, notes, remediation and URL."""
    source = ROOT / "demo" / "vendor-advisories" / "philips-2021-01-14-interventional-ipmi.json"
    document = json.loads(source.read_text(encoding="utf-8"))
    document["document"]["tracking"]["id"] = XSS_TRACKING_ID
    document["document"]["title"] = f"Title {SCRIPT} {ATTRIBUTE}"
    document["document"]["notes"][0]["text"] = f"Summary {SCRIPT}"
    document["document"]["notes"][0]["title"] = f"Note title {ATTRIBUTE}"
    remediation = document["vulnerabilities"][0]["remediations"][0]
    remediation["details"] = f"Change the password {SCRIPT} {ATTRIBUTE}"
    remediation["url"] = JS_URL
    target = folder / "hostile-advisory.json"
    target.write_text(json.dumps(document), encoding="utf-8")
    return target


def hostile_inventory(generated: Path) -> None:
    """Add a device whose every text field carries a payload, a copy of one of SITE's Philips workstations
    (so it matches, and its findings show the payloads on every page)."""
    with generated.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    header = list(rows[0])
    first = next(r for r in rows if r["site"] == SITE and r["model"] == "Interventional Workstation")
    copies = []
    for row in rows:
        if row["asset_id"] == first["asset_id"]:
            hostile = dict(row)
            hostile.update(
                asset_id=XSS_ASSET,
                location=f"Room {SCRIPT}",
                serial_number=f"SN{ATTRIBUTE}",
                device_category=f"cat {SCRIPT}",
            )
            copies.append(hostile)
    with generated.open("a", newline="", encoding="utf-8") as handle:
        csv.DictWriter(handle, header).writerows(copies)


def build(database_url: str, folder: Path) -> UiData:
    _vigil(
        database_url,
        folder,
        "advisories",
        "import",
        "-q",
        str(DEMO_ADVISORIES),
        str(ROOT / "demo" / "vendor-advisories"),
    )
    _vigil(database_url, folder, "advisories", "import", "-q", str(hostile_advisory(folder)))
    inventory = folder / "inventory.csv"
    _vigil(database_url, folder, "inventory", "generate", "--assets", "300", "--seed", "5", "--out", str(inventory))
    hostile_inventory(inventory)
    _vigil(database_url, folder, "inventory", "import", "-q", str(inventory))
    _vigil(database_url, folder, "match")
    store = open_store(load_settings(database_url))
    try:
        for name, role in (("ana", "analyst"), ("vic", "viewer"), ("tech", "technician")):
            users.add_user(store, name, role, PASSWORD, actor="test")
            users.grant(store, name, [SITE], actor="test")
        users.add_user(store, "root", "admin", PASSWORD, actor="test")
        with store.sessions() as session:
            from vigil.store.inventory import site_ids

            ids = site_ids(session, [SITE, OTHER_SITE], create=False)
    finally:
        store.close()
    return UiData(database_url, ids[SITE], ids[OTHER_SITE])


def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh database of `kind` (sqlite or postgresql) for a whole test module, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'vigil.db'}"
        return
    require_postgres()
    schema = f"vigil_ui_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
