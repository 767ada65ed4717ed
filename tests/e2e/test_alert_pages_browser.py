"""Issue 13 acceptance, alert and report pages, in Debian's chromium (Playwright
with executable_path; never a downloaded browser) against the real sandbox:

- a red alert sent from the alert app page with geolocation granted, and one
  with geolocation denied, reach two operators' alert pages within 1 s, the
  second marked "Sem localização";
- an operator takes an alert on one page and the other page shows who took it
  at once;
- the reports page shows the figures of real calls stored from the sandbox;
- axe-core finds no serious or critical violation on these pages.

Screenshots go to the test's tmp dir, and to $CCPLANE_SCREENSHOTS_DIR when set.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import scene  # noqa: F401 - the real-sandbox Scene fixture
from tests.integration.test_journeys import call_id_of, ended_journey
from tests.e2e.browser import AXE  # the one vendored axe-core
from tests.support.api import ApiCaller

import playwright.async_api as playwright_api  # noqa: E402 - missing, the run fails (never a skip)

CHROMIUM = shutil.which("chromium")
MOBILE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
SAO_PAULO = {"latitude": -23.550520, "longitude": -46.633308}


@pytest.fixture(autouse=True)
def _chromium() -> None:
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed (scripts/setup.sh installs it)")


def _keep(tmp_path: Path, *names: str) -> None:
    target = os.environ.get("CCPLANE_SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy(tmp_path / name, Path(target) / name)


async def _axe(page: Any, what: str) -> None:
    """No serious or critical axe-core violation on the page as it stands."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, f"{what}: {bad}"


async def _staff(browser: Any, base: str, username: str, password: str, path: str) -> Any:
    context = await browser.new_context(viewport={"width": 1360, "height": 900}, locale="pt-BR")
    # count the tones the board plays (Web Audio oscillators)
    await context.add_init_script("window.__tones = 0; (function (C) { var o = C.prototype.createOscillator;"
                                  " C.prototype.createOscillator = function () { window.__tones++; return o.apply(this, arguments); };"
                                  " })(window.AudioContext || window.BaseAudioContext);")
    page = await context.new_page()
    await page.goto(f"{base}/login?next={path}")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(base + path)
    return page


async def _person(root: ApiCaller, domain: str, name: str, cpf: str, phone: str) -> None:
    await root.ok("POST", f"/domains/{domain}/monitored-persons",
                  {"name": name, "cpf": cpf, "phone": phone, "password": "senha-do-app"}, 201)


async def _app_login(page: Any, base: str, domain: str, cpf: str) -> None:
    await page.goto(f"{base}/app/{domain}")
    await page.fill("#cpf", cpf)
    await page.fill("#password", "senha-do-app")
    await page.click("#login button[type=submit]")
    await page.wait_for_selector("#v-buttons:not([hidden]) .alert-btn.lv-red .b-label:has-text('Socorro')")


async def test_app_alerts_reach_the_alert_pages_live(app_client: Any, root: ApiCaller, domain: str,
                                                     tmp_path: Path) -> None:
    await root.ok("PUT", f"/domains/{domain}/alert-app", {
        "app_name": "Rede Acolher", "call_number": "1140028922", "colors": {"primary": "#243b6b"},
        "ack_deadlines": {"red": 5},
        "texts": {"red": {"button": "Socorro"}, "yellow": {"button": "Atenção"}, "green": {"button": "Estou bem"}}})
    await _person(root, domain, "Joana da Silva", "52998224725", "11987654321")
    await _person(root, domain, "Maria Souza", "11144477735", "11976543210")
    ops = []
    for name in ("Carla Operadora", "Davi Operador"):
        username, password = f"op{secrets.token_hex(3)}", secrets.token_urlsafe(10)
        await root.ok("POST", f"/domains/{domain}/users",
                      {"username": username, "name": name, "role": "agent", "password": password}, 201)
        ops.append((username, password))
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            carla = await _staff(browser, base, *ops[0], "/alerts")
            davi = await _staff(browser, base, *ops[1], "/alerts")
            for board in (carla, davi):
                await board.wait_for_selector("#conn.ok")  # the live feed is connected
            await carla.click("#sound")  # Carla turns the sound on: it rings while an alert is untaken
            assert await carla.get_attribute("#sound", "aria-pressed") == "true"
            assert await carla.get_attribute("#board", "data-ringing") == "false"
            await _axe(carla, "/alerts (empty)")

            # the app: a wrong CPF format gets the product's message, from the page itself
            granted = await (await browser.new_context(**MOBILE, locale="pt-BR", permissions=["geolocation"],
                                                       geolocation=SAO_PAULO)).new_page()
            await granted.goto(f"{base}/app/{domain}")
            await granted.fill("#cpf", "529.982.247-25")
            await granted.fill("#password", "senha-do-app")
            await granted.click("#login button[type=submit]")
            await granted.wait_for_selector("#login-error:has-text('Utilize apenas números')")
            assert await granted.get_attribute("#cpf", "aria-invalid") == "true"
            await _axe(granted, "/app login")
            await granted.fill("#cpf", "52998224725")
            await granted.fill("#password", "senha-errada")
            await granted.click("#login button[type=submit]")
            await granted.wait_for_selector("#login-error:text-is('CPF ou senha inválidos.')")
            await granted.screenshot(path=str(tmp_path / "alert-app-login.png"))
            await _app_login(granted, base, domain, "52998224725")
            # installable: the manifest is linked and the service worker controls the app's scope
            scope = await granted.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
            assert scope == f"{base}/app/{domain}"
            await granted.screenshot(path=str(tmp_path / "alert-app.png"))
            await _axe(granted, "/app buttons")

            latencies = []

            async def press(app: Any) -> int:
                async with app.expect_response(lambda r: r.url.endswith(f"/app/{domain}/alerts")
                                               and r.request.method == "POST") as sent:
                    await app.click(".alert-btn.lv-red")
                created = await (await sent.value).json()
                stored = time.monotonic()
                for board in (carla, davi):  # within a second of the app hearing 201, on both pages
                    await board.wait_for_selector(f'li.alert-card[data-alert="{created["id"]}"]', timeout=1000)
                latencies.append(time.monotonic() - stored)
                await app.wait_for_selector("#v-done:not([hidden])")
                return int(created["id"])

            first = await press(granted)
            await carla.wait_for_function("window.__tones >= 4", timeout=4000)  # two beeps of two tones
            assert await carla.get_attribute("#board", "data-ringing") == "true"
            assert await granted.text_content("#done-location") == "Localização enviada"
            call_now = granted.locator("#call-now")
            assert await call_now.get_attribute("href") == "tel:1140028922"
            assert "Ligar agora" in (await call_now.text_content() or "")
            await granted.screenshot(path=str(tmp_path / "alert-app-sent.png"))
            await _axe(granted, "/app confirmation")
            card = carla.locator(f'li.alert-card[data-alert="{first}"]')
            assert await card.locator("a", has_text="Ver no mapa").get_attribute("href") == \
                "https://maps.google.com/?q=-23.550520,-46.633308"

            denied = await (await browser.new_context(**MOBILE, locale="pt-BR")).new_page()  # no permission given
            await _app_login(denied, base, domain, "11144477735")
            began = time.monotonic()
            second = await press(denied)
            denied_took = time.monotonic() - began  # no location wait: the browser refuses at once
            assert await denied.text_content("#done-location") == "Sem localização"
            for board in (carla, davi):
                await board.wait_for_selector(f'li.alert-card[data-alert="{second}"] .noloc:has-text("Sem localização")',
                                              timeout=1000)
            await carla.wait_for_selector('#announce:text-is("Novo alerta Vermelho: Maria Souza")', timeout=1000)  # said once
            # red, both new: the older first
            order = await carla.eval_on_selector_all("li.alert-card", "els => els.map(e => +e.dataset.alert)")
            assert order == [first, second]
            # the dashboard and the latest-alerts table follow (drawn by the server, fetched again)
            await carla.wait_for_selector('#latest-body td:has-text("Maria Souza")', timeout=5000)
            await carla.wait_for_selector('#dash-body .figure .big:text-is("2")', timeout=5000)
            await carla.screenshot(path=str(tmp_path / "alerts.png"), full_page=True)

            # Carla takes the first alert: Davi's page shows it at once, and the order changes
            await carla.focus(f'li.alert-card[data-alert="{first}"] button.primary')  # with the keyboard
            await carla.keyboard.press("Enter")
            took = time.monotonic()
            await davi.wait_for_selector(f'li.alert-card[data-alert="{first}"] .who.taken:has-text("{ops[0][0]}")',
                                         timeout=1000)
            latencies.append(time.monotonic() - took)
            assert await davi.eval_on_selector_all("li.alert-card", "els => els.map(e => +e.dataset.alert)") == [second, first]
            # nobody took Maria's alert within the red deadline (5 s): its SLA timer turns red, and
            # the escalation (the scheduler's job) shows on the card
            await davi.wait_for_selector(f'li.alert-card.is-late[data-alert="{second}"] .sla.late', timeout=8000)
            await davi.wait_for_selector(f'li.alert-card[data-alert="{second}"] .esc', timeout=8000)
            assert await davi.query_selector(f'li.alert-card[data-alert="{first}"] .sla.met:not(.late)')  # taken: its clock stopped
            await davi.screenshot(path=str(tmp_path / "alerts-taken.png"), full_page=True)
            await _axe(davi, "/alerts (two alerts)")

            # the alert's own page: the person card, a note, and axe
            await davi.click(f'li.alert-card[data-alert="{second}"] a.button')
            await davi.wait_for_url(re.compile(rf".*/alerts/{second}$"))
            await davi.fill("#text", "Ligação sem resposta; viatura acionada.")
            await davi.click("form[action$='/notes'] button")
            await davi.wait_for_selector(".notes li:has-text('viatura acionada')")
            await _axe(davi, "/alerts/{id}")
            await carla.click(f'li.alert-card[data-alert="{second}"] button.primary')  # Carla takes it from the board
            await davi.wait_for_selector(f'#status:has-text("{ops[0][0]}")', timeout=3000)
            await carla.wait_for_selector('#board[data-ringing="false"]', timeout=1000)  # every alert taken: silence
            await davi.screenshot(path=str(tmp_path / "alert-detail.png"), full_page=True)
            print(f"\nboard latencies (s): {', '.join(f'{x:.3f}' for x in latencies)}; denied press to board {denied_took:.3f} s")
        finally:
            await browser.close()
    _keep(tmp_path, "alerts.png", "alerts-taken.png", "alert-detail.png", "alert-app-login.png", "alert-app.png",
          "alert-app-sent.png")


async def test_reports_page_shows_real_calls(app_client: Any, root: ApiCaller, scene: Any,  # noqa: F811
                                             tmp_path: Path) -> None:
    await scene.extension("7501", phone="auto")
    await scene.queue("relat", strategy="ringall", ring_timeout=5, extensions=["7501"])
    await scene.agent(["relat"], "7501")
    answered = await scene.call("relat", caller_id="1133335555")
    await scene.recorder.wait_for("AgentConnect", Uniqueid=answered, timeout=10)
    await scene.hangup(answered)
    await ended_journey(scene, call_id_of(answered), timeout=20)
    username, password = f"sv{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{scene.domain}/users",
                  {"username": username, "name": "Sara Supervisora", "role": "supervisor", "password": password}, 201)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await _staff(browser, base, username, password, "/reports")
            cells = {c: await page.text_content(f'#report td[data-col="{c}"]') for c in ("total", "answered", "abandoned")}
            assert cells == {"total": "1", "answered": "1", "abandoned": "0"}
            await page.select_option("#r-kind", "detailed")
            await page.click("form.filters button[type=submit]")
            await page.wait_for_selector('#report td[data-col="caller"]:has-text("1133335555")')
            assert await page.text_content('#report td[data-col="queue"]') == "relat"
            await page.select_option("#r-kind", "listing")
            await page.click("form.filters button[type=submit]")
            await page.wait_for_selector("figure.report-chart svg")
            assert await page.text_content('#report td[data-col="queue"]') == "relat"
            await _axe(page, "/reports")
            async with page.expect_download() as dl:
                await page.click("a:has-text('Baixar planilha')")
            download = await dl.value
            assert download.suggested_filename == f"listing-{scene.domain}.xlsx"
            await page.screenshot(path=str(tmp_path / "reports.png"), full_page=True)
        finally:
            await browser.close()
    _keep(tmp_path, "reports.png")
