"""What a matcher run does to the response status of a finding whose outcome it changed.

A new revision or a changed asset that alters a finding (status, match level or matched products) reopens it
visibly: a status a person, a decision or a VEX import set goes back to where a new finding would start, with
a history entry saying why. Two exceptions: a finding nobody has touched simply follows the advisory, and a
device the inventory now shows on a fixed version becomes `fixed` with that as its evidence. A revision that
leaves the outcome unchanged (`revised`) never gets here: CSAF §9.1.13, no re-alert.
"""

from __future__ import annotations

from typing import Any

from vigil.response.states import FIXED, initial_status
from vigil.store.findings import StoredFinding

MATCHER = "matcher"


def response_after_change(
    stored: StoredFinding, advisory_status: str, match: str, why: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(response column values, history detail) for the changed finding, or None when its status stays."""
    target = initial_status(advisory_status, match)
    untouched = stored.response_source == "initial"
    if untouched and target == stored.response_status:
        return None
    detail: dict[str, Any]
    if untouched:
        detail = {"comment": why}
    elif target == FIXED:
        detail = {"comment": why, "evidence": [{"kind": "inventory", "value": "the inventory shows a fixed version"}]}
    else:
        detail = {"comment": f"reopened: {why}", "reopened_from": stored.response_status}
    values = {
        "response_status": target,
        "response_source": "initial" if untouched else MATCHER,
        "response_version": stored.response_version + 1,
        "response_detail": detail,
        "decision_id": None,
        "risk_expires_at": None,
    }
    history = {"from": stored.response_status, "to": target, "source": values["response_source"], **detail}
    return values, history
