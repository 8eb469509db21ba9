"""The OASIS CSAF 2.0 validator suite, mandatory group, against our own `validate.check`.

`testcases.json` lists, per test (e.g. `6.1.27.3`), files that must fail it and files that must
pass it. A failing file is flagged when `check` reports a failure of the parent rule (`6.1.27`;
our library reports sub-tests under their parent) or, for the rules the JSON schema itself
enforces, when `check` rejects the document at schema level.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import pytest

from conftest import TEST_DATA
from vigil.sources.csaf.errors import RejectedDocument
from vigil.sources.csaf.validate import check

SUITE = TEST_DATA / "oasis-csaf-2.0-validator"
# 6.1.8 "Invalid CVSS": CSAF 2.0 embeds the FIRST CVSS JSON schemas, so these documents are
# schema-invalid and the whole document is rejected, which flags them as surely as a 6.1.8 failure.
SCHEMA_ENFORCED = {"6.1.8": "cvss_v"}
EXPECTED_TOTAL = 147  # mandatory expectations in the suite copied into tests/data


class Expectation(NamedTuple):
    test_id: str
    """The suite's test id, e.g. `6.1.27.3`."""
    file: str
    """Path relative to SUITE."""
    must_fail: bool
    """True for `failures`, False for `valid`."""

    @property
    def rule(self) -> str:
        """The rule our library reports it under: the first three components (`6.1.27`)."""
        return ".".join(self.test_id.split(".")[:3])


def _expectations() -> list[Expectation]:
    suite = json.loads((SUITE / "testcases.json").read_text())
    return [
        Expectation(test["id"], entry["name"], kind == "failures")
        for test in suite["tests"]
        if test["group"] == "mandatory"
        for kind in ("failures", "valid")
        for entry in test.get(kind, [])
    ]


EXPECTATIONS = _expectations()


def _load(expectation: Expectation) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SUITE / expectation.file).read_bytes())
    return doc


def test_the_suite_is_all_there() -> None:
    """Guard against checking nothing: a missing or truncated testcases.json fails here."""
    assert len(EXPECTATIONS) == EXPECTED_TOTAL
    assert sum(e.must_fail for e in EXPECTATIONS) > 0
    assert sum(not e.must_fail for e in EXPECTATIONS) > 0
    assert len({e.test_id for e in EXPECTATIONS}) == 43
    for expectation in EXPECTATIONS:
        assert (SUITE / expectation.file).is_file(), expectation.file


@pytest.mark.parametrize(
    "expectation",
    EXPECTATIONS,
    ids=[f"{e.test_id}-{'fails' if e.must_fail else 'passes'}-{e.file.split('2021-')[-1][:-5]}" for e in EXPECTATIONS],
)
def test_mandatory_expectation(expectation: Expectation) -> None:
    doc = _load(expectation)
    assert doc["document"]["csaf_version"] == "2.0"
    try:
        failures = check(doc, "2.0")
    except RejectedDocument as rejected:
        assert expectation.must_fail, f"a valid example was rejected: {rejected}"
        marker = SCHEMA_ENFORCED.get(expectation.rule)
        assert marker is not None, f"rejected by the schema, but {expectation.rule} is not schema-enforced: {rejected}"
        assert "JSON schema" in str(rejected) and marker in str(rejected), str(rejected)
        return
    failed_rules = {failure.test_id for failure in failures}
    if expectation.must_fail:
        assert expectation.rule in failed_rules, f"{expectation.rule} not reported; got {sorted(failed_rules)}"
        assert all(f.group == "mandatory" for f in failures)
        assert all(f.message for f in failures if f.test_id == expectation.rule)
    else:
        assert expectation.rule not in failed_rules, [f for f in failures if f.test_id == expectation.rule]
