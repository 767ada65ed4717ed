"""Browser test of the pages: Debian's chromium driven by Playwright (never a
downloaded browser). A missing chromium or playwright fails the run (never a skip).
Screenshots go to the test's tmp dir, and to $CCPLANE_SCREENSHOTS_DIR when set."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

import playwright.async_api as playwright_api  # missing, the run fails (never a skip)

from tests.e2e.browser import CHROMIUM, require_chromium, shot
from tests.support.api import ApiCaller


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


async def test_supervisor_logs_in_and_sees_the_panel(app_client: Any, root: ApiCaller, domain: str, tmp_path: Path) -> None:
    username, password = f"sv{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": "Sara Supervisora", "role": "supervisor", "password": password}, 201)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 720})
            await page.goto(base + "/login")
            await shot(page, tmp_path, "login.png")
            await page.fill("#username", username)
            await page.fill("#password", password)
            await page.click("button[type=submit]")
            await page.wait_for_url(base + "/supervisor")  # a supervisor starts on the panel
            await page.goto(base + "/")
            assert "Sara Supervisora" in await page.content()
            await shot(page, tmp_path, "home.png")
            await page.goto(base + "/supervisor")
            # the snapshot arrived over the live feed: the agents table was redrawn
            await page.wait_for_selector("#agents td:has-text('Nenhum agente conectado')", timeout=5000)
            await shot(page, tmp_path, "supervisor.png")
        finally:
            await browser.close()


from tests.integration.conftest import scene  # noqa: E402,F401 - the real-sandbox Scene fixture


async def test_panel_shows_a_call_live(app_client: Any, root: ApiCaller, scene: Any, tmp_path: Path) -> None:  # noqa: F811
    await scene.extension("7401", phone="auto")
    await scene.queue("bq", strategy="ringall", ring_timeout=5, wrapup_time=8, extensions=["7401"])
    await scene.agent(["bq"], "7401")
    # a supervisor sees the queues of their monitoring groups (and their agents)
    await root.ok("POST", f"/domains/{scene.domain}/monitoring-groups", {"name": "g-bq", "queues": ["bq"]}, 201)
    username, password = f"sv{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{scene.domain}/users",
                  {"username": username, "name": "Sara", "role": "supervisor", "password": password,
                   "monitoring_groups": ["g-bq"]}, 201)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 720})
            await page.goto(base + "/login?next=/supervisor")
            await page.fill("#username", username)
            await page.fill("#password", password)
            await page.click("button[type=submit]")
            await page.wait_for_selector(".badge.s-available", timeout=5000)
            caller = await scene.call("bq", caller_id="1133334444")
            await page.wait_for_selector(".badge.s-in_call", timeout=10000)  # no reload
            await page.wait_for_selector("#calls td:has-text('1133334444')", timeout=5000)
            await shot(page, tmp_path, "supervisor-call.png")
            await scene.hangup(caller)
            await page.wait_for_selector(".badge.s-wrapup:has-text(' s')", timeout=10000)
            await shot(page, tmp_path, "supervisor-wrapup.png")
        finally:
            await browser.close()
