"""Issue 13 in real chromium against the real sandbox: the login page and every role's home
pass axe; an administrator's home is the domain's dashboard, root's has the domain switcher
(switching from the home changes the figures); a real baresip phone registering turns its
extension "Registrado" on the extensions page without a reload (and back when it leaves);
the IVR editor removes an option node and the saved tree no longer has it."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import playwright.async_api as playwright_api  # missing, the run fails (never a skip)
import pytest

from ccplane.asterisk.sandbox import SandboxState
from tests.e2e.browser import axe_violations, launch, login, require_chromium, shot
from tests.support.api import ApiCaller
from tests.support.baresip import Phone
from tests.support.waiting import eventually


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


async def _user(root: ApiCaller, domain: str, role: str, name: str) -> tuple[str, str]:
    username, password = f"{role[:2]}{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": name, "role": role, "password": password}, 201)
    return username, password


async def test_login_and_each_roles_home_in_chromium(app_client: Any, root: ApiCaller, domain: str,
                                                     other_domain: str, services: Any, tmp_path: Path) -> None:
    for name in ("vendas", "suporte", "cobranca"):
        await root.ok("POST", f"/domains/{domain}/queues", {"name": name}, 201)
    await _user(root, domain, "agent", "Ana Atendente")
    await _user(root, domain, "agent", "Bruno Atendente")
    ad_user, ad_pass = await _user(root, domain, "admin", "Alice Administradora")
    ag_user, ag_pass = await _user(root, domain, "agent", "Carla Atendente")
    root_user, root_pass = f"r{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await services.auth.create_root(root_user, root_pass)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await launch(p)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            await page.goto(base + "/login?next=//evil.example")
            assert await page.input_value("input[name=next]") == ""  # an off-site next is not carried
            assert await axe_violations(page) == []
            await page.fill("#username", ad_user)
            await page.fill("#password", ad_pass)
            await page.click("button[type=submit]")
            await page.wait_for_url(base + "/")  # an administrator's home is the dashboard
            tiles = page.locator("ul.tiles a.tile")
            assert await tiles.count() == 7
            assert await page.locator("a.tile[href='/admin/queues'] .tile-value").inner_text() == "3"
            assert "3 atendentes ativos" in await page.locator("a.tile[href='/admin/users']").inner_text()
            assert await page.locator("#home-domain").count() == 0  # one domain: no switcher
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "home-admin.png")
            await page.click("a.tile[href='/admin/queues']")
            await page.wait_for_url(base + "/admin/queues")

            ag = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            await ag.goto(base + "/login")
            await ag.fill("#username", ag_user)
            await ag.fill("#password", ag_pass)
            await ag.click("button[type=submit]")
            await ag.wait_for_url(base + "/agent")  # an agent starts on the agent screen
            await ag.goto(base + "/")
            assert await ag.locator("a.button.primary[href='/agent']").count() == 1
            assert await axe_violations(ag) == []
            await shot(ag, tmp_path, "home-agent.png")
            await ag.goto(base + "/admin/trunks")
            assert "Acesso negado." in await ag.content()  # 403 page, a way back home
            assert await axe_violations(ag) == []

            rt = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            await login(rt, base, root_user, root_pass)
            options = await rt.locator("#home-domain option").evaluate_all("os => os.map(o => o.value)")
            assert domain in options and other_domain in options
            assert await axe_violations(rt) == []
            await rt.select_option("#home-domain", domain)
            await rt.click(".home-switcher button[type=submit]")
            await rt.wait_for_selector(f"[data-domain='{domain}']")
            assert await rt.locator("a.tile[href='/admin/queues'] .tile-value").inner_text() == "3"
            await shot(rt, tmp_path, "home-root.png")
            await rt.select_option("#home-domain", other_domain)
            await rt.click(".home-switcher button[type=submit]")
            await rt.wait_for_selector(f"[data-domain='{other_domain}']")
            assert await rt.locator("a.tile[href='/admin/queues'] .tile-value").inner_text() == "0"
            assert await rt.locator("nav.sidebar #domain").input_value() == other_domain  # the menu's switcher agrees
        finally:
            await browser.close()


async def test_a_real_phone_registering_shows_on_the_extensions_page(app_client: Any, root: ApiCaller, domain: str,
                                                                     services: Any, sandbox: SandboxState,
                                                                     tmp_path: Path) -> None:
    await root.ok("POST", f"/domains/{domain}/extensions", {"number": "2201", "name": "Mesa 1", "secret": "secret-2201"}, 201)
    await root.ok("POST", f"/domains/{domain}/extensions", {"number": "2202", "name": "Mesa 2", "secret": "secret-2202"}, 201)

    async def loaded() -> bool:
        out = await services.ami.command(f"pjsip show endpoint {domain}-2201")
        return "Unable to find object" not in out and f"{domain}-2201" in out
    await eventually(loaded, timeout=10, what="endpoint loaded")
    ad_user, ad_pass = await _user(root, domain, "admin", "Alice Administradora")
    base = str(app_client.make_url("/")).rstrip("/")
    phone = Phone(f"{domain}-2201", "secret-2201", sandbox.sip_port)
    async with playwright_api.async_playwright() as p:
        browser = await launch(p)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            await login(page, base, ad_user, ad_pass, "/admin/extensions")
            row = "tr[data-extension='2201'] .reg"
            assert await page.locator(row).inner_text() == "Não registrado"
            phone.start()

            async def registered() -> bool:
                return bool((await root.ok("GET", f"/domains/{domain}/extensions/2201"))["registered"])
            await eventually(registered, timeout=30, what="registered: true", details=lambda: phone.output()[-1500:])
            # the page refreshes the state every 5 s: no reload
            await page.wait_for_selector(f"{row} .badge.s-available:has-text('Registrado')", timeout=30000)
            assert await page.locator("tr[data-extension='2202'] .reg").inner_text() == "Não registrado"
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-extensions-registered.png")
            await phone.stop_async(timeout=15)  # baresip unregisters on SIGTERM
            await page.wait_for_selector(f"{row} .badge.s-offline:has-text('Não registrado')", timeout=30000)
        finally:
            phone.close()
            await browser.close()


async def test_ivr_editor_removes_an_option_node(app_client: Any, root: ApiCaller, domain: str,
                                                 tmp_path: Path) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "vendas"}, 201)
    await root.ok("POST", f"/domains/{domain}/ivrs", {"name": "principal", "root": {
        "type": "menu", "prompt": "demo-congrats", "options": {
            "1": {"type": "queue", "target": "vendas"},
            "2": {"type": "menu", "prompt": "demo-congrats", "options": {
                "1": {"type": "hangup"}, "9": {"type": "queue", "target": "vendas"}}},
            "3": {"type": "hangup"}}}}, 201)
    sv_user, sv_pass = await _user(root, domain, "supervisor", "Sara Supervisora")
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await launch(p)
        try:
            page = await (await browser.new_context(viewport={"width": 1366, "height": 900})).new_page()
            await login(page, base, sv_user, sv_pass, "/admin/ivrs/principal")
            await page.wait_for_selector("fieldset[data-path='root.options.3']")
            # the top-level option 3 and the nested option 2.9: each by its own remove button
            await page.click("fieldset[data-path='root.options.3'] > button.danger")
            await page.wait_for_selector("fieldset[data-path='root.options.3']", state="detached")
            await page.click("fieldset[data-path='root.options.2.options.9'] > button.danger")
            await page.wait_for_selector("fieldset[data-path='root.options.2.options.9']", state="detached")
            assert await page.locator("fieldset[data-path='root.options.1']").count() == 1  # the others stay
            assert await page.locator("fieldset[data-path='root.options.2.options.1']").count() == 1
            assert await axe_violations(page) == []
            await page.click("#ivr-save")
            await page.wait_for_selector("#ivr-saved:visible")
            saved = (await root.ok("GET", f"/domains/{domain}/ivrs/principal"))["root"]
            assert sorted(saved["options"]) == ["1", "2"]
            assert sorted(saved["options"]["2"]["options"]) == ["1"]
            assert saved["options"]["1"] == {"type": "queue", "target": "vendas"}
            await page.reload()
            await page.wait_for_selector("fieldset[data-path='root.options.2']")
            assert await page.locator("fieldset[data-path='root.options.3']").count() == 0  # stays removed
            await shot(page, tmp_path, "admin-ivr-removed.png", full_page=True)
        finally:
            await browser.close()
