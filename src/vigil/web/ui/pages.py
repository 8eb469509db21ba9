"""The dashboard. (The app serves src/vigil/web/static/ at /static.)"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigil.response.states import RESPONSE_STATUSES
from vigil.services.dashboard import SEVERITY_BANDS, dashboard
from vigil.web.ui.charts import bar_chart
from vigil.web.ui.common import render, store, viewer

router = APIRouter()


@router.get("/")
def dashboard_page(request: Request) -> Response:
    principal = viewer(request)
    if isinstance(principal, Response):
        return principal
    board = dashboard(store(request), principal.site_ids)
    status_chart = bar_chart(
        "Open findings by response status",
        [(s, board.by_status.get(s, 0), f"status-{s}") for s in RESPONSE_STATUSES if s in board.by_status],
    )
    severity_chart = bar_chart(
        "Open findings by CVSS severity", [(b, board.by_severity[b], f"severity-{b}") for b in SEVERITY_BANDS]
    )
    context = {"board": board, "status_chart": status_chart, "severity_chart": severity_chart}
    return render(request, principal, "dashboard.html", context)
