"""Import pages: upload an inventory or an advisory to the API (vigil.js sends the file as the request body,
as any API client would), then follow the background job's progress — an htmx fragment that polls itself
until the job has ended. The job is read from the same runner as GET /api/v1/jobs/{id}, with the same rule:
your own jobs (an admin: everyone's), and only while you still see the site the job writes."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigil.services import access
from vigil.services.jobs import Job, JobRunner
from vigil.web.auth import Principal
from vigil.web.ui.common import error_page, not_found, render, sites_of, viewer

router = APIRouter()

JOB_ID = re.compile(r"^[0-9a-f]{32}$")


def _visible(job: Job, principal: Principal) -> bool:
    mine = job.owner == principal.user_id or principal.can(access.USERS_ADMIN)
    return mine and (job.site_id is None or principal.sees_site(job.site_id))


@router.get("/imports")
def imports_page(request: Request) -> Response:
    principal = viewer(request)
    if isinstance(principal, Response):
        return principal
    may_inventory = principal.can(access.INVENTORY_IMPORT)
    may_advisories = principal.can(access.ADVISORIES_IMPORT)
    if not (may_inventory or may_advisories):
        return error_page(request, principal, 403, f"Your role ({principal.role}) may not import.")
    runner: JobRunner = request.app.state.jobs
    jobs = [j for j in runner.jobs() if _visible(j, principal)][:20]
    context = {
        "sites": sites_of(request, principal),
        "may_inventory": may_inventory,
        "may_advisories": may_advisories,
        "jobs": jobs,
    }
    return render(request, principal, "imports.html", context)


@router.get("/imports/jobs/{job_id}")
def job_fragment(request: Request, job_id: str) -> Response:
    """The job's state as an HTML fragment; while it runs, the fragment asks for itself again a second later."""
    principal = viewer(request)
    if isinstance(principal, Response):
        return principal
    runner: JobRunner = request.app.state.jobs
    job = runner.get(job_id) if JOB_ID.match(job_id) else None
    if job is None or not _visible(job, principal):
        return not_found(request, principal, f"Job {job_id}")
    name = "_job.html" if request.headers.get("HX-Request") else "job.html"
    return render(request, principal, name, {"job": job.as_json()})
