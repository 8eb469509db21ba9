"""/api/v1/decisions: decide once per product (list, add, revoke), as `vigil decisions`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from vigil.services import access
from vigil.services.decisions import DecisionError, DecisionRequest, add_decision, list_decisions, revoke_decision
from vigil.web.api.common import INT64, Reader, StatusChangeIn, StoreDep, Text, chosen_sites, named_site
from vigil.web.auth import Principal, require
from vigil.web.pagination import Page, PageRequest, offset_of, offset_page, page_request
from vigil.web.problems import Problem, not_found

router = APIRouter(prefix="/decisions", tags=["decisions"])
Writer = Annotated[Principal, Depends(require(access.DECISIONS_WRITE))]


@router.get("", response_model=Page, summary="List decisions")
def list_(
    request: Request,
    principal: Reader,
    store: StoreDep,
    page: Annotated[PageRequest, Depends(page_request)],
    site: Annotated[list[Annotated[str, Query(max_length=300)]] | None, Query(description="Site name(s).")] = None,
    revoked: Annotated[bool, Query(description="Include revoked decisions.")] = False,
) -> Response:
    """Decisions of the named sites (default: every site you see), by site and id."""
    start = offset_of(page)
    rows: list[dict[str, Any]] = []
    for site_ref in chosen_sites(store, principal, site or []):
        rows += list_decisions(store, site_ref.name, revoked)
        if len(rows) > start + page.limit:
            break
    return offset_page(request, page, rows[start : start + page.limit + 1])


class DecisionIn(StatusChangeIn):
    """A decide-once rule: every device of the site matching manufacturer, model (and release, model number)
    that carries the CVE (or the advisory's vulnerabilities) gets the status."""

    site: Text = Field(min_length=1, max_length=300)
    manufacturer: Text = Field(min_length=1, max_length=300)
    model: Text = Field(min_length=1, max_length=300)
    cve: Text | None = Field(default=None, max_length=50)
    advisory: Text | None = Field(
        default=None, max_length=300, description="Tracking id; exactly one of cve, advisory."
    )
    release: Text | None = Field(default=None, max_length=300, description="Version or CSAF wildcard (`1.3.*`).")
    model_number: Text | None = Field(default=None, max_length=300)


class DecisionOut(BaseModel):
    """The recorded decision and what applying it did."""

    decision: dict[str, Any]
    result: dict[str, Any]


@router.post("", status_code=201, response_model=DecisionOut, summary="Record a decision")
def add(body: DecisionIn, principal: Writer, store: StoreDep) -> DecisionOut:
    site = named_site(store, principal, body.site, "body.site")
    request = DecisionRequest(
        site=site.name,
        change=body.change(),
        manufacturer=body.manufacturer,
        model=body.model,
        cve=body.cve,
        advisory=body.advisory,
        release=body.release,
        model_number=body.model_number,
    )
    try:
        decision, outcome = add_decision(store, request, principal.username)
    except DecisionError as error:
        raise Problem(422, str(error), "invalid-decision") from None
    return DecisionOut(decision=decision, result=outcome.as_json())


class RevokeIn(BaseModel):
    """Which site the decision belongs to."""

    site: Text = Field(min_length=1, max_length=300)


class RevokeOut(BaseModel):
    """Devices whose status the decision had set went back to where the advisory puts them."""

    reset: int


@router.post("/{decision_id}/revoke", response_model=RevokeOut, summary="Revoke a decision")
def revoke(
    decision_id: Annotated[int, Path(ge=1, le=INT64)], body: RevokeIn, principal: Writer, store: StoreDep
) -> RevokeOut:
    site = named_site(store, principal, body.site, "body.site")
    try:
        return RevokeOut(reset=revoke_decision(store, site.name, decision_id, principal.username))
    except DecisionError as error:
        if str(error).startswith("no decision"):
            raise not_found(str(error)) from None
        raise Problem(409, str(error), "conflict") from None
