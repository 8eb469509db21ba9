"""A report as one self-contained HTML page (Jinja2, autoescaped): for browsers, and the source of the PDF.

Advisory titles, remediation texts, comments and evidence are untrusted text: autoescaping is on for every
template, nothing is marked safe, and URLs are shown as text, never as links.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined

from vigil import __version__

if TYPE_CHECKING:  # the model lives with its use case; outputs only read it
    from vigil.services.reports import Report

STATUS_HEADINGS = {
    "under_investigation": "under investigation",
    "affected": "affected",
    "not_affected": "not affected",
    "mitigated": "mitigated",
    "remediation_scheduled": "remediation scheduled",
    "fixed": "fixed",
    "risk_accepted": "risk accepted",
}
"""Column headings for response statuses; cells keep the VEX/CSAF words verbatim."""


def _date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat()


def _stamp(value: datetime | str | None) -> str:
    """A timestamp for people: `2024-06-01 09:30 UTC` (the CSV and XLSX keep full ISO 8601)."""
    if value is None:
        return ""
    moment = value
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return str(value)  # not a timestamp after all: show it as stored
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("vigil.outputs", "templates"),
        autoescape=True,  # on for every template name, not only *.html: all data is untrusted
        undefined=StrictUndefined,  # a misspelt field fails the test suite instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = _date
    env.filters["stamp"] = _stamp
    env.filters["heading"] = lambda status: STATUS_HEADINGS.get(status, status)
    return env


_ENV = _environment()


def render_html(report: Report) -> str:
    """The report as an HTML document (UTF-8 text) with print CSS for A4."""
    return _ENV.get_template("report.html").render(report=report, version=__version__)
