"""The status life cycle (issue #5) as rules: every pair of statuses, every requirement, and the documented
table in docs/response.md agreeing with the code."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from itertools import product

import pytest

from conftest import ROOT
from vigil.response.states import (
    JUSTIFICATIONS,
    RESPONSE_STATUSES,
    TRANSITIONS,
    Evidence,
    IllegalTransition,
    StatusChange,
    change_from_detail,
    check_change,
    initial_status,
)

EVIDENCE = (Evidence("text", "checked"),)
COMPLETE = {
    "under_investigation": StatusChange("under_investigation"),
    "affected": StatusChange("affected"),
    "not_affected": StatusChange("not_affected", justification="component_not_present"),
    "mitigated": StatusChange("mitigated", evidence=EVIDENCE),
    "remediation_scheduled": StatusChange("remediation_scheduled", fco_number="FCO1", planned_date=date(2027, 1, 1)),
    "fixed": StatusChange("fixed", evidence=EVIDENCE),
    "risk_accepted": StatusChange("risk_accepted", owner="o", reason="r", expires_at=datetime(2027, 1, 1, tzinfo=UTC)),
}


@pytest.mark.parametrize(("current", "target"), list(product(RESPONSE_STATUSES, RESPONSE_STATUSES)))
def test_every_pair_is_allowed_exactly_when_the_table_says(current: str, target: str) -> None:
    if target in TRANSITIONS[current]:
        check_change(current, COMPLETE[target])
    else:
        with pytest.raises(IllegalTransition, match=f"cannot go from {current} to {target}"):
            check_change(current, COMPLETE[target])


def test_the_documented_table_is_the_code() -> None:
    text = (ROOT / "docs" / "response.md").read_text(encoding="utf-8").split("| from | allowed to |")[1]
    for current, allowed in TRANSITIONS.items():
        row = re.search(rf"^\| `{current}` \| (.*) \|$", text, re.MULTILINE)
        assert row is not None, current
        documented = set(re.findall(r"`(\w+)`", row.group(1).split("(")[0]))
        assert documented == set(allowed), current


def test_requirements_belong_to_their_status() -> None:
    with pytest.raises(IllegalTransition, match="a justification belongs to not_affected"):
        check_change("affected", StatusChange("mitigated", evidence=EVIDENCE, justification=JUSTIFICATIONS[0]))
    with pytest.raises(IllegalTransition, match="owner and expiry belong to risk_accepted"):
        check_change("affected", StatusChange("mitigated", evidence=EVIDENCE, owner="o"))
    check_change(
        "affected", StatusChange("remediation_scheduled", vendor_contact="Philips", planned_date=date(2027, 1, 1))
    )


def test_initial_status_follows_the_advisory_unless_the_match_is_unsure() -> None:
    assert initial_status("affected", "exact") == "affected"
    assert initial_status("affected", "possible") == "under_investigation"
    assert initial_status("fixed", "probable") == "fixed"
    assert initial_status("not_affected", "exact") == "not_affected"
    assert initial_status("under_investigation", "exact") == "under_investigation"


@pytest.mark.parametrize("status", RESPONSE_STATUSES)
def test_a_stored_detail_gives_back_the_change_it_was_made_from(status: str) -> None:
    change = COMPLETE[status]
    assert change_from_detail(status, change.detail()) == change
