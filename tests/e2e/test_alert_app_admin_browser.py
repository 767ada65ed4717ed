"""Issue 13, the alert-app customisation page in real chromium: the live preview (the
app's own markup and CSS in a frame) follows what the admin types before any save;
a bad colour is refused with the API's message at that field and nothing is
stored; the saved look is what /app/{domain} shows (name, colours, logo off, the
three button texts). Also: the sidebar names the role in words, in both languages."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import playwright.async_api as playwright_api  # missing, the run fails (never a skip)
import pytest

from tests.e2e.browser import axe_violations, launch, login, require_chromium, shot
from tests.support.api import ApiCaller


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


def _f(key: str) -> str:
    return f"[id='f-{key}']"


async def _css_var(frame: Any, selector: str, prop: str) -> str:
    return str(await frame.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}"))


async def test_customise_the_alert_app_with_a_live_preview(app_client: Any, root: ApiCaller, domain: str,
                                                           tmp_path: Path) -> None:
    username, password = f"ad{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": "Alice Administradora", "role": "admin", "password": password}, 201)
    await root.ok("POST", f"/domains/{domain}/monitored-persons",
                  {"name": "Joana da Silva", "cpf": "52998224725", "phone": "11987654321", "password": "senha-do-app"},
                  201)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await launch(p)
        try:
            page = await (await browser.new_context(viewport={"width": 1440, "height": 1000})).new_page()
            await login(page, base, username, password, "/admin/alert-app")
            assert (await page.text_content(".me .role") or "").strip() == "Administrador(a)"
            frame_el = await page.wait_for_selector("#preview")
            await page.wait_for_selector("#preview[data-applied]")
            frame = await frame_el.content_frame()
            assert frame is not None
            assert (await frame.text_content("[data-text=red]") or "").strip() == "Vermelho"  # the defaults
            assert await page.input_value(_f("colors.red")) == "#c62828"
            assert await axe_violations(page) == []

            # the preview follows the typing; nothing is saved yet
            await page.fill(_f("app_name"), "Rede Acolher")
            await page.fill(_f("texts.red.button"), "Socorro")
            await page.fill(_f("texts.yellow.button"), "Atenção")
            await page.fill(_f("texts.green.button"), "Estou bem")
            await page.fill(_f("colors.red"), "#b00020")
            await page.fill(_f("colors.primary"), "#243b6b")
            await page.uncheck(_f("show_logo"))
            await frame.wait_for_selector("[data-text=red]:has-text('Socorro')")
            assert (await frame.text_content(".bar .name") or "").strip() == "Rede Acolher"
            assert (await frame.text_content("[data-text=yellow]") or "").strip() == "Atenção"
            assert (await frame.text_content("[data-text=green]") or "").strip() == "Estou bem"
            assert await _css_var(frame, ".lv-red", "backgroundColor") == "rgb(176, 0, 32)"
            assert await _css_var(frame, ".bar", "backgroundColor") == "rgb(36, 59, 107)"
            assert await frame.is_hidden(".bar .logo")
            # the colour picker beside the field follows it too
            assert await page.eval_on_selector(".swatch[data-for='f-colors.red']", "e => e.value") == "#b00020"
            assert (await root.ok("GET", f"/domains/{domain}/alert-app"))["app_name"] == "Canal de Alertas"
            await shot(page, tmp_path, "admin-alert-app-preview.png", full_page=True)

            # a bad value: the API's message at that field, what was typed kept, nothing stored
            await page.fill(_f("colors.yellow"), "amarelo")
            await page.fill(_f("ack_deadlines.red"), "2")
            await page.click("#app-form button[type=submit]")
            await page.wait_for_selector("[id='e-colors.yellow']")
            assert "#RRGGBB" in (await page.text_content("[id='e-colors.yellow']") or "")
            assert "5" in (await page.text_content("[id='e-ack_deadlines.red']") or "")
            assert await page.get_attribute(_f("colors.yellow"), "aria-invalid") == "true"
            await page.wait_for_selector(".error-summary a[href='#f-colors.yellow']")
            assert await page.input_value(_f("texts.red.button")) == "Socorro"
            assert not await page.is_checked(_f("show_logo"))
            assert (await root.ok("GET", f"/domains/{domain}/alert-app"))["app_name"] == "Canal de Alertas"
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-alert-app-error.png", full_page=True)

            await page.fill(_f("colors.yellow"), "#f2b705")
            await page.fill(_f("ack_deadlines.red"), "20")
            await page.fill(_f("call_number"), "1140028922")
            await page.click("#app-form button[type=submit]")
            await page.wait_for_selector("#saved")
            stored = await root.ok("GET", f"/domains/{domain}/alert-app")
            assert stored["app_name"] == "Rede Acolher" and stored["show_logo"] is False
            assert stored["colors"]["red"] == "#b00020" and stored["call_number"] == "1140028922"
            assert stored["ack_deadlines"]["red"] == 20
            assert stored["texts"]["red"]["button"] == "Socorro"
            assert await page.input_value(_f("texts.green.button")) == "Estou bem"  # the form reads it back

            # the real app shows the saved customisation
            app = await (await browser.new_context(viewport={"width": 390, "height": 844})).new_page()
            await app.goto(f"{base}/app/{domain}")
            assert (await app.text_content(".bar .name") or "").strip() == "Rede Acolher"
            assert await app.is_hidden(".bar .logo")
            assert await _css_var(app, ".bar", "backgroundColor") == "rgb(36, 59, 107)"
            await app.fill("#cpf", "52998224725")
            await app.fill("#password", "senha-do-app")
            await app.click("#login button[type=submit]")
            await app.wait_for_selector("#v-buttons:not([hidden]) .lv-red [data-text=red]:has-text('Socorro')")
            assert (await app.text_content("[data-text=yellow]") or "").strip() == "Atenção"
            assert (await app.text_content("[data-text=green]") or "").strip() == "Estou bem"
            assert await _css_var(app, ".lv-red", "backgroundColor") == "rgb(176, 0, 32)"
            assert await axe_violations(app) == []
            await shot(app, tmp_path, "alert-app-customised.png")

            # English: the role and the page in the catalogue's words
            await page.goto(base + "/lang/en")
            await page.goto(base + "/admin/alert-app")
            assert (await page.text_content(".me .role") or "").strip() == "Administrator"
            assert (await page.text_content("h1") or "").strip() == "Alert app"
            assert await axe_violations(page) == []

            # a supervisor may not change it (the API's rule), the page says so
            sv_user, sv_pass = f"sv{secrets.token_hex(3)}", secrets.token_urlsafe(10)
            await root.ok("POST", f"/domains/{domain}/users",
                          {"username": sv_user, "name": "Sara", "role": "supervisor", "password": sv_pass}, 201)
            sv = await (await browser.new_context()).new_page()
            await login(sv, base, sv_user, sv_pass, "/supervisor")
            assert (await sv.text_content(".me .role") or "").strip() == "Supervisor(a)"
            resp = await sv.goto(base + "/admin/alert-app")
            assert resp is not None and resp.status == 403
        finally:
            await browser.close()
