"""/api/v1/exports: a site's VEX (CSAF, CycloneDX, OpenVEX) and its response report (HTML, PDF, CSV, XLSX), as
downloads. POST, not GET: each export is recorded in the site's audit chain, and a link must not do that."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from vigil.response.vex_model import escape_part
from vigil.services import access
from vigil.services.reports import DEFAULT_EXPIRING_WITHIN, ReportError, ReportQuery, generate_report
from vigil.services.vex import NothingToExport, VexExportRequest, VexRequestError, export_vex
from vigil.web.api.common import StoreDep, Text, named_site
from vigil.web.auth import Principal, require
from vigil.web.problems import Problem, bad_field

router = APIRouter(prefix="/exports", tags=["exports"])
Exporter = Annotated[Principal, Depends(require(access.EXPORTS))]

VEX_MEDIA = {"csaf": "application/json", "cyclonedx": "application/vnd.cyclonedx+json", "openvex": "application/json"}
REPORT_MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _download(content: bytes, media_type: str, filename: str) -> Response:
    # attachment + nosniff: a report's HTML is opened as a file, never rendered inside the app's origin.
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(content, media_type=media_type, headers=headers)


class VexIn(BaseModel):
    site: Text = Field(min_length=1, max_length=300)
    format: Literal["csaf", "cyclonedx", "openvex"] = "csaf"
    advisory: Text | None = Field(default=None, max_length=300, description="Only this advisory (tracking id).")


@router.post(
    "/vex",
    response_class=Response,
    responses={200: {"content": {"application/json": {}, "application/vnd.cyclonedx+json": {}}}},
    summary="Export a site's VEX",
)
def vex(body: VexIn, principal: Exporter, store: StoreDep) -> Response:
    """One statement per open finding (`vigil vex export`); 409 when the site has none to state."""
    site = named_site(store, principal, body.site, "body.site")
    request = VexExportRequest(site.name, body.format, body.advisory)
    try:
        made = export_vex(store, request, principal.username)
    except VexRequestError as error:
        raise bad_field("body.advisory", str(error)) from None
    except NothingToExport as error:
        raise Problem(409, str(error), "nothing-to-export") from None
    suffix = ".cdx.json" if body.format == "cyclonedx" else ".json"
    return _download(made.content, VEX_MEDIA[body.format], f"{escape_part(made.tracking_id)}{suffix}")


class ReportIn(BaseModel):
    site: Text = Field(min_length=1, max_length=300)
    format: Literal["html", "pdf", "csv", "xlsx"] = "html"
    advisory: Text | None = Field(default=None, max_length=300, description="Only this advisory (tracking id).")
    as_of: date | None = Field(default=None, description="Reference date (00:00 UTC); default now.")
    expiring_within: int = Field(default=DEFAULT_EXPIRING_WITHIN, ge=0, le=3650)


@router.post(
    "/report",
    response_class=Response,
    responses={200: {"content": {media.split(";")[0]: {} for media in REPORT_MEDIA.values()}}},
    summary="Generate a site's response report",
)
def report(body: ReportIn, principal: Exporter, store: StoreDep) -> Response:
    """Per-advisory and per-site status, overdue items, risk acceptances near expiry, evidence (`vigil report`)."""
    site = named_site(store, principal, body.site, "body.site")
    query = ReportQuery(site.name, body.advisory, body.expiring_within, body.as_of)
    try:
        built, content = generate_report(store, query, body.format, principal.username)
    except ReportError as error:
        raise bad_field("body.advisory", str(error)) from None
    name = f"report-{escape_part(site.name)}-{built.as_of.isoformat()}.{body.format}"
    return _download(content, REPORT_MEDIA[body.format], name)
