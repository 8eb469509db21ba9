"""Roles and what each may do: the permission matrix (docs/users.md prints it as a table).

Permissions are about *actions*; which *sites* a user may act on is the separate grant model
(`UserAccess.site_ids`, None = every site). A request passes when the role has the permission and the site
is granted; the web answers 403 for the first failing and 404 for the second (a site's existence does not leak).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store import schema as t

Role = Literal["admin", "analyst", "technician", "viewer"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)

READ = "read"
"""See advisories, devices, findings, decisions, actions, priorities of granted sites."""
FINDINGS_STATUS = "findings.status"
"""Set a finding's response status (mitigated, remediation_scheduled, ...) with evidence."""
FINDINGS_REVIEW = "findings.review"
"""Confirm or reject a `possible` match (the review queue)."""
ACTIONS_COMPLETE = "actions.complete"
"""Complete or void an action item (the technician's field work)."""
DECISIONS_WRITE = "decisions.write"
"""Record a decide-once rule (not_affected per model, risk acceptance) and import VEX."""
ADVISORIES_IMPORT = "advisories.import"
"""Upload advisories and trigger a sync (installation-wide reference data)."""
INVENTORY_IMPORT = "inventory.import"
"""Upload a site's inventory or an SBOM."""
EXPORTS = "exports"
"""Download VEX documents and reports."""
AUDIT_READ = "audit.read"
"""Read and verify the audit trail of granted sites (and the installation-wide chain)."""
USERS_ADMIN = "users.admin"
"""Create users, change roles and grants, create or revoke anyone's API tokens."""
TOKENS_OWN = "tokens.own"
"""Create, list and revoke one's own API tokens (from a browser session, never from a token)."""

ALL_PERMISSIONS: Final[tuple[str, ...]] = (
    READ,
    FINDINGS_STATUS,
    FINDINGS_REVIEW,
    ACTIONS_COMPLETE,
    DECISIONS_WRITE,
    ADVISORIES_IMPORT,
    INVENTORY_IMPORT,
    EXPORTS,
    AUDIT_READ,
    USERS_ADMIN,
    TOKENS_OWN,
)

PERMISSIONS: Final[dict[Role, frozenset[str]]] = {
    # Everything, including users; an admin is installation-wide and so always sees every site.
    "admin": frozenset(ALL_PERMISSIONS),
    # The security analyst runs the response: imports, review, decisions, statuses, exports.
    "analyst": frozenset(ALL_PERMISSIONS) - {USERS_ADMIN},
    # The technician on a service visit: records what was done on the device, nothing more.
    "technician": frozenset({READ, FINDINGS_STATUS, ACTIONS_COMPLETE, TOKENS_OWN}),
    # Auditors, management: read, export, check the audit trail; change nothing.
    "viewer": frozenset({READ, EXPORTS, AUDIT_READ, TOKENS_OWN}),
}

ALL_SITES_ROLES: Final[frozenset[Role]] = frozenset({"admin"})
"""Roles that see every site whatever their grants: whoever manages users could grant themselves any site."""


def is_role(value: str) -> bool:
    return value in ROLES


def can(role: str, permission: str) -> bool:
    """True when `role` holds `permission`; unknown roles and permissions hold nothing (fail closed)."""
    if permission not in ALL_PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return is_role(role) and permission in PERMISSIONS[role]  # type: ignore[index]


def effective_site_ids(role: str, all_sites: bool, granted: Iterable[int]) -> frozenset[int] | None:
    """The sites a user may see: None for every site (an all-sites grant, or an all-sites role)."""
    if all_sites or role in ALL_SITES_ROLES:
        return None
    return frozenset(granted)


def visible_site_ids(site_ids: frozenset[int] | None, session: Session) -> list[int]:
    """Ids of the existing sites among `site_ids` (None: every site), ascending."""
    query = select(t.Site.id).order_by(t.Site.id)
    if site_ids is not None:
        if not site_ids:
            return []
        query = query.where(t.Site.id.in_(sorted(site_ids)))
    return [int(site_id) for site_id in session.scalars(query)]
