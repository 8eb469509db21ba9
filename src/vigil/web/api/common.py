"""What every API module shares: the caller and their sites, the job runner, checked text, status changes."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy.engine import Engine

from vigil.response.states import JUSTIFICATIONS, RESPONSE_STATUSES, Evidence, StatusChange
from vigil.services import access
from vigil.services.jobs import JobRunner
from vigil.services.site_scope import SiteRef, site_named, visible_sites
from vigil.services.store import Store
from vigil.web.auth import Principal, require, store_of
from vigil.web.problems import Problem, bad_field, not_found

INT64 = 2**63 - 1


def pair_cursor(cursor: object) -> tuple[int, int] | None:
    """A keyset cursor of two 64-bit keys ((site_id, id) and the like), as a list decoded from the page token;
    anything else is the caller's bad input, named as `query.cursor`."""
    if cursor is None:
        return None
    if (
        isinstance(cursor, list)
        and len(cursor) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= INT64 for v in cursor)
    ):
        return cursor[0], cursor[1]
    raise bad_field("query.cursor", "not a cursor of this list")


"""Ids are BIGINT: larger path or query values are refused as invalid, not sent to the database."""


def _clean(value: str) -> str:
    """Text the databases can store: no NUL (PostgreSQL refuses it) and no lone surrogate (not UTF-8)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


Text = Annotated[str, AfterValidator(_clean)]
"""A JSON string field the databases can store."""

Reader = Annotated[Principal, Depends(require(access.READ))]
"""Any authenticated user who may read (every role)."""


def store(request: Request) -> Store:
    return store_of(request)


StoreDep = Annotated[Store, Depends(store)]


def runner(request: Request) -> JobRunner:
    jobs: JobRunner = request.app.state.jobs
    return jobs


RunnerDep = Annotated[JobRunner, Depends(runner)]


def sites_of(store: Store, principal: Principal) -> list[SiteRef]:
    """Every site the caller may see."""
    return visible_sites(store, principal.site_ids)


_SITES_BY_NAME: weakref.WeakKeyDictionary[Engine, dict[str, SiteRef]] = weakref.WeakKeyDictionary()
"""Sites by name, per database: a site is never renamed or deleted, so a name once found keeps its id. Saves
reading the site table on every request that names a site (most do); a name not yet known is looked up."""


def _site_by_name(store: Store, name: str) -> SiteRef | None:
    known = _SITES_BY_NAME.setdefault(store.engine, {})
    found = known.get(name)
    if found is None:
        found = site_named(store, name, None)
        if found is not None:
            known[name] = found
    return found


def named_site(store: Store, principal: Principal, name: str, field: str = "site") -> SiteRef:
    """The named site, or 404 alike for one that does not exist and one the caller may not see."""
    found = _site_by_name(store, name)
    if found is None or not principal.sees_site(found.id):
        raise not_found(f"{field}: no site named {name!r}")
    return found


def chosen_sites(store: Store, principal: Principal, names: Sequence[str]) -> list[SiteRef]:
    """The named sites (404 for any unknown or unseen), or every visible site when none is named."""
    if not names:
        return sites_of(store, principal)
    return sorted({named_site(store, principal, n) for n in names}, key=lambda s: s.id)


def conflict(detail: str) -> Problem:
    return Problem(409, detail, "conflict")


# --- a status change, as JSON --------------------------------------------------------------------------------

StatusName = Literal[
    "under_investigation", "affected", "not_affected", "mitigated", "remediation_scheduled", "fixed", "risk_accepted"
]
assert set(StatusName.__args__) == set(RESPONSE_STATUSES)  # type: ignore[attr-defined]
JustificationName = Literal[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
]
assert set(JustificationName.__args__) == set(JUSTIFICATIONS)  # type: ignore[attr-defined]


class EvidenceIn(BaseModel):
    """What backs a status: text, a file reference (path or URL, with its SHA-256 if known), a verification id."""

    kind: Literal["text", "file", "verification"] = "text"
    value: Text = Field(min_length=1, max_length=10_000)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class StatusChangeIn(BaseModel):
    """A response status with what it needs (docs/response.md): evidence for mitigated and fixed, a
    justification for not_affected, a planned date and an FCO or vendor contact for remediation_scheduled, an
    owner, reason and expiry for risk_accepted."""

    status: StatusName
    comment: Text | None = Field(default=None, max_length=10_000)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=50)
    justification: JustificationName | None = None
    fco_number: Text | None = Field(default=None, max_length=200)
    planned_date: date | None = None
    vendor_contact: Text | None = Field(default=None, max_length=500)
    owner: Text | None = Field(default=None, max_length=500)
    reason: Text | None = Field(default=None, max_length=10_000)
    expires_at: datetime | None = Field(default=None, description="End of a risk acceptance (ISO 8601; UTC if naive).")

    def change(self) -> StatusChange:
        expires = self.expires_at
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        return StatusChange(
            status=self.status,
            comment=self.comment,
            evidence=tuple(Evidence(e.kind, e.value.strip(), e.sha256) for e in self.evidence if e.value.strip()),
            justification=self.justification,
            fco_number=self.fco_number,
            planned_date=self.planned_date,
            vendor_contact=self.vendor_contact,
            owner=self.owner,
            reason=self.reason,
            expires_at=expires,
        )
