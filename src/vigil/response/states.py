"""The per-device response status: VEX's four statuses, extended with what device reality needs.

    under_investigation -> affected | not_affected (with a VEX justification) | fixed
    affected -> mitigated | remediation_scheduled | fixed | risk_accepted | not_affected | under_investigation
    mitigated -> remediation_scheduled | fixed | risk_accepted | affected
    remediation_scheduled -> remediation_scheduled (rescheduled) | mitigated | fixed | risk_accepted | affected
    risk_accepted -> affected (revoked, or expired) | mitigated | remediation_scheduled | fixed
    not_affected -> under_investigation | affected
    fixed -> affected | under_investigation (the fix did not hold)

What each status needs is checked here, so the CLI, the API and decide-once rules refuse the same things
with the same reasons. docs/response.md draws the diagram.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

UNDER_INVESTIGATION = "under_investigation"
AFFECTED = "affected"
NOT_AFFECTED = "not_affected"
MITIGATED = "mitigated"
REMEDIATION_SCHEDULED = "remediation_scheduled"
FIXED = "fixed"
RISK_ACCEPTED = "risk_accepted"

RESPONSE_STATUSES = (
    UNDER_INVESTIGATION,
    AFFECTED,
    NOT_AFFECTED,
    MITIGATED,
    REMEDIATION_SCHEDULED,
    FIXED,
    RISK_ACCEPTED,
)
"""Every response status, in life-cycle order."""

OPEN_STATUSES = frozenset({UNDER_INVESTIGATION, AFFECTED, MITIGATED, REMEDIATION_SCHEDULED, RISK_ACCEPTED})
"""The device still carries the vulnerability (or may): what prioritisation and overdue reports look at."""

NEEDS_ACTION = frozenset({AFFECTED, MITIGATED, REMEDIATION_SCHEDULED, RISK_ACCEPTED})
"""Statuses whose findings get the advisory's remediations as action items."""

JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
"""CSAF 2.0 flag labels (§3.2.3.5), which are VEX's not_affected justifications."""

TRANSITIONS: dict[str, frozenset[str]] = {
    UNDER_INVESTIGATION: frozenset({AFFECTED, NOT_AFFECTED, FIXED}),
    AFFECTED: frozenset({MITIGATED, REMEDIATION_SCHEDULED, FIXED, RISK_ACCEPTED, NOT_AFFECTED, UNDER_INVESTIGATION}),
    MITIGATED: frozenset({REMEDIATION_SCHEDULED, FIXED, RISK_ACCEPTED, AFFECTED}),
    REMEDIATION_SCHEDULED: frozenset({REMEDIATION_SCHEDULED, MITIGATED, FIXED, RISK_ACCEPTED, AFFECTED}),
    RISK_ACCEPTED: frozenset({AFFECTED, MITIGATED, REMEDIATION_SCHEDULED, FIXED}),
    NOT_AFFECTED: frozenset({UNDER_INVESTIGATION, AFFECTED}),
    FIXED: frozenset({AFFECTED, UNDER_INVESTIGATION}),
}
"""Allowed moves a person (or a decide-once rule) may make. The matcher and the expiry sweep may also move a
finding back to its advisory-derived status (a reopen), which this table does not restrict."""


class IllegalTransition(ValueError):
    """A status change the life cycle or the status's own requirements refuse; the message says why."""


@dataclass(frozen=True)
class Evidence:
    """What backs a status: free text, a file reference, or a verification result."""

    kind: str
    """text, file or verification."""
    value: str
    """The text; the file's path or URL; the verification result's id."""
    sha256: str | None = None
    """Digest of the referenced file when it was readable at the time (proves which version was meant)."""

    def as_json(self) -> dict[str, Any]:
        data = {"kind": self.kind, "value": self.value}
        if self.sha256:
            data["sha256"] = self.sha256
        return data


@dataclass(frozen=True)
class StatusChange:
    """A requested status with everything it may need; unused fields stay None."""

    status: str
    """One of RESPONSE_STATUSES."""
    comment: str | None = None
    """Why, in the actor's words."""
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    """Required for mitigated, and for fixed when a person (not the inventory) says so."""
    justification: str | None = None
    """Required for not_affected: one of JUSTIFICATIONS."""
    fco_number: str | None = None
    """Field change order of a remediation_scheduled finding (the seed's FCO72200452)."""
    planned_date: date | None = None
    """Service visit / FCO date of a remediation_scheduled finding (required)."""
    vendor_contact: str | None = None
    """Who at the manufacturer schedules it."""
    owner: str | None = None
    """Who accepts the risk (required for risk_accepted)."""
    reason: str | None = None
    """Why the risk is accepted (required for risk_accepted)."""
    expires_at: datetime | None = None
    """When a risk acceptance ends (required for risk_accepted); the finding reopens then."""

    def detail(self) -> dict[str, Any]:
        """The JSON kept on the finding (response_detail) and in its history."""
        data: dict[str, Any] = {}
        for name in ("comment", "justification", "fco_number", "vendor_contact", "owner", "reason"):
            value = getattr(self, name)
            if value:
                data[name] = value
        if self.planned_date is not None:
            data["planned_date"] = self.planned_date.isoformat()
        if self.expires_at is not None:
            data["expires_at"] = self.expires_at.isoformat()
        if self.evidence:
            data["evidence"] = [item.as_json() for item in self.evidence]
        return data


def change_from_detail(status: str, detail: Mapping[str, Any] | None) -> StatusChange:
    """The StatusChange a stored detail (StatusChange.detail(), a decision's, a VEX marker's) describes: decide-
    once rules apply theirs again to every device that matches later. Keys it does not know are left out.

    Raises ValueError (or TypeError) when a value has the wrong shape: a VEX marker is untrusted input."""
    detail = detail or {}
    if status not in RESPONSE_STATUSES:
        raise ValueError(f"unknown status {status!r}")

    def text(name: str) -> str | None:
        value = detail.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string")
        return value

    evidence = []
    for item in detail.get("evidence") or ():
        if (
            not isinstance(item, Mapping)
            or not isinstance(item.get("kind"), str)
            or not isinstance(item.get("value"), str)
        ):
            raise TypeError("evidence entries need a kind and a value (strings)")
        sha256 = item.get("sha256")
        evidence.append(Evidence(item["kind"], item["value"], sha256 if isinstance(sha256, str) else None))
    planned, expires = text("planned_date"), text("expires_at")
    return StatusChange(
        status=status,
        comment=text("comment"),
        evidence=tuple(evidence),
        justification=text("justification"),
        fco_number=text("fco_number"),
        planned_date=date.fromisoformat(planned) if planned else None,
        vendor_contact=text("vendor_contact"),
        owner=text("owner"),
        reason=text("reason"),
        expires_at=datetime.fromisoformat(expires) if expires else None,
    )


def check_requirements(change: StatusChange) -> None:
    """Refuse a change that lacks what its status needs, whatever the status is now (decide-once rules are
    checked this way when they are made, and against the life cycle per device when applied)."""
    if change.status not in TRANSITIONS:
        raise IllegalTransition(f"unknown status {change.status!r}: expected one of {', '.join(RESPONSE_STATUSES)}")
    _check_requirements(change)


def initial_status(advisory_status: str, match: str) -> str:
    """Where a new finding starts: the advisory's word for the matched product, unless the match itself is
    unsure (a `possible` match is under investigation until a person confirms it)."""
    if match == "possible":
        return UNDER_INVESTIGATION
    if advisory_status in (AFFECTED, FIXED, NOT_AFFECTED):
        return advisory_status
    return UNDER_INVESTIGATION


def check_change(current: str, change: StatusChange) -> None:
    """Refuse a change the life cycle does not allow or that lacks what its status needs."""
    target = change.status
    if target not in TRANSITIONS:
        raise IllegalTransition(f"unknown status {target!r}: expected one of {', '.join(RESPONSE_STATUSES)}")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current]))
        raise IllegalTransition(f"cannot go from {current} to {target}: from {current} only {allowed}")
    _check_requirements(change)


def _check_requirements(change: StatusChange) -> None:
    target = change.status
    if target == NOT_AFFECTED:
        if not change.justification:
            raise IllegalTransition(f"not_affected needs a justification: one of {', '.join(JUSTIFICATIONS)}")
        if change.justification not in JUSTIFICATIONS:
            raise IllegalTransition(
                f"unknown justification {change.justification!r}: expected one of {', '.join(JUSTIFICATIONS)}"
            )
    elif change.justification:
        raise IllegalTransition(f"a justification belongs to not_affected, not to {target}")
    if target == MITIGATED and not change.evidence:
        raise IllegalTransition("mitigated needs evidence of the compensating control (text, file or verification)")
    if target == FIXED and not change.evidence:
        raise IllegalTransition("fixed needs evidence (or an inventory record showing a fixed version)")
    if target == REMEDIATION_SCHEDULED:
        if change.planned_date is None:
            raise IllegalTransition("remediation_scheduled needs the planned date of the service visit")
        if not (change.fco_number or change.vendor_contact):
            raise IllegalTransition("remediation_scheduled needs an FCO number or a vendor contact")
    if target == RISK_ACCEPTED:
        missing = [name for name in ("owner", "reason", "expires_at") if not getattr(change, name)]
        if missing:
            raise IllegalTransition(f"risk_accepted needs {', '.join(missing)} (a risk acceptance always expires)")
    elif change.expires_at is not None or change.owner:
        raise IllegalTransition(f"owner and expiry belong to risk_accepted, not to {target}")
