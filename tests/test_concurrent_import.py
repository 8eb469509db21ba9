"""Two importers working on the same database at once end in the same state as one clean import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import DEMO_ADVISORIES
from vigil.config import load_settings
from vigil.services.store import open_store
from vigil.store.advisories import count_rows


def _start_import(database_url: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "VIGIL_DATABASE_URL": database_url}
    return subprocess.Popen(
        [sys.executable, "-m", "vigil", "advisories", "import", "--quiet", "--workers", "1", str(DEMO_ADVISORIES)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_concurrent_imports_store_each_revision_once(database_url: str, tmp_path: Path) -> None:
    open_store(load_settings(database_url)).close()  # migrate once, as `vigil db upgrade` would
    procs = [_start_import(database_url, tmp_path) for _ in range(2)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    for code, _out, err in results:
        assert code == 0, err
        assert err == ""
    lines = sorted(out.splitlines()[0] for _code, out, _err in results)
    imported = sum(int(line.split()[1].rstrip(",")) for line in lines)
    unchanged = sum(int(line.split()[3].rstrip(",")) for line in lines)
    assert (imported, unchanged) == (36, 36), lines

    store = open_store(load_settings(database_url))
    try:
        with store.sessions() as session:
            rows = count_rows(session)
    finally:
        store.close()
    assert rows["advisory"] == 36
    assert rows["advisory_revision"] == 36
    assert rows["advisory_content"] == 36
