"""/api/v1/actions: action items of a site (list, rollup, show, assign, complete with evidence)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from vigil.services import access
from vigil.services.actions import (
    ActionError,
    ActionQuery,
    assign_action,
    complete_action,
    list_actions,
    rollup,
    show_action,
)
from vigil.web.api.common import INT64, Reader, StoreDep, Text, named_site
from vigil.web.auth import Principal, require
from vigil.web.pagination import Page, PageRequest, offset_of, offset_page, page_request
from vigil.web.problems import Problem, bad_field, not_found

router = APIRouter(prefix="/actions", tags=["actions"])
Worker = Annotated[Principal, Depends(require(access.ACTIONS_COMPLETE))]
SiteQuery = Annotated[str, Query(min_length=1, max_length=300, description="Site name.")]
ItemId = Annotated[int, Path(ge=1, le=INT64)]
State = Literal["open", "done", "void"]


def _query(
    store: Any,
    principal: Principal,
    site: str,
    advisory: str | None,
    state: list[State] | None,
    assignee: str | None,
    asset_id: str | None,
) -> ActionQuery:
    named = named_site(store, principal, site)
    return ActionQuery(named.name, advisory, tuple(state or ("open",)), assignee, asset_id)


def _read(store: Any, query: ActionQuery) -> list[dict[str, Any]]:
    try:
        return list_actions(store, query)
    except ActionError as error:
        raise bad_field("query.advisory", str(error)) from None


@router.get("", response_model=Page, summary="List a site's action items")
def list_(
    request: Request,
    principal: Reader,
    store: StoreDep,
    page: Annotated[PageRequest, Depends(page_request)],
    site: SiteQuery,
    advisory: Annotated[str | None, Query(max_length=300)] = None,
    state: Annotated[list[State] | None, Query(description="open (default), done, void.")] = None,
    assignee: Annotated[str | None, Query(max_length=300)] = None,
    asset_id: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Items brought up to date with the findings first (`vigil actions list --format json`)."""
    items = _read(store, _query(store, principal, site, advisory, state, assignee, asset_id))
    start = offset_of(page)
    return offset_page(request, page, items[start : start + page.limit + 1])


@router.get("/summary", response_model=list[dict[str, Any]], summary="Action items per advisory and category")
def summary(
    principal: Reader,
    store: StoreDep,
    site: SiteQuery,
    advisory: Annotated[str | None, Query(max_length=300)] = None,
) -> list[dict[str, Any]]:
    """Open, done and void items per advisory and category, then the site total (`--summary`)."""
    query = _query(store, principal, site, advisory, ["open", "done", "void"], None, None)
    return rollup(_read(store, query))


@router.get("/{item_id}", summary="Show an action item")
def show(item_id: ItemId, principal: Reader, store: StoreDep, site: SiteQuery) -> dict[str, Any]:
    named = named_site(store, principal, site)
    try:
        return show_action(store, named.name, item_id)
    except ActionError as error:
        raise not_found(str(error)) from None


class AssignIn(BaseModel):
    site: Text = Field(min_length=1, max_length=300)
    assignee: Text = Field(max_length=300, description="Who does it; empty: nobody.")


@router.post("/{item_id}/assign", summary="Assign an action item")
def assign(item_id: ItemId, body: AssignIn, principal: Worker, store: StoreDep) -> dict[str, Any]:
    named = named_site(store, principal, body.site, "body.site")
    try:
        return assign_action(store, named.name, item_id, body.assignee, principal.username)
    except ActionError as error:
        raise _refusal(error) from None


class CompleteIn(BaseModel):
    site: Text = Field(min_length=1, max_length=300)
    evidence: Text = Field(min_length=1, max_length=10_000, description="What was done, and how it was checked.")


class CompleteOut(BaseModel):
    """The item, and the status changes completing it made (a mitigation mitigates its affected findings)."""

    action: dict[str, Any]
    findings: list[dict[str, Any]]


@router.post("/{item_id}/complete", response_model=CompleteOut, summary="Complete an action item")
def complete(item_id: ItemId, body: CompleteIn, principal: Worker, store: StoreDep) -> CompleteOut:
    named = named_site(store, principal, body.site, "body.site")
    try:
        item, changes = complete_action(store, named.name, item_id, principal.username, body.evidence)
    except ActionError as error:
        raise _refusal(error) from None
    return CompleteOut(action=item, findings=changes)


def _refusal(error: ActionError) -> Problem:
    text = str(error)
    if text.startswith("no action"):
        return not_found(text)
    if " needs " in text:
        return Problem(422, text, "invalid-input")
    return Problem(409, text, "conflict")
