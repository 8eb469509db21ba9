"""Reading on worker processes keeps input order, and never loses a document if the pool breaks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import DEMO_ADVISORIES
from vigil.sources.csaf.files import discover
from vigil.sources.csaf.parallel import read_all
from vigil.sources.csaf.reader import Prepared, ReadPolicy

POLICY = ReadPolicy(50_000_000, (), frozenset())


def test_pool_results_come_back_in_input_order() -> None:
    candidates = list(discover([DEMO_ADVISORIES], POLICY.max_document_bytes))
    assert len(candidates) >= 30  # enough to start the pool
    results = list(read_all(candidates, POLICY, workers=2))
    assert [r.source for r in results] == [c.source for c in candidates]
    assert all(isinstance(r, Prepared) for r in results)


# A caller script without a __main__ guard: forkserver children re-import it and die at once.
UNGUARDED = """
import sys
from pathlib import Path
from vigil.sources.csaf.files import discover
from vigil.sources.csaf.parallel import read_all
from vigil.sources.csaf.reader import Prepared, ReadPolicy
policy = ReadPolicy(50_000_000, (), frozenset())
results = list(read_all(discover([Path(sys.argv[1])], 50_000_000), policy, workers=2))
print(sum(isinstance(r, Prepared) for r in results), len(results))
"""


def test_broken_pool_falls_back_without_losing_documents(tmp_path: Path) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED)
    proc = subprocess.run(
        [sys.executable, str(script), str(DEMO_ADVISORIES)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["36", "36"]
    assert "import workers failed; reading the remaining documents in one process" in proc.stderr
