"""A CSAF 2.1 document written to a committee draft is accepted, and says so in a quality flag."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import TEST_DATA, Cli
from vigil.sources.csaf.errors import RejectedDocument
from vigil.sources.csaf.validate import check

DRAFT = TEST_DATA / "csaf-2.1-drafts" / "cisco-sa-20180328-smi2.json"


def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DRAFT.read_bytes())
    return doc


def test_draft_document_validates_against_csd02_with_a_flag() -> None:
    failures = check(_doc(), "2.1")
    draft_flags = [f for f in failures if f.test_id == "vigil:csaf-2.1-draft"]
    assert len(draft_flags) == 1
    assert "CSD02" in draft_flags[0].message


def test_document_valid_against_no_2_1_schema_is_rejected_with_the_current_schemas_reason() -> None:
    doc = _doc()
    del doc["document"]["title"]
    with pytest.raises(RejectedDocument, match=r"fails the CSAF 2\.1 JSON schema.*title"):
        check(doc, "2.1")


def test_draft_document_imports_and_shows_its_flag(cli: Cli) -> None:
    result = cli("advisories", "import", "--quiet", str(DRAFT))
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "imported 1, unchanged 0, rejected 0"
    shown = json.loads(cli("advisories", "show", "cisco-sa-20180328-smi2", "--format", "json").stdout)
    assert "vigil:csaf-2.1-draft" in {f["test_id"] for f in shown["quality_flags"]}
