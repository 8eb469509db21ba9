"""A small hospital world for the API tests: two advisories (CISA's copy of the Philips IPMI advisory and
Philips' own), two sites with the same kind of devices, users of every role with API tokens, and the app.

Built once per module and database (module-scoped fixtures below): building takes seconds, and the matrix
test asks hundreds of questions of it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from conftest import DEMO_ADVISORIES, PG_URL, ROOT, require_postgres
from vigil.config import load_settings
from vigil.services import users
from vigil.services.advisory_import import import_candidates
from vigil.services.inventory_import import import_inventory
from vigil.services.matching import run_match
from vigil.services.store import Store, open_store
from vigil.sources.csaf.files import discover
from vigil.web.app import WebLimits, create_app

CISA = DEMO_ADVISORIES / "icsma-21-019-01.json"
PHILIPS = ROOT / "demo" / "vendor-advisories" / "philips-2021-01-14-interventional-ipmi.json"
NORTH, SOUTH = "North General", "South <Clinic>"
CVE = "CVE-2020-27298"
HEADER = "asset_id,manufacturer,model,model_number,software_vendor,software_name,software_version"
ROWS = [
    "A1,Philips,Allura Xper FD20 workstation,4598 009 39471,Philips,Interventional Workspot,R1.4.5",
    "A2,Philips,Allura Xper FD10 workstation,4598 009 39481,Philips,Interventional Workspot,1.4.5",
    "A3,Philips,Allura Xper FD10 workstation,4598 009 70861,Philips,Interventional Workspot,1.4.3",
    "A4,Philips,Allura Xper FD20 workstation,4598 009 98531,Philips,Interventional Workspot,1.3.2",
    "P1,Philips,Allura workstation,,Philips,ViewForum,",
]
PREFIX = {NORTH: "N", SOUTH: "S"}
ROLES = ("admin", "analyst", "technician", "viewer")
UPLOAD_LIMIT = 64 * 1024


@dataclass
class World:
    """The app over a prepared database, and who may knock."""

    client: TestClient
    """Talks to the app in-process (no token by default)."""
    store: Store
    """The same database, for checks behind the API's back."""
    database_url: str
    """Where it lives."""
    tokens: dict[str, str] = field(default_factory=dict)
    """user name -> API token. Users: admin; `<role>-north` for each role granted North only; `analyst-all`."""
    site_ids: dict[str, int] = field(default_factory=dict)
    """site name -> id."""

    def as_user(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, user: str, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.as_user(user), **kwargs)

    def post(self, user: str, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, headers={**self.as_user(user), **kwargs.pop("headers", {})}, **kwargs)

    def findings(self, site: str, **params: Any) -> list[dict[str, Any]]:
        response = self.get("admin", "/api/v1/findings", params={"site": site, "limit": 500, **params})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def finding(self, site: str, asset: str, cve: str = CVE) -> dict[str, Any]:
        found = [f for f in self.findings(site, cve=cve) if f["asset_id"] == asset]
        assert len(found) == 1, found
        return found[0]


def build(database_url: str, folder: Path) -> tuple[Store, dict[str, str]]:
    store = open_store(load_settings(database_url))
    summary = import_candidates(store, discover([CISA, PHILIPS], store.settings.max_document_bytes), workers=1)
    assert summary.rejected == 0
    for site, prefix in PREFIX.items():
        path = folder / f"inventory-{prefix}.csv"
        rows = [f"{prefix}-{row}" for row in ROWS] + ["SHARED,Philips,Allura workstation,,Philips,ViewForum,"]
        path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        assert not import_inventory(store, path, site=site).rejections
    run_match(store)
    tokens: dict[str, str] = {}
    users.add_user(store, "admin", "admin", None, "test")
    for role in ROLES[1:]:
        users.add_user(store, f"{role}-north", role, None, "test")
        users.grant(store, f"{role}-north", [NORTH], "test")
    users.add_user(store, "analyst-all", "analyst", None, "test")
    users.grant(store, "analyst-all", None, "test")
    users.add_user(store, "nobody", "analyst", None, "test")  # no site granted at all
    for name in ("admin", *(f"{r}-north" for r in ROLES[1:]), "analyst-all", "nobody"):
        tokens[name] = users.create_token(store, name, "tests", None, "test").token
    return store, tokens


@contextmanager
def open_world(kind: str, folder: Path) -> Iterator[World]:
    """A built world on `kind` (sqlite or postgresql), its app started; everything removed afterwards."""
    schema = None
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'vigil.db'}"
    else:
        require_postgres()
        schema = f"vigil_api_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        store, tokens = build(url, folder)
        try:
            app = create_app(load_settings(url), WebLimits(max_upload_bytes=UPLOAD_LIMIT))
            with TestClient(app, raise_server_exceptions=False) as client:
                world = World(client, store, url, tokens)
                world.site_ids = {s["name"]: s["id"] for s in world.get("admin", "/api/v1/sites").json()}
                yield world
        finally:
            store.close()
    finally:
        if schema is not None:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world per module and database, for tests that only read (or whose writes others do not see)."""
    with open_world(request.param, tmp_path_factory.mktemp("api")) as built:
        yield built


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A world of its own, for tests that change it."""
    with open_world(request.param, tmp_path) as built:
        yield built
