"""/api/v1/jobs: background jobs (imports, syncs, match runs) with progress; /api/v1/match starts a match run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from vigil.services import access
from vigil.services.jobs import Job, match_work
from vigil.web.api.assets import JobAccepted
from vigil.web.api.common import Reader, RunnerDep, StoreDep, Text, named_site, sites_of
from vigil.web.auth import Principal, require
from vigil.web.pagination import Page, PageRequest, offset_of, offset_page, page_request
from vigil.web.problems import not_found

router = APIRouter(tags=["jobs"])


def _visible(job: Job, principal: Principal) -> bool:
    """Your own jobs (an admin: everyone's), and only while you still see the site a job writes."""
    mine = job.owner == principal.user_id or principal.can(access.USERS_ADMIN)
    return mine and (job.site_id is None or principal.sees_site(job.site_id))


@router.get("/jobs", response_model=Page, summary="List your jobs")
def list_jobs(
    request: Request,
    principal: Reader,
    jobs: RunnerDep,
    page: Annotated[PageRequest, Depends(page_request)],
) -> Response:
    """Newest first; the last 500 jobs are remembered (in the database: any server process answers)."""
    start = offset_of(page)
    mine = [j.as_json() for j in jobs.jobs() if _visible(j, principal)]
    return offset_page(request, page, mine[start : start + page.limit + 1])


@router.get("/jobs/{job_id}", response_model=JobAccepted, summary="Show a job and its progress")
def show_job(
    job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], principal: Reader, jobs: RunnerDep
) -> JobAccepted:
    job = jobs.get(job_id)
    if job is None or not _visible(job, principal):
        raise not_found(f"no job {job_id}")
    return JobAccepted(**job.as_json())


class MatchRequest(BaseModel):
    """Which sites to match."""

    site: Text | None = Field(default=None, max_length=300, description="One site; omitted: every site you see.")


@router.post("/match", status_code=202, response_model=JobAccepted, summary="Match advisories to devices")
def match(
    body: MatchRequest,
    response: Response,
    store: StoreDep,
    jobs: RunnerDep,
    principal: Annotated[Principal, Depends(require(access.INVENTORY_IMPORT))],
) -> JobAccepted:
    """An incremental match run (`vigil match`) of the site or of every site you see, as a job."""
    sites = [named_site(store, principal, body.site)] if body.site is not None else sites_of(store, principal)
    names = None if principal.site_ids is None and body.site is None else [s.name for s in sites]
    site_id = sites[0].id if len(sites) == 1 and body.site is not None else None
    job = jobs.submit("match.run", principal.user_id, site_id, match_work(store, names))
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return JobAccepted(**job.as_json())
