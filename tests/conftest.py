"""Shared fixtures: a store on SQLite and on the live PostgreSQL, the CLI, and the bundled data."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from vigil.config import load_settings
from vigil.services.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
DEMO_ADVISORIES = ROOT / "demo" / "advisories"
TEST_DATA = ROOT / "tests" / "data"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "cisa-csaf"
SEED_CSAF = DEMO_ADVISORIES / "icsma-21-019-01.json"

PG_URL = os.environ.get("VIGIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


def require_postgres() -> None:
    """Skip (outside CI) or fail (in CI) when the PostgreSQL server is not reachable."""
    problem = _postgres_problem()
    if problem is None:
        return
    message = f"PostgreSQL unreachable at {PG_URL}: {problem}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must run the storage tests on PostgreSQL too)")
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty schema in the `test` database, dropped afterwards."""
    require_postgres()
    schema = f"vigil_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on the embedded SQLite and on the live PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vigil.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = open_store(load_settings(database_url))
    try:
        yield opened
    finally:
        opened.close()


@dataclass(frozen=True)
class CliResult:
    """A finished `vigil` process."""

    code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Cli:
    """Runs the real `vigil` command in a subprocess against one database."""

    database_url: str
    cwd: Path

    def __call__(self, *args: str, timeout: float = 600) -> CliResult:
        env = {**os.environ, "VIGIL_DATABASE_URL": self.database_url, "NO_COLOR": "1", "COLUMNS": "200"}
        proc = subprocess.run(
            [sys.executable, "-m", "vigil", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.cwd,
            timeout=timeout,
            check=False,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    return Cli(database_url, tmp_path)


def corpus_dir() -> Path:
    """The shared CISA corpus, or a skip that says why it is missing."""
    if not (CORPUS / "csaf_files").is_dir():
        pytest.skip(f"shared CISA corpus not found at {CORPUS} (only CI and developer machines have ../shared)")
    return CORPUS
