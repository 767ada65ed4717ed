"""Issue 13, the supervisor panel and the agent screen's call card, in real chromium
against the real sandbox with baresip phones: the monitoring-group filter (a
supervisor sees only their groups), colour thresholds that turn tiles yellow/red with
a tone once per crossing, listen/whisper from the panel (ChanSpy on the agent's
channel, seen in Asterisk), the busy agent's call quality, the TV/kiosk view; and the
agent's acceptance: ringing → in call → wrap-up countdown on the agent screen and the
panel, a callback scheduled from the call card, the protocol qualified from the
queue's list — each checked through the API."""
from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import playwright.async_api as playwright_api  # missing, the run fails (never a skip)
import pytest

from tests.e2e.browser import axe_violations, login, require_chromium, shot
from tests.integration.conftest import scene  # noqa: F401 - the real-sandbox Scene fixture
from tests.support.api import ApiCaller
from tests.support.waiting import eventually

# Counts the tones the page starts (WebAudio oscillators), before any page script runs.
COUNT_TONES = """window.__tones = 0;
(function () { var C = window.AudioContext; if (!C) return; var make = C.prototype.createOscillator;
  C.prototype.createOscillator = function () { window.__tones += 1; return make.apply(this, arguments); }; })();"""

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


async def _launch(p: Any) -> Any:
    # a wall screen plays its tone without anyone clicking first
    return await p.chromium.launch(executable_path=require_chromium(),
                                   args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])


async def _user(root: ApiCaller, domain: str, role: str, name: str, **extra: Any) -> tuple[str, str]:
    username, password = f"{role[:2]}{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": name, "role": role, "password": password, **extra}, 201)
    return username, password


async def _chanspy(sc: Any, options: str) -> str:
    """The ChanSpy running with ``options`` (its application data), as Asterisk lists it."""
    found: list[str] = []

    async def running() -> bool:
        for item in await sc.services.ami.action({"Action": "CoreShowChannels"}):
            data = str(item.get("ApplicationData", ""))
            if item.get("Application") == "ChanSpy" and data.endswith("," + options):
                found.append(str(item.get("Uniqueid")))
                return True
        return False
    await eventually(running, timeout=15, what=f"ChanSpy({options}) running")
    return found[-1]


async def test_panel_groups_thresholds_tone_spy_quality_and_kiosk(
        app_client: Any, root: ApiCaller, scene: Any, tmp_path: Path) -> None:  # noqa: F811
    domain = scene.domain
    await scene.extension("7621", phone="auto")  # the suporte agent's phone answers at once
    await scene.extension("7622", phone="manual")  # the vendas agent's
    await scene.extension("7623", phone="auto")  # the supervisor's own phone
    await scene.queue("suporte", extensions=["7621"])
    await scene.queue("vendas", extensions=["7622"])
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "g-suporte", "queues": ["suporte"]}, 201)
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "g-vendas", "queues": ["vendas"]}, 201)
    agent_a = await scene.agent(["suporte"], "7621")
    agent_b = await scene.agent(["vendas"], "7622")
    a_user, b_user = agent_a.username, agent_b.username  # type: ignore[attr-defined]
    await root.ok("POST", f"/domains/{domain}/agents/{a_user}/pause", {"reason": "Treinamento"})
    await root.ok("PUT", f"/domains/{domain}/panel-thresholds", {"items": [
        {"queue": "suporte", "figure": "waiting", "yellow": 1, "red": 2},
        {"figure": "longest_wait", "yellow": 120, "red": 300}, {"figure": "service_level", "yellow": 80, "red": 60}]})
    sv_user, sv_pass = await _user(root, domain, "supervisor", "Sara Supervisora", monitoring_groups=["g-suporte"])
    ad_user, ad_pass = await _user(root, domain, "admin", "Alice Administradora")
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await _launch(p)
        try:
            ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
            await ctx.add_init_script(COUNT_TONES)
            sv = await ctx.new_page()
            asked: list[str] = []  # the call quality is pushed on the feed: the page never asks for it
            sv.on("request", lambda r: asked.append(r.url) if "/quality" in r.url else None)
            await login(sv, base, sv_user, sv_pass, "/supervisor")
            await sv.wait_for_selector(f"tr[data-agent={a_user}] .badge.s-paused")
            # a supervisor sees only their groups: the other queue's agent never reaches the page
            assert await sv.locator(f"tr[data-agent={b_user}]").count() == 0
            assert await sv.locator("#group option").evaluate_all("os => os.map(o => o.value)") == ["", "g-suporte"]
            await sv.wait_for_selector("#tiles [data-figure=waiting][data-level=ok]")

            await scene.call("suporte", caller_id="11911112222")
            await sv.wait_for_selector("#tiles [data-figure=waiting][data-level=yellow]", timeout=10000)
            await sv.wait_for_selector("tr[data-queue=suporte] td[data-figure=waiting][data-level=yellow]")
            await sv.wait_for_function("document.getElementById('panel').dataset.beeps === '1'")
            await scene.call("suporte", caller_id="11933334444")
            await sv.wait_for_selector("#tiles [data-figure=waiting][data-level=red]", timeout=10000)
            await sv.wait_for_function("document.getElementById('panel').dataset.beeps === '2'")
            assert await sv.evaluate("document.getElementById('panel').dataset.lastBeep") == "red"
            assert await sv.evaluate("window.__tones") >= 4  # one tone for yellow, three notes for red
            await sv.wait_for_timeout(2500)  # still red, still two waiting: no further tone
            assert await sv.evaluate("document.getElementById('panel').dataset.beeps") == "2"
            assert await axe_violations(sv) == []
            await shot(sv, tmp_path, "supervisor-thresholds.png")

            tv_ctx = await browser.new_context(viewport={"width": 1920, "height": 1080})
            tv = await tv_ctx.new_page()
            await login(tv, base, sv_user, sv_pass, "/supervisor?kiosk=1")
            await tv.wait_for_selector(".queue-tiles [data-queue=suporte] .fig[data-figure=waiting][data-level=red]")
            await tv.wait_for_selector(f".agent-tiles [data-agent={a_user}].s-paused")
            assert await tv.locator("button, input, select, nav").count() == 0  # no controls on a wall screen
            size = await tv.eval_on_selector(".queue-tiles .fig .value", "e => parseFloat(getComputedStyle(e).fontSize)")
            assert size >= 40, size  # readable across the room
            assert await axe_violations(tv) == []
            await shot(tv, tmp_path, "supervisor-kiosk.png")

            await root.ok("POST", f"/domains/{domain}/agents/{a_user}/unpause")
            await sv.wait_for_selector(f"tr[data-agent={a_user}] .badge.s-in_call", timeout=15000)
            await tv.wait_for_selector(f".agent-tiles [data-agent={a_user}].s-in_call", timeout=10000)  # no reload
            await sv.wait_for_selector("#tiles [data-figure=waiting][data-level=yellow]")
            calls = (await root.ok("GET", f"/domains/{domain}/calls"))["items"]
            call_id = next(c["id"] for c in calls if c.get("agent") == a_user)

            # the agent's phone reports its call quality; the busy agent's tile shows it
            status, _body = await agent_a.call("POST", f"/domains/{domain}/agents/{a_user}/call-quality",
                                               {"call": call_id, "packets_sent": 900, "packets_received": 880,
                                                "packets_lost": 20, "jitter_ms": 18.4, "rtt_ms": 42})
            assert status == 200, _body
            await sv.wait_for_selector(f"tr[data-agent={a_user}] .quality:has-text('MOS')", timeout=10000)
            shown = await sv.inner_text(f"tr[data-agent={a_user}] .quality")
            assert "perda 2.2%" in shown and "jitter 18 ms" in shown, shown
            assert asked == [], asked

            # listen, then whisper, from the supervisor's own extension
            await sv.click(f"tr[data-agent={a_user}] button.spy-listen")
            await sv.wait_for_selector("#spy-msg:has-text('Informe o seu ramal')")  # no extension yet
            await sv.fill("#spy-ext", "7623")
            await sv.click(f"tr[data-agent={a_user}] button.spy-listen")
            await sv.wait_for_selector("#spy-msg.ok:has-text('7623')")
            listening = await _chanspy(scene, "qES")
            await scene.services.ami.action({"Action": "Hangup", "Channel": listening})
            await sv.click(f"tr[data-agent={a_user}] button.spy-whisper")
            await sv.wait_for_selector("#spy-msg.ok:has-text('Sussurrar')")
            whispering = await _chanspy(scene, "qwES")
            assert await axe_violations(sv) == []
            await shot(sv, tmp_path, "supervisor-spy-quality.png")
            await scene.services.ami.action({"Action": "Hangup", "Channel": whispering})
            await sv.click(f"tr[data-agent={a_user}] button.spy-barge")  # conference: both hear the supervisor
            await sv.wait_for_selector("#spy-msg.ok:has-text('Conferência')")
            barging = await _chanspy(scene, "qBES")
            await scene.services.ami.action({"Action": "Hangup", "Channel": barging})
            assert any(c["id"] == call_id for c in (await root.ok("GET", f"/domains/{domain}/calls"))["items"])

            # pause during the call (the reason asked in a dialog), then hang the call up, from the panel
            sv.once("dialog", lambda d: asyncio.ensure_future(d.accept("Almoço")))
            await sv.click(f"tr[data-agent={a_user}] button:has-text('Pausar')")

            async def paused_in_asterisk() -> bool:
                member = await scene.member_status("suporte", "7621")
                return member is not None and member.get("Paused") == "1"
            await eventually(paused_in_asterisk, timeout=10, what="the agent paused in Asterisk")
            await sv.click(f"tr[data-call='{call_id}'] button")
            await sv.wait_for_selector(f"tr[data-call='{call_id}']", state="detached", timeout=10000)
            await sv.wait_for_selector(f"tr[data-agent={a_user}] .badge.s-paused:has-text('Almoço')", timeout=10000)
            assert all(c["id"] != call_id for c in (await root.ok("GET", f"/domains/{domain}/calls"))["items"])
            # the second caller still waits: the agent is paused
            assert await sv.inner_text("tr[data-queue=suporte] td[data-figure=waiting]") == "1"
            await shot(sv, tmp_path, "supervisor-paused-from-panel.png")
            await sv.click(f"tr[data-agent={a_user}] button:has-text('Retomar')")
            await sv.wait_for_selector(f"tr[data-agent={a_user}] .badge.s-in_call", timeout=15000)  # takes the next
            assert (await scene.member_status("suporte", "7621") or {}).get("Paused") == "0"

            # an administrator sees every group and filters by one
            ad = await ctx.new_page()
            await login(ad, base, ad_user, ad_pass, "/supervisor")
            await ad.wait_for_selector(f"tr[data-agent={b_user}]")
            await ad.wait_for_selector(f"tr[data-agent={a_user}]")
            assert await ad.locator("#group option").evaluate_all("os => os.map(o => o.value)") == [
                "", "g-suporte", "g-vendas"]
            await ad.select_option("#group", "g-vendas")
            await ad.wait_for_selector(f"tr[data-agent={a_user}]", state="detached")
            await ad.wait_for_selector(f"tr[data-agent={b_user}]")
            assert await ad.locator("tr[data-queue=suporte]").count() == 0
            assert "group=g-vendas" in ad.url
            await ad.reload()  # the choice is in the address: it survives a reload
            await ad.wait_for_selector(f"tr[data-agent={b_user}]")
            assert await ad.locator(f"tr[data-agent={a_user}]").count() == 0
            # an agent logs out: the row stays, "Desconectado", greyed, without actions
            await root.ok("DELETE", f"/domains/{domain}/agents/{b_user}/session", status=204)
            await ad.wait_for_selector(f"tr.offline[data-agent={b_user}] .badge.s-offline:has-text('Desconectado')",
                                       timeout=10000)
            assert await ad.locator(f"tr[data-agent={b_user}] button").count() == 0
            # an agent the page has never seen logs in to the filtered group's queue: shown without reload,
            # above the logged-out one
            agent_c = await scene.agent(["vendas"], "7622")
            c_user = agent_c.username  # type: ignore[attr-defined]
            await ad.wait_for_selector(f"tr[data-agent={c_user}]", timeout=10000)
            assert await ad.locator("#agents tr").evaluate_all("rs => rs.map(r => r.dataset.agent)") == [c_user, b_user]
            assert await ad.locator(f"tr[data-agent={a_user}]").count() == 0
            assert await axe_violations(ad) == []
            await shot(ad, tmp_path, "supervisor-offline-agent.png")
            await ad.reload()  # a fresh page knows only who is logged in now
            await ad.wait_for_selector(f"tr[data-agent={c_user}]")
        finally:
            await browser.close()


async def test_thresholds_form_on_the_panel(app_client: Any, root: ApiCaller, domain: str, tmp_path: Path) -> None:
    """An administrator sets every queue's row and each queue's; a supervisor, only their
    monitoring groups' queues (the API refuses any other row)."""
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "suporte"}, 201)
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "vendas"}, 201)
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "Suporte/N1", "queues": ["suporte"]}, 201)
    sv_user, sv_pass = await _user(root, domain, "admin", "Alice Administradora")
    own_user, own_pass = await _user(root, domain, "supervisor", "Sara Supervisora", monitoring_groups=["Suporte/N1"])
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await _launch(p)
        try:
            sv = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
            await login(sv, base, sv_user, sv_pass, "/supervisor")
            await sv.click("#thresholds summary")
            await sv.fill("#t--longest_wait-yellow", "30")
            await sv.fill("#t--longest_wait-red", "20")  # red before yellow: refused, at the field
            await sv.fill("#t-suporte-waiting-yellow", "3")
            await sv.fill("#t-suporte-waiting-red", "5")
            await sv.click("#thresholds button[type=submit]")
            await sv.wait_for_selector(".error-summary a[href='#t--longest_wait-red']")
            assert await sv.get_attribute("#t--longest_wait-red", "aria-invalid") == "true"
            assert await sv.input_value("#t-suporte-waiting-red") == "5"  # what was typed is kept
            assert (await root.ok("GET", f"/domains/{domain}/panel-thresholds"))["items"] == []  # nothing kept
            assert await axe_violations(sv) == []
            await shot(sv, tmp_path, "supervisor-thresholds-error.png", full_page=True)
            await sv.fill("#t--longest_wait-red", "60")
            await sv.click("#thresholds button[type=submit]")
            await sv.wait_for_selector("#thresholds[open] .ok")
            items = (await root.ok("GET", f"/domains/{domain}/panel-thresholds"))["items"]
            assert sorted((i["queue"], i["figure"], i["yellow"], i["red"]) for i in items) == [
                ("", "longest_wait", 30, 60), ("suporte", "waiting", 3, 5)]
            assert await sv.input_value("#t-suporte-waiting-yellow") == "3"
            # the supervisor of Suporte/N1: the suporte row only, every queue's row is the administrators'
            own = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
            await login(own, base, own_user, own_pass, "/supervisor")
            await own.click("#thresholds summary")
            await own.wait_for_selector("#thresholds-scope:visible")
            assert await own.locator("#t--longest_wait-yellow").count() == 0
            assert await own.locator("#t-vendas-waiting-yellow").count() == 0
            await own.fill("#t-suporte-waiting-yellow", "4")
            await own.fill("#t-suporte-waiting-red", "8")
            await own.click("#thresholds button[type=submit]")
            await own.wait_for_selector("#thresholds[open] .ok")
            items = (await root.ok("GET", f"/domains/{domain}/panel-thresholds"))["items"]
            assert sorted((i["queue"], i["figure"], i["yellow"], i["red"]) for i in items) == [
                ("", "longest_wait", 30, 60), ("suporte", "waiting", 4, 8)]
            assert await axe_violations(own) == []
            await shot(own, tmp_path, "supervisor-thresholds-own-groups.png", full_page=True)
        finally:
            await browser.close()


async def test_agent_call_card_ringing_to_qualification_and_a_callback(
        app_client: Any, root: ApiCaller, scene: Any, tmp_path: Path) -> None:  # noqa: F811
    domain = scene.domain
    await root.ok("PATCH", f"/domains/{domain}", {"timezone": "Asia/Tokyo"})  # the agent's browser is in São Paulo
    phone = await scene.extension("7631", phone="manual")
    await scene.queue("retencao", extensions=["7631"], wrapup_time=8,
                      dispositions=["Cancelamento revertido", "Cancelado", "Dúvida"])
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "g-ret", "queues": ["retencao"]}, 201)
    sv_user, sv_pass = await _user(root, domain, "supervisor", "Sara Supervisora", monitoring_groups=["g-ret"])
    ag_user, ag_pass = await _user(root, domain, "agent", "Ana Atendente")
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await _launch(p)
        try:
            ag = await (await browser.new_context(viewport={"width": 1366, "height": 900},
                                                  timezone_id="America/Sao_Paulo")).new_page()
            await login(ag, base, ag_user, ag_pass, "/agent")
            await ag.check("input[name=queues][value=retencao]")
            await ag.click("#choose-queues button[type=submit]")
            await ag.click("text=Entrar nas filas")
            await ag.wait_for_selector("#state.s-available")
            sv = await (await browser.new_context(viewport={"width": 1366, "height": 900})).new_page()
            await login(sv, base, sv_user, sv_pass, "/supervisor")
            await sv.wait_for_selector(f"tr[data-agent={ag_user}] .badge.s-available")

            caller = await scene.call("retencao", caller_id="11987650000")
            await ag.wait_for_selector("#state.s-ringing", timeout=10000)
            await ag.wait_for_selector("#call-caller:has-text('11987650000')")
            await sv.wait_for_selector(f"tr[data-agent={ag_user}] .badge.s-ringing", timeout=10000)
            assert await ag.is_hidden("#callback")  # nothing to call back before the call is taken
            await phone.command("accept")
            await ag.wait_for_selector("#state.s-in_call", timeout=10000)
            await sv.wait_for_selector(f"tr[data-agent={ag_user}] .badge.s-in_call", timeout=10000)
            await sv.wait_for_selector(f"tr[data-agent={ag_user}]:has-text('11987650000')")

            # schedule a callback from the call card (the caller's number is filled in)
            await ag.wait_for_selector("#callback:visible")
            assert await ag.input_value("#callback-number") == "11987650000"
            assert "Asia/Tokyo" in await ag.inner_text("#callback-zone")
            # the form starts an hour ahead on the domain's wall clock (Tokyo's, not the browser's)
            start = datetime.strptime(await ag.input_value("#callback-at"), "%Y-%m-%dT%H:%M").replace(tzinfo=TOKYO)
            assert timedelta(minutes=55) < start - datetime.now(TOKYO) < timedelta(minutes=65)
            when = (datetime.now(TOKYO) + timedelta(days=1)).strftime("%Y-%m-%dT14:30")  # typed on Tokyo's clock
            await ag.fill("#callback-at", when)
            await ag.fill("#callback-note", "Retornar com a proposta")
            await ag.click("#callback button[type=submit]")
            await ag.wait_for_selector("#callback-msg.ok", timeout=10000)
            found = (await root.ok("GET", f"/domains/{domain}/callbacks"))["items"]
            mine = [c for c in found if c["number"] == "11987650000"]
            assert len(mine) == 1, found
            at = datetime.fromisoformat(mine[0]["at"])
            expected = datetime.strptime(when, "%Y-%m-%dT%H:%M").replace(tzinfo=TOKYO)
            assert at.utcoffset() is not None and at == expected, (mine, when)
            assert (mine[0]["queue"], mine[0]["agent"], mine[0]["note"]) == ("retencao", ag_user,
                                                                              "Retornar com a proposta")
            await shot(ag, tmp_path, "agent-callback.png")

            await scene.hangup(caller)
            await ag.wait_for_selector("#wrapup:has-text('s restantes')", timeout=10000)
            await sv.wait_for_selector(f"tr[data-agent={ag_user}] .badge.s-wrapup:has-text(' s')", timeout=10000)
            await ag.wait_for_selector("#qualify:visible")
            options = await ag.locator("#disposition option").all_inner_texts()
            assert options[1:] == ["Cancelamento revertido", "Cancelado", "Dúvida"], options
            await ag.select_option("#disposition", "Cancelamento revertido")
            await ag.fill("#description", "Cliente aceitou o desconto de 20%")
            await ag.click("#qualify button[type=submit]")
            await ag.wait_for_selector("#qualify-msg.ok", timeout=10000)
            protocol = (await ag.inner_text("#call-protocol")).strip()
            assert protocol and protocol != "—"
            assert await axe_violations(ag) == []
            await shot(ag, tmp_path, "agent-qualified.png")
            att = (await root.ok("GET", f"/domains/{domain}/attendances"))["items"]
            stored = [a for a in att if a["protocol"] == protocol]
            assert stored and stored[0]["disposition"] == "Cancelamento revertido", att
            assert stored[0]["description"] == "Cliente aceitou o desconto de 20%"
            assert stored[0]["agent"] == ag_user and stored[0]["queue"] == "retencao"
            await ag.wait_for_selector("#state.s-available", timeout=15000)  # the wrap-up ran out
            await sv.wait_for_selector(f"tr[data-agent={ag_user}] .badge.s-available")
            # logged out: the row stays; a fresh page lists them too (they took a call of the queue today)
            await root.ok("DELETE", f"/domains/{domain}/agents/{ag_user}/session", status=204)
            await sv.wait_for_selector(f"tr.offline[data-agent={ag_user}] .badge.s-offline", timeout=10000)
            await sv.reload()
            await sv.wait_for_selector(f"tr.offline[data-agent={ag_user}] .badge.s-offline", timeout=10000)
        finally:
            await browser.close()
