"""Report export: the same HTML/PDF/CSV/XLSX report as `vigil report`, for one visible site (and optionally
one advisory), downloaded as a file; generating one is recorded in the site's audit chain."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigil.services import access
from vigil.services.reports import REPORT_FORMATS, ReportError, ReportQuery, generate_report
from vigil.web.ui.common import Exporter, error_page, not_found, render, sites_of, store, viewer
from vigil.web.ui.status_form import text

router = APIRouter()

MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/reports")
def reports_form(request: Request) -> Response:
    principal = viewer(request, access.EXPORTS)
    if isinstance(principal, Response):
        return principal
    context = {"sites": sites_of(request, principal), "formats": REPORT_FORMATS}
    return render(request, principal, "reports.html", context)


@router.post("/reports")
async def report_export(request: Request, principal: Exporter) -> Response:
    form = await request.form()
    site_value = text(form, "site")
    site = next((s for s in sites_of(request, principal) if str(s.id) == site_value), None)
    if site is None:
        return not_found(request, principal, f"Site {site_value}")
    fmt = text(form, "format") or "html"
    if fmt not in REPORT_FORMATS:
        return error_page(request, principal, 422, f"format: expected one of {', '.join(REPORT_FORMATS)}")
    query = ReportQuery(site=site.name, advisory=text(form, "advisory"))
    try:
        _, content = generate_report(store(request), query, fmt, principal.username)
    except ReportError as error:
        return error_page(request, principal, 422, str(error))
    filename = f"report-site-{site.id}.{fmt}"
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        # The HTML report is a document of its own: never rendered inside vigil's origin with its scripts.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=headers)
