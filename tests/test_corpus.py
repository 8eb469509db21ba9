"""The whole shared CISA corpus imports cleanly on both databases, and a second import is a no-op."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import corpus_dir
from vigil.services.advisory_import import ImportOutcome, import_candidates
from vigil.services.store import Store
from vigil.sources.csaf.files import discover
from vigil.store import schema as t
from vigil.store.advisories import count_rows

ADVISORIES = 2_383
FEEDS = {"cisa-csaf-ot-feed-tlp-white.json", "cisa-csaf-it-feed-tlp-white.json"}

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def _import(store: Store, root: Path) -> tuple[dict[str, list[ImportOutcome]], dict[str, int]]:
    outcomes: dict[str, list[ImportOutcome]] = {}
    summary = import_candidates(
        store,
        discover([root], store.settings.max_document_bytes),
        lambda outcome: outcomes.setdefault(outcome.status, []).append(outcome),
    )
    return outcomes, dict(summary.counts)


def test_whole_corpus_imports_without_rejections_then_is_unchanged(store: Store) -> None:
    root = corpus_dir() / "csaf_files"

    first, counts = _import(store, root)
    assert [o.line for o in first.get("rejected", [])] == []
    assert sorted(Path(o.source).name for o in first.get("skipped", [])) == sorted(FEEDS)
    assert all(o.reason and "ROLIE feed" in o.reason for o in first["skipped"])
    assert counts.get("imported", 0) + counts.get("revision", 0) == ADVISORIES, counts
    assert counts.get("unchanged", 0) == 0

    with store.sessions() as session:
        rows = count_rows(session)
        current_per_advisory = session.execute(
            select(t.AdvisoryRevision.advisory_id, func.count())
            .where(t.AdvisoryRevision.is_current)
            .group_by(t.AdvisoryRevision.advisory_id)
        ).all()
    assert rows["advisory_revision"] == rows["advisory_content"] == ADVISORIES
    assert rows["advisory"] == counts.get("imported", 0)
    assert len(current_per_advisory) == rows["advisory"]
    assert {n for _, n in current_per_advisory} == {1}

    second, again = _import(store, root)
    assert again.get("unchanged", 0) == ADVISORIES, again
    assert set(again) <= {"unchanged", "skipped"}, again
    assert len(second["skipped"]) == len(FEEDS)
    with store.sessions() as session:
        assert count_rows(session) == rows
