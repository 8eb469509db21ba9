"""The REST API under /api/v1: one router module per domain, all thin shells over vigil.services."""

from __future__ import annotations

from fastapi import APIRouter

from vigil.web.api import actions, advisories, assets, audit, decisions, exports, findings, jobs, priorities

API_PREFIX = "/api/v1"
API_ERRORS = (400, 401, 403, 404, 409, 412, 413, 422)
"""Statuses any endpoint may answer with a problem: the app documents them on every operation of the
OpenAPI document (web/app.py), so clients and schemathesis know every error's shape."""


def api_router() -> APIRouter:
    """Every domain's routes under API_PREFIX."""
    router = APIRouter(prefix=API_PREFIX)
    for module in (advisories, assets, findings, decisions, actions, priorities, exports, audit, jobs):
        router.include_router(module.router)
    return router
