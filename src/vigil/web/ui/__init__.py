"""The server-rendered web UI (Jinja2 + htmx, no JS build): one module per area, all behind `router`, none in
the OpenAPI schema. Pages read through services/ like the CLI and the API, so all three show the same truth."""

from __future__ import annotations

from fastapi import APIRouter

from vigil.web.ui import actions, advisories, audit, devices, findings, imports, pages, reports
from vigil.web.ui.common import templates

__all__ = ["router", "templates"]

router = APIRouter(include_in_schema=False)
for module in (pages, advisories, devices, findings, actions, audit, reports, imports):
    router.include_router(module.router)
