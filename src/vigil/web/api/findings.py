"""/api/v1/findings: list (filters as the CLI's, keyset pages), show with evidence and history, status changes
under optimistic locking (ETag / If-Match, or `expect_version`), bulk status changes, reviews of possible
matches."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, Field

from vigil.response.states import IllegalTransition
from vigil.services import access
from vigil.services.findings_bulk import MAX_BULK, bulk_set_status
from vigil.services.findings_page import (
    FindingsPageQuery,
    UnknownAdvisory,
    findings_page,
    locate_finding,
    show_visible_finding,
)
from vigil.services.findings_read import FindingQueryError, review_finding
from vigil.services.response import FindingNotFound, ResponseConflict, set_status
from vigil.web.api.common import (
    INT64,
    Reader,
    StatusChangeIn,
    StoreDep,
    Text,
    chosen_sites,
    conflict,
    pair_cursor,
    sites_of,
)
from vigil.web.auth import Principal, require
from vigil.web.pagination import Page, PageRequest, page_request, page_response
from vigil.web.problems import Problem, bad_field, not_found

router = APIRouter(prefix="/findings", tags=["findings"])

MatchStatus = Literal["affected", "fixed", "not_affected", "under_investigation"]
MatchLevel = Literal["exact", "probable", "possible"]
ReviewState = Literal["pending", "confirmed", "rejected"]
ResponseStatus = Literal[
    "under_investigation", "affected", "not_affected", "mitigated", "remediation_scheduled", "fixed", "risk_accepted"
]
FindingId = Annotated[int, Path(ge=1, le=INT64, description="Finding id.")]
ShortText = Annotated[str, Query(max_length=300)]


def etag(version: int) -> str:
    """The finding's response_version as an entity tag: it changes with every status change."""
    return f'"v{version}"'


def _version_of(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip()
    if text.startswith("W/"):
        raise bad_field("header.if-match", "a weak entity tag cannot guard a change: send the ETag as given")
    if not (text.startswith('"v') and text.endswith('"') and text[2:-1].isdigit() and len(text) < 24):
        raise bad_field("header.if-match", 'expected the finding\'s ETag, e.g. "v3"')
    return int(text[2:-1])


@router.get("", response_model=Page, summary="List findings")
def list_findings(
    request: Request,
    principal: Reader,
    store: StoreDep,
    page: Annotated[PageRequest, Depends(page_request)],
    site: Annotated[list[ShortText] | None, Query(description="Site name (repeat for several).")] = None,
    advisory: Annotated[str | None, Query(max_length=300, description="Advisory tracking id.")] = None,
    asset_id: Annotated[str | None, Query(max_length=200, description="One asset id.")] = None,
    status: Annotated[list[MatchStatus] | None, Query(description="The advisory's status (any of).")] = None,
    match: Annotated[list[MatchLevel] | None, Query(description="Match level (any of).")] = None,
    response_status: Annotated[list[ResponseStatus] | None, Query(description="The site's status (any of).")] = None,
    review: Annotated[ReviewState | None, Query(description="Review state of possible matches.")] = None,
    cve: Annotated[str | None, Query(max_length=50, description="One CVE id.")] = None,
    closed: Annotated[bool, Query(description="Include closed findings.")] = False,
    superseded: Annotated[bool, Query(description="Include findings a vendor's own advisory prevails over.")] = False,
) -> Response:
    """Open, prevailing findings unless `closed` / `superseded`; by site and id. Objects are those of
    `vigil findings --format json`."""
    after = pair_cursor(page.cursor)
    query = FindingsPageQuery(
        site_ids=[s.id for s in chosen_sites(store, principal, site or [])],
        advisory=advisory,
        asset_id=asset_id,
        statuses=status or (),
        matches=match or (),
        review=review,
        cve=cve,
        include_closed=closed,
        include_superseded=superseded,
        response_statuses=response_status or (),
    )
    try:
        found = findings_page(store, query, after, page.limit)
    except UnknownAdvisory as error:
        raise bad_field("query.advisory", str(error)) from None
    return page_response(request, found.items, page.limit, list(found.next_key) if found.next_key else None)


@router.get("/{finding_id}", summary="Show a finding")
def show(finding_id: FindingId, response: Response, principal: Reader, store: StoreDep) -> dict[str, Any]:
    """The finding with its evidence and history (`vigil findings show --format json`). Its ETag is the
    response_version: send it back as If-Match when changing the status."""
    found = show_visible_finding(store, [s.id for s in sites_of(store, principal)], finding_id)
    if found is None:
        raise not_found(f"no finding {finding_id}")
    response.headers["ETag"] = etag(found["response_version"])
    return found


class StatusRequest(StatusChangeIn):
    """A status change for one finding."""

    expect_version: int | None = Field(
        default=None, ge=1, le=INT64, description="Refuse (409) unless the finding is still at this response_version."
    )


@router.post("/{finding_id}/status", summary="Set a finding's response status")
def change_status(
    finding_id: FindingId,
    body: StatusRequest,
    response: Response,
    store: StoreDep,
    principal: Annotated[Principal, Depends(require(access.FINDINGS_STATUS))],
    if_match: Annotated[str | None, Header(max_length=40, description="The ETag read: refuse (412) if stale.")] = None,
) -> dict[str, Any]:
    """One device's status (a per-device override: decide-once rules leave it alone after). The life cycle
    refuses illegal moves and missing requirements (422); a stale If-Match answers 412, a stale
    `expect_version` 409: reload and retry."""
    sites = sites_of(store, principal)
    site_id = locate_finding(store, [s.id for s in sites], finding_id)
    if site_id is None:
        raise not_found(f"no finding {finding_id}")
    site = next(s for s in sites if s.id == site_id)
    header_version = _version_of(if_match)
    expected = header_version if header_version is not None else body.expect_version
    try:
        set_status(store, site.name, finding_id, body.change(), principal.username, expected)
    except FindingNotFound:
        raise not_found(f"no finding {finding_id}") from None
    except IllegalTransition as error:
        raise Problem(422, f"finding {finding_id}: {error}", "illegal-transition") from None
    except ResponseConflict as error:
        if header_version is not None:
            raise Problem(412, str(error), "stale-version") from None
        raise conflict(str(error)) from None
    found = show_visible_finding(store, [site_id], finding_id)
    assert found is not None
    response.headers["ETag"] = etag(found["response_version"])
    return found


class BulkStatusRequest(StatusChangeIn):
    """One status change for many findings."""

    finding_ids: list[Annotated[int, Field(ge=1, le=INT64)]] = Field(min_length=1, max_length=MAX_BULK)
    expect_versions: dict[str, Annotated[int, Field(ge=1, le=INT64)]] = Field(
        default_factory=dict,
        max_length=MAX_BULK,
        description="Finding id -> the response_version read: a finding that moved since is refused.",
    )


class BulkStatusResult(BaseModel):
    """What a bulk change did, finding by finding."""

    applied: list[dict[str, Any]]
    refused: list[dict[str, Any]]


@router.post("/bulk-status", response_model=BulkStatusResult, summary="Set many findings' response status")
def bulk_status(
    body: BulkStatusRequest,
    store: StoreDep,
    principal: Annotated[Principal, Depends(require(access.FINDINGS_STATUS))],
) -> BulkStatusResult:
    """Every finding the life cycle allows changes, in one transaction; the others are listed with the reason
    (unknown, not visible, stale, refused). A concurrent writer answers 409 with nothing written."""
    versions: dict[int, int] = {}
    for key, value in body.expect_versions.items():
        if not key.isdigit() or len(key) > 19:
            raise bad_field("body.expect_versions", f"{key[:40]!r} is not a finding id")
        versions[int(key)] = value
    try:
        outcome = bulk_set_status(
            store,
            [s.id for s in sites_of(store, principal)],
            body.finding_ids,
            body.change(),
            principal.username,
            versions,
        )
    except IllegalTransition as error:
        raise Problem(422, str(error), "illegal-transition") from None
    except ResponseConflict as error:
        raise conflict(str(error)) from None
    return BulkStatusResult(applied=outcome.applied, refused=outcome.refused)


class ReviewRequest(BaseModel):
    """Confirm or reject a possible match."""

    decision: Literal["confirmed", "rejected"]
    comment: Text | None = Field(default=None, max_length=10_000)


@router.post("/{finding_id}/review", summary="Confirm or reject a possible match")
def review(
    finding_id: FindingId,
    body: ReviewRequest,
    store: StoreDep,
    principal: Annotated[Principal, Depends(require(access.FINDINGS_REVIEW))],
) -> dict[str, Any]:
    """Only open `possible` findings are reviewed (422 otherwise); returns the finding."""
    if locate_finding(store, [s.id for s in sites_of(store, principal)], finding_id) is None:
        raise not_found(f"no finding {finding_id}")
    try:
        return review_finding(store, finding_id, body.decision, principal.username, body.comment)
    except FindingQueryError:
        raise not_found(f"no finding {finding_id}") from None
    except ValueError as error:
        raise Problem(422, str(error), "illegal-transition") from None
