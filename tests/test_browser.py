"""The web UI in a real browser: Debian's Chromium driven by Playwright against the real server (uvicorn in a
subprocess on a free loopback port). Log in, open the dashboard, follow an advisory to an affected device, set a
status with evidence, confirm a `possible` match, import an inventory with live progress, export a report —
with no Content-Security-Policy violation on the way. Screenshots of each page go to the test's folder and to
docs/images/ (docs/web.md shows them)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import uidata
from conftest import ROOT

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
DOCS_IMAGES = ROOT / "docs" / "images"


def _skip_or_fail(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must run the browser tests)")
    pytest.skip(message)


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the playwright package is not installed")
    if not CHROMIUM.exists():
        _skip_or_fail(f"{CHROMIUM} not found: apt-get install -y chromium")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, uidata.UiData]]:
    _playwright()
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'vigil.db'}"
    data = uidata.build(url, folder)
    port = _free_port()
    env = {**os.environ, "VIGIL_DATABASE_URL": url}
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "vigil.web.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                pytest.fail(f"the server exited: {(folder / 'server.log').read_text()}")
            time.sleep(0.1)
        else:
            pytest.fail("the server did not answer /healthz")
        yield base, data
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _shot(page: Any, folder: Path, name: str) -> None:
    target = folder / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target, DOCS_IMAGES / f"web-{name}.png")


def test_from_login_to_report(server: tuple[str, uidata.UiData], tmp_path: Path) -> None:
    base, data = server
    sync_playwright = _playwright()
    violations: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        page = context.new_page()
        page.on(
            "console",
            lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
        )

        # Log in: an anonymous visit goes to the login form and comes back.
        page.goto(f"{base}/findings")
        assert "/login" in page.url
        _shot(page, tmp_path, "login")
        page.fill("input[name=username]", "ana")
        page.fill("input[name=password]", uidata.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/findings")

        # The dashboard.
        page.goto(f"{base}/")
        assert page.locator("h1").inner_text() == "Dashboard"
        assert page.locator("figure.chart svg rect.bar").count() > 0
        _shot(page, tmp_path, "dashboard")

        # Follow an advisory to an affected device.
        page.click("a[href='/advisories/PHILIPS-2021-01-14-IPMI']")
        page.wait_for_url(f"{base}/advisories/PHILIPS-2021-01-14-IPMI")
        assert "Affected devices" in page.content()
        _shot(page, tmp_path, "advisory")
        device_link = page.locator("section:has(h2:text('Affected devices')) a[href^='/devices/']").first
        asset_id = device_link.inner_text()
        device_link.click()
        page.wait_for_url(f"{base}/devices/**")
        assert page.locator("h1").inner_text() == f"Device {asset_id}"
        _shot(page, tmp_path, "device")

        # Set a status with evidence on one of its findings.
        page.locator("section:has(h2:text('Findings')) a[href^='/findings/']").first.click()
        page.wait_for_url(f"{base}/findings/*")
        form = page.locator("form.status-form")
        form.locator("select[name=status]").select_option("mitigated")
        assert form.locator("input[name=fco]").is_hidden()  # vigil.js shows what the status needs
        form.locator("textarea[name=evidence]").fill("IPMI password changed, checked with ipmitool")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**?done=status")
        assert "Status recorded." in page.content()
        assert "IPMI password changed, checked with ipmitool" in page.content()
        _shot(page, tmp_path, "finding")

        # Confirm a possible match from its advisory's review queue.
        page.goto(f"{base}/findings?match=possible&review=pending")
        _shot(page, tmp_path, "findings")
        page.locator("table a[href^='/advisories/']").first.click()
        page.wait_for_url(f"{base}/advisories/**")
        queue = page.locator("section:has(h2:text('Review queue')) tbody tr")
        pending = queue.count()
        row = queue.first
        row.locator("input[name=comment]").fill("same model on site")
        row.locator("button[value=confirmed]").click()
        page.wait_for_url("**?done=review")
        assert "Review recorded." in page.content()
        _shot(page, tmp_path, "review")
        assert page.locator("section:has(h2:text('Review queue')) tbody tr").count() in (pending - 1, pending)

        # Import an inventory: the upload goes to the API, the job's progress polls itself (htmx).
        inventory = tmp_path / "small.csv"
        inventory.write_text(
            "asset_id,manufacturer,model,firmware_version,site\n"
            f"UI-0001,Philips Healthcare,Interventional Workstation,BIOS A19,{uidata.SITE}\n",
            encoding="utf-8",
        )
        page.goto(f"{base}/imports")
        page.set_input_files("form[data-upload='/api/v1/assets/import'] input[type=file]", str(inventory))
        page.click("form[data-upload='/api/v1/assets/import'] button[type=submit]")
        page.wait_for_selector("#job-area .job[data-job-state=succeeded]", timeout=60_000)
        assert "added 1" in page.locator("#job-area").inner_text()
        _shot(page, tmp_path, "import")

        # Export a report.
        page.goto(f"{base}/reports")
        page.select_option("select[name=site]", str(data.site_id))
        page.select_option("select[name=format]", "html")
        _shot(page, tmp_path, "reports")
        with page.expect_download() as download:
            page.click("form.status-form button[type=submit]")
        saved = tmp_path / "report.html"
        download.value.save_as(saved)
        assert uidata.SITE in saved.read_text(encoding="utf-8")

        # The audit log shows what was done, by whom.
        page.goto(f"{base}/audit?chain={data.site_id}")
        text = page.content()
        assert "finding.status" in text and "finding.review" in text and "report.generate" in text
        _shot(page, tmp_path, "audit")
        browser.close()
    assert violations == []
