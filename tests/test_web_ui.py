"""The web UI through the real app (vigil.web.app.create_app) on SQLite and PostgreSQL: every page renders for a
logged-in viewer, anonymous visitors go to /login, another site's things answer 404, forms need the CSRF token
and the right role, status/review/bulk/report round trips, and hostile advisory and inventory text renders
inert (escaped) everywhere."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

import uidata
from uidata import ATTRIBUTE, JS_URL, PASSWORD, SCRIPT, XSS_ASSET, XSS_TRACKING_ID, UiData
from vigil.config import load_settings
from vigil.services.findings_read import FindingQuery, find_findings
from vigil.services.store import open_store
from vigil.web.app import create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def data(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiData]:
    folder = tmp_path_factory.mktemp(f"ui-{request.param}")
    for url in uidata.database(request.param, folder):
        yield uidata.build(url, folder)


@pytest.fixture(scope="module")
def app(data: UiData) -> Iterator[Any]:
    application = create_app(load_settings(data.database_url))
    with TestClient(application) as client:  # runs the lifespan: the store closes afterwards
        yield client.app


def login(app: Any, username: str) -> tuple[TestClient, str]:
    """A client logged in as `username`, and its session's CSRF token (from the page's meta tag)."""
    client = TestClient(app, follow_redirects=False)
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/")
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert csrf is not None
    return client, csrf.group(1)


def findings_of(data: UiData, **filters: Any) -> list[dict[str, Any]]:
    store = open_store(load_settings(data.database_url))
    try:
        return find_findings(store, FindingQuery(site=uidata.SITE, **filters))
    finally:
        store.close()


PAGES = {
    "/": "<h1>Dashboard</h1>",
    "/advisories": "<h1>Advisories</h1>",
    "/advisories/PHILIPS-2021-01-14-IPMI": "Review queue",
    "/devices": "<h1>Devices</h1>",
    "/findings": "<h1>Findings</h1>",
    "/actions": "<h1>Action items",
    "/fco": "<h1>Field change orders",
    "/audit": "<h1>Audit log</h1>",
    "/reports": "<h1>Export a report</h1>",
}


def test_every_page_renders_for_a_viewer(app: Any, data: UiData) -> None:
    client, _ = login(app, "vic")
    for path, marker in PAGES.items():
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert marker in page.text, path
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src" in page.headers["content-security-policy"]
        # No inline script, handler or style anywhere: the CSP would block them.
        assert "<script>" not in page.text and " style=" not in page.text and " onclick=" not in page.text
    device = findings_of(data, advisory="PHILIPS-2021-01-14-IPMI")[0]
    page = client.get(f"/devices/{data.site_id}/{quote(device['asset_id'], safe='')}")
    assert page.status_code == 200
    assert "Installed products" in page.text and "PHILIPS-2021-01-14-IPMI" in page.text
    page = client.get(f"/findings/{device['id']}")
    assert page.status_code == 200 and "Match evidence" in page.text
    # A viewer may not import: the page says so.
    assert client.get("/imports").status_code == 403


def test_anonymous_visitors_go_to_login(app: Any) -> None:
    client = TestClient(app)
    for path in ("/", "/findings?status=affected", "/advisories/PHILIPS-2021-01-14-IPMI"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=" + quote(path, safe="")
    assert client.post("/findings/1/status", data={"status": "fixed"}).status_code == 401


def test_another_sites_things_are_not_found(app: Any, data: UiData) -> None:
    client, _ = login(app, "ana")
    store = open_store(load_settings(data.database_url))
    try:
        other = find_findings(store, FindingQuery(site=uidata.OTHER_SITE), limit=1)[0]
    finally:
        store.close()
    for path in (
        f"/devices/{data.other_site_id}/{quote(other['asset_id'], safe='')}",
        f"/findings/{other['id']}",
        f"/findings?site={data.other_site_id}",
        f"/devices?site={data.other_site_id}",
        f"/actions?site={data.other_site_id}",
        f"/fco?site={data.other_site_id}",
        f"/audit?chain={data.other_site_id}",
        f"/actions/{data.other_site_id}/1",
        "/findings/999999999",
    ):
        assert client.get(path).status_code == 404, path
    # Lists never show the other site's devices, and its findings cannot be changed.
    assert other["asset_id"] not in client.get("/findings").text
    _, csrf = login(app, "ana")
    answer = client.post(
        f"/findings/{other['id']}/status", data={"status": "fixed", "evidence": "x", "csrf_token": csrf}
    )
    assert answer.status_code in (403, 404)  # CSRF of another session (403) or the other site (404)
    client2, csrf2 = login(app, "ana")
    answer = client2.post(
        f"/findings/{other['id']}/status", data={"status": "fixed", "evidence": "x", "csrf_token": csrf2}
    )
    assert answer.status_code == 404
    # The admin sees every site.
    admin, _ = login(app, "root")
    assert admin.get(f"/findings/{other['id']}").status_code == 200


def test_hostile_text_renders_inert(app: Any, data: UiData) -> None:
    client, _ = login(app, "vic")
    escaped_script = str(escape(SCRIPT))
    pages = [
        f"/advisories/{quote(XSS_TRACKING_ID, safe='')}",
        "/advisories",
        "/",
        f"/devices/{data.site_id}/{quote(XSS_ASSET, safe='')}",
        f"/findings?asset={quote(XSS_ASSET, safe='')}",
        f"/findings?advisory={quote(XSS_TRACKING_ID, safe='')}",
        f"/devices?site={data.site_id}",
    ]
    hostile = findings_of(data, asset_id=XSS_ASSET)
    assert hostile, "the hostile device should match the Philips advisories"
    pages += [f"/findings/{f['id']}" for f in hostile]
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        text = page.text
        assert SCRIPT not in text, path
        assert ATTRIBUTE not in text, path
        assert "onerror=alert(1)>" not in text, path
        assert "<b>\"'" not in text, path
        assert not re.search(r"""href=["']?javascript:""", text, re.IGNORECASE), path
    advisory = client.get(f"/advisories/{quote(XSS_TRACKING_ID, safe='')}").text
    assert f"Title {escaped_script}" in advisory  # shown, as text
    assert str(escape(ATTRIBUTE)) in advisory
    assert f"Change the password {escaped_script}" in advisory
    assert str(escape(JS_URL)) in advisory  # the URL is shown, never linked
    device = client.get(f"/devices/{data.site_id}/{quote(XSS_ASSET, safe='')}").text
    assert f"Room {escaped_script}" in device
    assert str(escape(XSS_ASSET)) in device
    assert (
        f'href="/devices/{data.site_id}/{quote(XSS_ASSET, safe="")}"'
        in client.get(f"/findings?asset={quote(XSS_ASSET, safe='')}").text
    )


def test_setting_a_status_needs_csrf_role_and_evidence(app: Any, data: UiData) -> None:
    target = next(f for f in findings_of(data, response_statuses=["affected"]) if f["asset_id"] != XSS_ASSET)
    path = f"/findings/{target['id']}/status"
    form = {"status": "mitigated", "evidence": "IPMI password changed, checked with ipmitool"}
    viewer, viewer_csrf = login(app, "vic")
    assert viewer.post(path, data=form | {"csrf_token": viewer_csrf}).status_code == 403
    analyst, csrf = login(app, "ana")
    assert analyst.post(path, data=form).status_code == 403  # no CSRF token
    refused = analyst.post(path, data={"status": "mitigated", "csrf_token": csrf})
    assert refused.status_code == 422 and "evidence" in refused.text  # the life cycle's own words
    done = analyst.post(path, data=form | {"csrf_token": csrf, "version": str(target["response_version"])})
    assert done.status_code == 303 and done.headers["location"] == f"/findings/{target['id']}?done=status"
    page = analyst.get(done.headers["location"]).text
    assert "Status recorded." in page and "IPMI password changed, checked with ipmitool" in page
    assert 'status-mitigated">mitigated' in page
    # A stale version is a conflict, not a silent overwrite.
    stale = analyst.post(
        path, data={"status": "fixed", "evidence": "x", "csrf_token": csrf, "version": str(target["response_version"])}
    )
    assert stale.status_code == 409 and "reload and retry" in stale.text


def test_review_queue_confirms_a_possible_match(app: Any, data: UiData) -> None:
    pending = findings_of(data, matches=["possible"], review="pending")
    assert pending, "the generated site should have possible matches"
    target = pending[0]
    advisory_path = f"/advisories/{quote(target['advisory_id'], safe='')}"
    analyst, csrf = login(app, "ana")
    assert f'action="/findings/{target["id"]}/review"' in analyst.get(advisory_path).text
    technician, tech_csrf = login(app, "tech")
    denied = technician.post(
        f"/findings/{target['id']}/review", data={"decision": "confirmed", "csrf_token": tech_csrf}
    )
    assert denied.status_code == 403
    answer = analyst.post(
        f"/findings/{target['id']}/review",
        data={
            "decision": "confirmed",
            "comment": "same model, checked on site",
            "csrf_token": csrf,
            "back": advisory_path,
        },
    )
    assert answer.status_code == 303 and answer.headers["location"] == advisory_path + "?done=review"
    assert "Review recorded." in analyst.get(answer.headers["location"]).text
    assert findings_of(data, asset_id=target["asset_id"], matches=["possible"], review="confirmed")
    exact = findings_of(data, matches=["exact"])[0]
    refused = analyst.post(f"/findings/{exact['id']}/review", data={"decision": "rejected", "csrf_token": csrf})
    assert refused.status_code == 422 and "only possible matches are reviewed" in refused.text


def test_bulk_status_change_reports_each_finding(app: Any, data: UiData) -> None:
    affected = [f for f in findings_of(data, response_statuses=["affected"]) if f["asset_id"] != XSS_ASSET][-3:]
    under = findings_of(data, matches=["possible"], review="pending")[-1]
    analyst, csrf = login(app, "ana")
    ids = [str(f["id"]) for f in affected] + [str(under["id"])]
    answer = analyst.post(
        "/findings/bulk",
        data={
            "finding": ids,
            "status": "remediation_scheduled",
            "fco": "FCO72200452",
            "planned_date": "2027-01-15",
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 200
    assert f"{len(affected)} finding(s) changed, 1 refused." in answer.text
    assert "confirm it first" in answer.text
    fco = analyst.get("/fco").text
    assert "FCO72200452" in fco and "2027-01-15" in fco
    assert analyst.post("/findings/bulk", data={"status": "fixed", "csrf_token": csrf}).status_code == 422


def test_findings_pages_follow_the_cursor(app: Any, data: UiData) -> None:
    analyst, _ = login(app, "ana")
    seen: list[str] = []
    path = "/findings"
    for _ in range(20):
        page = analyst.get(path).text
        seen += re.findall(r'name="finding" value="(\d+)"', page)
        following = re.search(r'<a rel="next" href="([^"]+)"', page)
        if following is None:
            break
        path = "/findings" + html.unescape(following.group(1))
    assert len(seen) == len(set(seen))
    assert len(seen) == len(findings_of(data))
    assert len(seen) > 50, "the site should need more than one page"


def test_report_export_downloads_and_is_audited(app: Any, data: UiData) -> None:
    viewer, csrf = login(app, "vic")
    answer = viewer.post("/reports", data={"site": str(data.site_id), "format": "csv", "csrf_token": csrf})
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == f'attachment; filename="report-site-{data.site_id}.csv"'
    assert uidata.SITE in answer.text or "CVE-2020-27298" in answer.text
    assert viewer.post("/reports", data={"site": str(data.other_site_id), "csrf_token": csrf}).status_code == 404
    assert "report.generate" in viewer.get(f"/audit?chain={data.site_id}").text


def test_job_fragments_are_private(app: Any) -> None:
    analyst, _ = login(app, "ana")
    assert analyst.get("/imports").status_code == 200
    assert analyst.get("/imports/jobs/" + "0" * 32).status_code == 404
    assert analyst.get("/imports/jobs/not-a-job").status_code == 404
