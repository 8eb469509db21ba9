"""The status form (one finding, or many at once) read into a StatusChange: the same fields as `vigil findings
set-status`, with the same checks (response/states.py) applied later by the service."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from starlette.datastructures import FormData

from vigil.response.states import RESPONSE_STATUSES, Evidence, StatusChange

MAX_FIELD = 4000
"""Longest text a form field may carry."""


class FormError(ValueError):
    """A field that cannot be read; the message names it."""


def text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    if len(value) > MAX_FIELD:
        raise FormError(f"{name}: at most {MAX_FIELD} characters")
    return value.strip()


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FormError(f"{name}: expected a date YYYY-MM-DD, not {value!r}") from None


def status_change(form: FormData) -> StatusChange:
    status = text(form, "status")
    if status not in RESPONSE_STATUSES:
        raise FormError(f"status: expected one of {', '.join(RESPONSE_STATUSES)}")
    evidence = text(form, "evidence")
    planned = text(form, "planned_date")
    expires = text(form, "expires")
    return StatusChange(
        status=status,
        comment=text(form, "comment"),
        evidence=(Evidence("text", evidence),) if evidence else (),
        justification=text(form, "justification"),
        fco_number=text(form, "fco"),
        planned_date=_date("planned_date", planned) if planned else None,
        vendor_contact=text(form, "vendor_contact"),
        owner=text(form, "owner"),
        reason=text(form, "reason"),
        # A date holds through that whole day (UTC), as with `vigil findings set-status --expires`.
        expires_at=datetime.combine(_date("expires", expires) + timedelta(days=1), time(), tzinfo=UTC)
        if expires
        else None,
    )


def version(form: FormData) -> int | None:
    value = text(form, "version")
    if value is None:
        return None
    if not value.isdigit() or len(value) > 12:
        raise FormError("version: expected a whole number")
    return int(value)
