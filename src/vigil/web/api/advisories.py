"""/api/v1/advisories: list (filters, pages), show, upload (a background job), sync from a provider (a job)."""

from __future__ import annotations

import shutil
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from vigil.services import access
from vigil.services.advisory_read import AdvisoryNotFound, list_advisories, show_advisory
from vigil.services.jobs import advisory_work, record_upload, sync_work
from vigil.web.api.assets import JobAccepted
from vigil.web.api.common import Reader, RunnerDep, StoreDep, Text
from vigil.web.api.uploads import safe_filename, spool
from vigil.web.auth import Principal, require
from vigil.web.pagination import Page, PageRequest, offset_of, offset_page, page_request
from vigil.web.problems import Problem, bad_field, not_found

router = APIRouter(prefix="/advisories", tags=["advisories"])


@router.get("", response_model=Page, summary="List advisories")
def list_(
    request: Request,
    principal: Reader,
    store: StoreDep,
    page: Annotated[PageRequest, Depends(page_request)],
    publisher: Annotated[str | None, Query(max_length=300, description="Publisher name contains this.")] = None,
    cve: Annotated[str | None, Query(max_length=50, description="Names this CVE.")] = None,
    search: Annotated[str | None, Query(max_length=300, description="Title or tracking id contains this.")] = None,
) -> Response:
    """Current revision of every advisory, newest first (`vigil advisories list --format json`)."""
    start = offset_of(page)
    rows = list_advisories(store, publisher, cve, search, page.limit + 1, start)
    return offset_page(request, page, rows)


@router.get("/{tracking_id}", summary="Show an advisory")
def show(tracking_id: str, principal: Reader, store: StoreDep) -> dict[str, Any]:
    """Everything stored of the current revision, and the revision history (`vigil advisories show`)."""
    try:
        return show_advisory(store, tracking_id)
    except AdvisoryNotFound as error:
        if "several publishers" in str(error):
            raise Problem(409, str(error), "ambiguous") from None
        raise not_found(str(error)) from None


@router.post(
    "",
    status_code=202,
    response_model=JobAccepted,
    summary="Upload a CSAF advisory to import",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def upload(
    request: Request,
    response: Response,
    store: StoreDep,
    jobs: RunnerDep,
    principal: Annotated[Principal, Depends(require(access.ADVISORIES_IMPORT))],
    filename: Annotated[str, Query(max_length=200, description="Name of the document (.json).")] = "advisory.json",
) -> JobAccepted:
    """The body is the CSAF document, streamed to disk (413 past VIGIL_MAX_DOCUMENT_BYTES), then checked and
    stored by a background job like `vigil advisories import` (202): the job's result says imported,
    revision, unchanged or rejected, with the reason."""
    name = safe_filename(filename, "advisory.json", (".json",))
    path = await spool(request, store.settings.max_document_bytes, name)
    try:
        record_upload(store, None, principal.username, "advisory.upload", path, name)
        content = path.read_bytes()
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    job = jobs.submit("advisory.import", principal.user_id, None, advisory_work(store, content, name))
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return JobAccepted(**job.as_json())


class SyncRequest(BaseModel):
    """Where to sync from."""

    source: Text = Field(
        min_length=1, max_length=2000, description="provider-metadata.json URL or a distribution directory URL."
    )


@router.post("/sync", status_code=202, response_model=JobAccepted, summary="Sync advisories from a CSAF provider")
def sync_(
    body: SyncRequest,
    response: Response,
    store: StoreDep,
    jobs: RunnerDep,
    principal: Annotated[Principal, Depends(require(access.ADVISORIES_IMPORT))],
) -> JobAccepted:
    """Fetch what changed since the last sync and import it (`vigil advisories sync`), as a job. Only http(s)
    URLs: the server's own directories are not the API's to read. Private addresses are refused (loopback
    mirrors are allowed, as in the CLI)."""
    source = body.source.strip()
    if not source.lower().startswith(("https://", "http://")):
        raise bad_field("body.source", "must be an http(s) URL")
    job = jobs.submit("advisory.sync", principal.user_id, None, sync_work(store, source))
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return JobAccepted(**job.as_json())
