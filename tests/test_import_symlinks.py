"""Symlinks in an import tree: siblings that leave the root refuse their document; linked directories are reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import SEED_CSAF, Cli


def test_sha512_sibling_linking_outside_the_root_refuses_the_document(cli: Cli, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(SEED_CSAF.with_name(SEED_CSAF.name + ".sha512"), outside / "seed.sha512")
    batch = tmp_path / "batch"
    batch.mkdir()
    doc = batch / SEED_CSAF.name
    shutil.copy(SEED_CSAF, doc)
    doc.with_name(doc.name + ".sha512").symlink_to(outside / "seed.sha512")

    result = cli("advisories", "import", "--quiet", str(batch))
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"rejected: {doc}: {doc.name}.sha512 is a symlink that leaves the import root"
    ]
    assert result.stdout.splitlines()[0] == "imported 0, unchanged 0, rejected 1"


def test_symlinked_directory_is_reported_as_skipped_not_followed(cli: Cli, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(SEED_CSAF, elsewhere / SEED_CSAF.name)
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "linked").symlink_to(elsewhere, target_is_directory=True)

    result = cli("advisories", "import", "--format", "json", str(batch))
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["imported"], report["skipped"]) == (0, 1)
    [outcome] = report["outcomes"]
    assert outcome == {**outcome, "source": str(batch / "linked"), "status": "skipped"}
    assert outcome["reason"] == "symlinked directory, not followed"
