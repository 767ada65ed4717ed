"""Issue 13's administration pages in real chromium against the real sandbox:
the queue form's later settings, monitoring groups (queues and supervisors),
campaigns (calling hours, a CSV refused with its per-row errors then imported,
start/pause, blacklist), callbacks (create, reschedule in São Paulo time,
cancel) and the recordings player: a supervisor of the queue's monitoring group
plays a real recording (seeking: byte ranges through the page session), a
supervisor of no group sees nothing. axe-core on every page; screenshots."""
from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import playwright.async_api as playwright_api  # missing, the run fails (never a skip)
import pytest

from tests.e2e.browser import axe_violations, launch, login, require_chromium, shot
from tests.integration.conftest import scene  # noqa: F401 - the real-sandbox Scene fixture
from tests.integration.test_recordings import call_id_of, ready_recordings
from tests.support.api import ApiCaller

SP = ZoneInfo("America/Sao_Paulo")


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


async def _user(root: ApiCaller, domain: str, role: str, name: str, **extra: Any) -> tuple[str, str]:
    username, password = f"{role[:2]}{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": name, "role": role, "password": password, **extra}, 201)
    return username, password


async def test_recordings_player_follows_the_monitoring_groups(app_client: Any, scene: Any,  # noqa: F811
                                                                tmp_path: Path) -> None:
    d = scene.domain
    await scene.extension("7901", phone="auto")
    await scene.queue("gravadas", strategy="ringall", ring_timeout=5, extensions=["7901"], record=True)
    await scene.root.ok("POST", f"/domains/{d}/monitoring-groups", {"name": "Grupo Gravadas", "queues": ["gravadas"]},
                        201)
    inside, inside_pass = await _user(scene.root, d, "supervisor", "Sílvia Supervisora",
                                      monitoring_groups=["Grupo Gravadas"])
    outside, outside_pass = await _user(scene.root, d, "supervisor", "Otávio Sem Grupo")
    agent = await scene.agent(["gravadas"], "7901")
    caller = await scene.call("gravadas", caller_id="11987650000")
    await scene.recorder.wait_for("AgentConnect", Uniqueid=caller, timeout=10)
    await asyncio.sleep(3)  # a conversation of a few seconds
    await scene.hangup(caller)
    (rec,) = await ready_recordings(scene, call_id_of(caller), 1, timeout=30)
    assert rec["agent"] == agent.username  # type: ignore[attr-defined]

    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await launch(p)
        try:
            page = await (await browser.new_context(locale="pt-BR", viewport={"width": 1366, "height": 800})).new_page()
            audio_statuses: list[tuple[int, str | None]] = []
            page.on("response", lambda r: audio_statuses.append((r.status, r.request.headers.get("range")))
                    if "/audio" in r.url else None)
            await login(page, base, inside, inside_pass, "/admin/recordings")
            row = page.locator(f"tr[data-recording='{rec['id']}']")
            await row.wait_for()
            assert "gravadas" in await row.inner_text()
            duration = await page.evaluate("""async (id) => {
                const a = document.querySelector(`tr[data-recording="${id}"] audio`);
                a.preload = 'auto'; a.load();
                await new Promise((ok, ko) => { a.onloadedmetadata = ok; a.onerror = () => ko(a.error && a.error.code); });
                a.currentTime = a.duration / 2;
                await new Promise(ok => { a.onseeked = ok; });
                return a.duration;
            }""", rec["id"])
            assert abs(duration - rec["duration"]) < 0.5, (duration, rec["duration"])
            assert any(status in (200, 206) for status, _r in audio_statuses), audio_statuses
            assert all(status in (200, 206) for status, _r in audio_statuses), audio_statuses
            href = await row.locator("a[download]").get_attribute("href")
            assert href == f"/admin/recordings/{rec['id']}/audio?download=1"
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-recordings.png")

            other = await (await browser.new_context(locale="pt-BR", viewport={"width": 1366, "height": 800})).new_page()
            await login(other, base, outside, outside_pass, "/admin/recordings")
            await other.wait_for_selector("#no-recordings")
            assert await other.locator("tr[data-recording]").count() == 0
            resp = await other.request.get(f"{base}/admin/recordings/{rec['id']}/audio")
            assert resp.status == 404
        finally:
            await browser.close()


async def test_groups_campaigns_callbacks_and_queue_settings_from_the_pages(
        app_client: Any, root: ApiCaller, scene: Any, tmp_path: Path) -> None:  # noqa: F811
    d = scene.domain
    await scene.queue("cobranca")
    await scene.queue("suporte")
    admin, admin_pass = await _user(root, d, "admin", "Alice Administradora")
    sup, _ = await _user(root, d, "supervisor", "Sara Supervisora")
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await launch(p)
        try:
            page = await (await browser.new_context(locale="pt-BR", viewport={"width": 1366, "height": 860})).new_page()
            # queue settings that came after the form: dispositions, transfer_fail, callback key
            await login(page, base, admin, admin_pass, "/admin/queues/suporte")
            await page.fill("#f-dispositions", "Resolvido\nEncaminhado ao técnico\nSem solução")
            await page.select_option("#f-transfer_fail", "agent")
            await page.fill("#f-callback_key", "*")
            await page.fill("#f-callback_expiry", "1800")
            assert await axe_violations(page) == []
            await page.locator("#f-dispositions").scroll_into_view_if_needed()
            await shot(page, tmp_path, "admin-queue-later-settings.png")
            await page.click("form.form button[type=submit]")
            await page.wait_for_url(f"{base}/admin/queues?saved=suporte")
            q = await root.ok("GET", f"/domains/{d}/queues/suporte")
            assert (q["dispositions"], q["transfer_fail"], q["callback_key"], q["callback_expiry"]) == (
                ["Resolvido", "Encaminhado ao técnico", "Sem solução"], "agent", "*", 1800)

            # monitoring group with a queue and a supervisor
            await page.goto(base + "/admin/monitoring-groups")
            await page.fill("#f-name", "Grupo Cobrança")
            await page.check("input[name=queues][value=cobranca]")
            await page.check(f"input[name=members][value={sup}]")
            await page.click("text=Criar grupo")
            await page.wait_for_selector("tr[data-group='Grupo Cobrança']")
            g = await root.ok("GET", f"/domains/{d}/monitoring-groups/Grupo Cobrança")
            assert (g["queues"], g["members"]) == (["cobranca"], [sup])
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-monitoring-groups.png", full_page=True)

            # a campaign: hours per weekday, then a CSV with bad rows (nothing imported), then a good one
            await page.goto(base + "/admin/campaigns/new")
            await page.fill("#f-name", "Cobrança dezembro")
            await page.select_option("#f-queue", "cobranca")
            await page.fill("#f-ratio", "1,5")
            await page.fill("#f-hours_sat", "09:00-13:00")
            await page.fill("#f-hours_fri", "18:00-08:00")
            await page.click("form.form button[type=submit] >> text=Salvar")
            await page.wait_for_selector("#e-hours_fri")
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-campaign-error.png")
            await page.fill("#f-hours_fri", "08:00-12:00, 13:00-18:00")
            await page.click("form.form button[type=submit] >> text=Salvar")
            await page.wait_for_selector("#contacts-upload")
            (c,) = (await root.ok("GET", f"/domains/{d}/campaigns"))["items"]
            assert c["calling_hours"]["fri"] == [["08:00", "12:00"], ["13:00", "18:00"]]
            assert c["calling_hours"]["sat"] == [["09:00", "13:00"]] and c["ratio"] == 1.5
            bad = "numero;nome;contrato\n11987654321;Ana Souza;A-1\n119876;Bruno Lima;A-2\n11987654321;Ana;A-3\n"
            await page.set_input_files("#f-file", files=[{"name": "contatos.csv", "mimeType": "text/csv",
                                                          "buffer": bad.encode()}])
            await page.click("#contacts-upload button[type=submit]")
            await page.wait_for_selector("#import-errors")
            rows = await page.locator("#import-errors tbody tr").all_inner_texts()
            assert [r.split("\t")[:2] for r in rows] == [["3", "number"], ["4", "number"]], rows
            assert (await root.ok("GET", f"/domains/{d}/campaigns/{c['id']}"))["contacts"] == 0
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-campaign-csv-errors.png", full_page=True)
            good = "numero;nome;contrato\n11987654321;Ana Souza;A-1\n1133334444;Bruno Lima;A-2\n"
            await page.set_input_files("#f-file", files=[{"name": "contatos.csv", "mimeType": "text/csv",
                                                          "buffer": good.encode()}])
            await page.click("#contacts-upload button[type=submit]")
            await page.wait_for_selector("#import-ok")
            await page.fill("#f-b-number", "1133334444")
            await page.fill("#f-b-reason", "Pediu para não ser chamado")
            await page.click("#blacklist button[type=submit] >> text=Bloquear")
            await page.wait_for_selector("tr[data-blocked='1133334444']")
            await page.goto(base + "/admin/campaigns")
            await page.click(f"tr[data-campaign='{c['id']}'] button[data-action=start]")
            await page.wait_for_selector(f"tr[data-campaign='{c['id']}'] .badge.st-running")
            await page.click(f"tr[data-campaign='{c['id']}'] button[data-action=pause]")
            await page.wait_for_selector(f"tr[data-campaign='{c['id']}'] .badge.st-paused")
            assert (await root.ok("GET", f"/domains/{d}/campaigns/{c['id']}"))["status"] == "paused"
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-campaigns.png")

            # callbacks: create for the queue, reschedule (São Paulo wall clock), cancel another
            when = (datetime.now(SP) + timedelta(days=1)).replace(hour=15, minute=30, second=0, microsecond=0)
            await page.goto(base + "/admin/callbacks")
            await page.fill("#f-number", "11987654321")
            await page.fill("#f-at", when.strftime("%Y-%m-%dT%H:%M"))
            await page.select_option("#f-queue", "cobranca")
            await page.fill("#f-note", "Cliente pediu retorno à tarde")
            await page.click("#new-callback button[type=submit]")
            await page.wait_for_url(f"{base}/admin/callbacks?saved=*")
            (cb,) = (await root.ok("GET", f"/domains/{d}/callbacks"))["items"]
            assert datetime.fromisoformat(cb["at"]) == when and cb["queue"] == "cobranca"
            await root.ok("POST", f"/domains/{d}/callbacks", {"number": "1133334444", "queue": "suporte",
                                                              "at": (when + timedelta(days=1)).isoformat()}, 201)
            await page.goto(base + "/admin/callbacks")
            moved = when.replace(hour=10, minute=0)
            await page.fill(f"#r-{cb['id']}", moved.strftime("%Y-%m-%dT%H:%M"))
            await page.click(f"tr[data-callback='{cb['id']}'] >> text=Reagendar")
            await page.wait_for_selector(f"tr[data-callback='{cb['id']}'] td[data-at]:has-text('"
                                         f"{moved.strftime('%d/%m/%Y %H:%M')}')")
            assert datetime.fromisoformat((await root.ok("GET", f"/domains/{d}/callbacks/{cb['id']}"))["at"]) == moved
            await page.select_option("#q-queue", "cobranca")
            await page.click("text=Filtrar")
            await page.wait_for_url("**/admin/callbacks?*queue=cobranca*")
            assert await page.locator("tr[data-callback]").count() == 1
            await page.click(f"tr[data-callback='{cb['id']}'] button.danger")
            await page.wait_for_selector(f"tr[data-callback='{cb['id']}'] .badge.cb-cancelled")
            assert (await root.ok("GET", f"/domains/{d}/callbacks/{cb['id']}"))["status"] == "cancelled"
            await page.goto(base + "/admin/callbacks")
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-callbacks.png", full_page=True)
            await page.goto(base + "/admin/callbacks?lang=en")
            await page.wait_for_selector("text=Schedule a callback")
        finally:
            await browser.close()
