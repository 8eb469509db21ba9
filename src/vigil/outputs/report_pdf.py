"""A report as PDF: WeasyPrint lays out the very HTML `report_html` writes, with its print CSS (A4).

No network: the page references nothing outside itself, fonts come from fontconfig (Debian's DejaVu), and the
URL fetcher refuses every URL but data: URIs and files under the templates directory, so even a template
mistake cannot make a report fetch anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher

from vigil.outputs.report_html import render_html

if TYPE_CHECKING:
    from vigil.services.reports import Report

TEMPLATES = (Path(__file__).parent / "templates").resolve()


class LocalOnlyFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """Fetches data: URIs and files inside TEMPLATES; refuses everything else (http, ftp, other files)."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)

    def fetch(self, url: str, headers: Any = None) -> Any:
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(unquote(parts.path)).resolve()
            if parts.netloc not in ("", "localhost") or not path.is_relative_to(TEMPLATES):
                raise ValueError(f"report refuses to read {url}: only files of the report templates")
        elif parts.scheme != "data":
            raise ValueError(f"report refuses to fetch {url}: no network access while rendering")
        return super().fetch(url, headers)


def render_pdf(report: Report) -> bytes:
    """The report as a PDF document."""
    html = HTML(string=render_html(report), base_url=TEMPLATES.as_uri() + "/", url_fetcher=LocalOnlyFetcher())
    pdf: bytes = html.write_pdf()
    return pdf
