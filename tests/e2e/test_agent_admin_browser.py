"""Issue 13 acceptance in real chromium against the real sandbox: a supervisor
creates a queue from the page (Asterisk has it); an agent logs in on the agent
screen with a registered baresip extension; a call shows ringing then in call on
the agent screen and the supervisor panel without reload; hangup gives the
wrap-up countdown on both; an IVR saved with an error shows it at the node; no
CSRF token → 403; an agent on an admin URL → 403; axe-core finds no serious or
critical violation on these pages."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import playwright.async_api as playwright_api  # missing, the run fails (never a skip)
import pytest

from tests.e2e.browser import axe_violations, launch, login, require_chromium, shot
from tests.integration.conftest import scene  # noqa: F401 - the real-sandbox Scene fixture
from tests.support.api import ApiCaller


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


async def _user(root: ApiCaller, domain: str, role: str, name: str) -> tuple[str, str]:
    username, password = f"{role[:2]}{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": name, "role": role, "password": password}, 201)
    return username, password


async def test_queue_from_the_page_then_a_call_on_the_agent_screen_and_the_panel(
        app_client: Any, root: ApiCaller, scene: Any, tmp_path: Path) -> None:  # noqa: F811
    domain = scene.domain
    sv_user, sv_pass = await _user(root, domain, "supervisor", "Sara Supervisora")
    ag_user, ag_pass = await _user(root, domain, "agent", "Ana Atendente")
    phone = await scene.extension("7601", phone="manual")  # rings until told to answer
    await scene.extension("7602")  # not registered: never offered
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await launch(p)
        try:
            sv = await (await browser.new_context(viewport={"width": 1366, "height": 860})).new_page()
            await login(sv, base, sv_user, sv_pass, "/admin/queues/new")
            await sv.fill("#f-name", "suporte")
            await sv.select_option("#f-strategy", "linear")
            await sv.fill("#f-wrapup_time", "6")
            await sv.fill("#f-max_no_answer", "3")
            await sv.fill("#f-ring_timeout", "30")
            await sv.fill("#f-extensions", "7601, 7602")
            await shot(sv, tmp_path, "admin-queue-form.png", full_page=True)
            assert await axe_violations(sv) == []
            await sv.click("form.form button[type=submit]")
            await sv.wait_for_url(f"{base}/admin/queues?saved=suporte")
            await sv.wait_for_selector("tr[data-queue=suporte]")
            shown = await scene.services.ami.command(f"queue show {domain}_suporte")
            assert f"{domain}_suporte has 0 calls" in shown and "'linear' strategy" in shown, shown
            q = await root.ok("GET", f"/domains/{domain}/queues/suporte")
            # the panel's feed covers the queues of the supervisor's monitoring groups (as the API's feed)
            await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "g-suporte", "queues": ["suporte"]},
                          201)
            await root.ok("PATCH", f"/domains/{domain}/users/{sv_user}", {"monitoring_groups": ["g-suporte"]})
            assert (q["wrapup_time"], q["max_no_answer"], q["extensions"]) == (6, 3, ["7601", "7602"])
            assert await axe_violations(sv) == []
            await shot(sv, tmp_path, "admin-queues.png")

            ag = await (await browser.new_context(viewport={"width": 1366, "height": 860})).new_page()
            await login(ag, base, ag_user, ag_pass, "/agent")
            await ag.check("input[name=queues][value=suporte]")
            await ag.click("#choose-queues button[type=submit]")
            offered = await ag.locator("#extension option").all_inner_texts()
            assert [o.split(" ")[0] for o in offered] == ["7601"], offered  # 7602 is not registered
            await ag.click("text=Entrar nas filas")
            await ag.wait_for_selector("#state.s-available")
            assert await axe_violations(ag) == []

            await sv.goto(base + "/supervisor")
            await sv.wait_for_selector(f"tr[data-agent={ag_user}] .badge.s-available")

            caller = await scene.call("suporte", caller_id="11987654321")
            await ag.wait_for_selector("#state.s-ringing", timeout=10000)  # no reload: the live feed
            await ag.wait_for_selector("#call-caller:has-text('11987654321')")
            await sv.wait_for_selector(f"tr[data-agent={ag_user}] .badge.s-ringing", timeout=10000)
            await phone.command("accept")  # type: ignore[union-attr]
            await ag.wait_for_selector("#state.s-in_call", timeout=10000)
            await ag.wait_for_selector("#call-queue:has-text('suporte')")
            await sv.wait_for_selector(f"tr[data-agent={ag_user}] .badge.s-in_call", timeout=10000)
            await sv.wait_for_selector(f"tr[data-agent={ag_user}]:has-text('11987654321')")  # caller on the tile
            await shot(ag, tmp_path, "agent-in-call.png")
            await shot(sv, tmp_path, "supervisor-in-call.png")
            assert await axe_violations(sv) == []

            await ag.click("text=Sair das filas")  # refused while in a call, with the product's message
            await ag.wait_for_selector("text=com uma chamada em andamento")
            assert (await root.ok("GET", f"/domains/{domain}/agents/{ag_user}"))["extension"] == "7601"
            await ag.wait_for_selector("#state.s-in_call")

            await scene.hangup(caller)
            await ag.wait_for_selector("#wrapup:has-text('s restantes')", timeout=10000)
            await sv.wait_for_selector(f"tr[data-agent={ag_user}] .badge.s-wrapup:has-text(' s')", timeout=10000)
            await shot(ag, tmp_path, "agent-wrapup.png")
            await shot(sv, tmp_path, "supervisor-wrapup.png")
            await ag.wait_for_selector("#state.s-available", timeout=15000)  # the wrap-up ran out

            await sv.wait_for_selector("tr[data-queue=suporte] .sl:has-text('100%')")  # answered within 20 s

            await ag.select_option("#reason", "Almoço")
            await ag.click("text=Pausar")
            await ag.wait_for_selector("#state.s-paused:has-text('Almoço')")
            await sv.wait_for_selector(f"tr[data-agent={ag_user}] .badge.s-paused:has-text('Almoço')")
            await ag.click("text=Retomar")
            await ag.wait_for_selector("#state.s-available")

            # the feed drops and stays down: the banner; a change meanwhile; back up: the state refreshed
            await ag.context.set_offline(True)
            await scene.services.live.close()
            await ag.wait_for_selector("#conn:visible")
            await root.ok("POST", f"/domains/{domain}/agents/{ag_user}/pause", {"reason": "Reunião"})
            await shot(ag, tmp_path, "agent-connection-lost.png")
            await ag.context.set_offline(False)
            await ag.wait_for_selector("#conn", state="hidden", timeout=15000)
            await ag.wait_for_selector("#state.s-paused:has-text('Reunião')")
            await ag.click("#unpause-form button")  # the forms follow the state the feed brought
            await ag.wait_for_selector("#state.s-available")

            # a supervisor logs the agent out from the panel: the agent screen follows
            sv.once("dialog", lambda dialog: dialog.accept())
            await sv.click(f"tr[data-agent={ag_user}] button:has-text('Deslogar')")
            # the row stays, "Desconectado" and without actions (the panel lists every agent)
            await sv.wait_for_selector(f"tr.offline[data-agent={ag_user}] .badge.s-offline:has-text('Desconectado')")
            assert await sv.locator(f"tr[data-agent={ag_user}] button:has-text('Deslogar')").count() == 0
            await ag.wait_for_selector("#choose-queues")
            assert (await root.ok("GET", f"/domains/{domain}/agents/{ag_user}"))["extension"] is None
            await ag.check("input[name=queues][value=suporte]")
            await ag.click("#choose-queues button[type=submit]")
            await ag.click("text=Entrar nas filas")
            await ag.wait_for_selector("#state.s-available")
            await ag.click("text=Sair das filas")  # the agent's own logout, no call in progress
            await ag.wait_for_selector("#choose-queues")
            assert (await root.ok("GET", f"/domains/{domain}/agents/{ag_user}"))["extension"] is None
        finally:
            await browser.close()


async def test_ivr_error_at_the_node_csrf_and_an_agent_on_admin(app_client: Any, root: ApiCaller, domain: str,
                                                                tmp_path: Path) -> None:
    sv_user, sv_pass = await _user(root, domain, "supervisor", "Sara Supervisora")
    ag_user, ag_pass = await _user(root, domain, "agent", "Ana Atendente")
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "vendas"}, 201)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await launch(p)
        try:
            sv = await (await browser.new_context(viewport={"width": 1366, "height": 900})).new_page()
            await login(sv, base, sv_user, sv_pass, "/admin/ivrs")
            await sv.fill("#f-name", "principal")
            await sv.click("text=Criar")
            await sv.wait_for_selector("fieldset[data-path=root]")
            await sv.fill("fieldset[data-path=root] > .row [data-path='root.prompt'] input", "demo-congrats")
            option = "fieldset[data-path='root.options.1']"
            await sv.select_option(f"{option} > .row select", "queue")
            await sv.fill(f"{option} [data-path='root.options.1.target'] input", "inexistente")
            await sv.fill("fieldset[data-path=root] .add input", "2")
            await sv.click("fieldset[data-path=root] .add button")
            await sv.select_option("fieldset[data-path='root.options.2'] > .row select", "queue")
            await sv.fill("fieldset[data-path='root.options.2'] [data-path='root.options.2.target'] input", "vendas")
            await sv.click("#ivr-save")
            await sv.wait_for_selector(f"{option}.has-error > .node-error:has-text('Não há fila inexistente neste domínio.')")
            assert await sv.locator("fieldset.has-error").count() == 1  # the one node the API named
            await shot(sv, tmp_path, "admin-ivr-error.png", full_page=True)
            assert await axe_violations(sv) == []
            assert (await root.ok("GET", f"/domains/{domain}/ivrs"))["items"] == []  # nothing saved
            await sv.fill(f"{option} [data-path='root.options.1.target'] input", "vendas")
            await sv.click("#ivr-save")
            await sv.wait_for_selector("#ivr-saved:visible")
            saved = await root.ok("GET", f"/domains/{domain}/ivrs/principal")
            assert saved["root"]["options"]["2"] == {"type": "queue", "target": "vendas"}
            await sv.reload()
            await sv.wait_for_selector("fieldset[data-path='root.options.2']")
            await shot(sv, tmp_path, "admin-ivr-editor.png", full_page=True)

            # a form post without the CSRF token: 403, and nothing changed
            status = await sv.evaluate("""async () => (await fetch('/admin/queues/new', {method: 'POST',
                body: new URLSearchParams({name: 'sem-token', strategy: 'ringall'})})).status""")
            assert status == 403
            assert [q["name"] for q in (await root.ok("GET", f"/domains/{domain}/queues"))["items"]] == ["vendas"]

            ag = await (await browser.new_context()).new_page()
            await login(ag, base, ag_user, ag_pass, "/agent")
            assert await ag.locator("nav.sidebar a[href='/admin/users']").count() == 0  # no Team menu
            for url in ("/admin/queues", "/admin/users", "/admin/ivrs/principal"):
                resp = await ag.goto(base + url)
                assert resp is not None and resp.status == 403, url
            await ag.goto(base + "/agent?queues=vendas")
            await ag.wait_for_selector("#no-extension")  # the product's explanation when none is offered
            assert await axe_violations(ag) == []
            await shot(ag, tmp_path, "agent-no-extension.png")
        finally:
            await browser.close()


async def test_every_admin_page_passes_axe_and_shows_errors_at_the_field(app_client: Any, root: ApiCaller,
                                                                         domain: str, tmp_path: Path) -> None:
    ad_user, ad_pass = await _user(root, domain, "admin", "Alice Administradora")
    await root.ok("POST", f"/domains/{domain}/extensions",
                  {"number": "7701", "name": "Recepção", "secret": "secret-7701"}, 201)
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "suporte", "extensions": ["7701"]}, 201)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await launch(p)
        try:
            page = await (await browser.new_context(viewport={"width": 1366, "height": 900})).new_page()
            await login(page, base, ad_user, ad_pass, "/admin/queues")
            for url, shot_name in (("/admin/queues", None), ("/admin/queues/suporte", None),
                                   ("/admin/users", "admin-team.png"), ("/admin/extensions", "admin-extensions.png"),
                                   ("/admin/ivrs", None), ("/admin/routes", None), ("/admin/trunks", "admin-trunks.png"),
                                   ("/agent", None), ("/supervisor", None), ("/password", None)):
                await page.goto(base + url)
                assert await axe_violations(page) == [], url
                if shot_name:
                    await shot(page, tmp_path, shot_name, full_page=True)
            did = "11" + str(secrets.randbelow(10**8)).zfill(8)  # DIDs are unique across domains
            await page.goto(base + "/admin/routes")
            await page.fill("#f-did", did)
            await page.select_option("#f-type", "queue")
            await page.fill("#f-target", "inexistente")
            await page.click("form[action='/admin/routes/new'] button[type=submit]")
            await page.wait_for_selector("#e-target")  # the error at the field, and in the summary linking to it
            await page.wait_for_selector(".error-summary a[href='#f-target']")
            assert await page.input_value("#f-did") == did  # what was typed is kept
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-routes-error.png", full_page=True)
            await page.fill("#f-target", "suporte")
            await page.click("form[action='/admin/routes/new'] button[type=submit]")
            await page.wait_for_selector(f"tr[data-did='{did}']")
        finally:
            await browser.close()
