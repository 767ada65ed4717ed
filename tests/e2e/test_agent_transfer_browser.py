"""The agent screen's attended transfer, in real chromium against the sandbox with
baresip phones: the agent consults a colleague from the call card, cancels (the
caller comes back), consults again and completes (the caller goes to the
colleague) — each step checked in Asterisk and through the API."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import playwright.async_api as playwright_api  # missing, the run fails (never a skip)
import pytest

from tests.e2e.browser import axe_violations, login, require_chromium, shot
from tests.integration.conftest import scene  # noqa: F401 - the real-sandbox Scene fixture
from tests.integration.test_transfers import call_id_of, journey, target_answered
from tests.support.api import ApiCaller
from tests.support.waiting import eventually


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


async def test_attended_transfer_from_the_call_card_cancel_then_complete(
        app_client: Any, root: ApiCaller, scene: Any, tmp_path: Path) -> None:  # noqa: F811
    domain = scene.domain
    scene.services.ami.on_event(scene.recorder, names=("AttendedTransfer", "DialEnd"))
    await scene.extension("7651", phone="auto")  # the agent's desk phone
    await scene.extension("7652", phone="auto")  # a colleague's extension
    await scene.queue("xfer", extensions=["7651"], wrapup_time=0)
    username, password = f"ag{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": "Ana Atendente", "role": "agent", "password": password}, 201)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=require_chromium(), args=["--no-sandbox"])
        try:
            ag = await (await browser.new_context(viewport={"width": 1366, "height": 900}, locale="pt-BR")).new_page()
            await login(ag, base, username, password, "/agent")
            await ag.check("input[name=queues][value=xfer]")
            await ag.click("#choose-queues button[type=submit]")
            await ag.click("text=Entrar nas filas")
            await ag.wait_for_selector("#state.s-available")
            caller = await scene.call("xfer", caller_id="11987651234")
            await ag.wait_for_selector("#state.s-in_call", timeout=15000)
            await ag.wait_for_selector("#transfer:visible")
            assert await ag.is_hidden("#transfer-consult")

            # consult the colleague, then cancel: the caller is back with the agent
            await ag.fill("#transfer-to", "7652")
            await ag.click("#transfer button[value=attended]")
            await ag.wait_for_selector("#transfer-consult:visible", timeout=10000)
            assert "conclua ou cancele" in await ag.inner_text("#transfer-msg")
            await target_answered(scene, "7652")
            await shot(ag, tmp_path, "agent-attended-transfer.png")
            assert await axe_violations(ag) == []
            await ag.click("#transfer-cancel")
            await ag.wait_for_selector("#transfer-msg.ok:has-text('o cliente voltou')", timeout=10000)
            assert await ag.is_hidden("#transfer-consult")
            await ag.wait_for_selector("#state.s-in_call")
            call_id = call_id_of(caller)

            async def consultation_over() -> bool:
                legs = (await root.ok("GET", f"/domains/{domain}/calls/{call_id}"))["legs"]
                mine = [leg for leg in legs if "7652" in (leg["extension"], leg["number"])]
                return bool(mine) and all(leg["ended_at"] for leg in mine)
            await eventually(consultation_over, timeout=10, what="the cancelled consultation over")

            # consult again, then complete: the caller goes to the colleague
            await ag.click("#transfer button[value=attended]")
            await ag.wait_for_selector("#transfer-consult:visible", timeout=10000)

            async def consultation_up() -> bool:
                answered = scene.recorder.matching("DialEnd", DialStatus="ANSWER")
                return sum(1 for _, e in answered
                           if str(e.fields.get("DestChannel", "")).startswith(f"PJSIP/{domain}-7652-")) >= 2
            await eventually(consultation_up, timeout=15, what="the second consultation answered",
                             details=lambda: repr([(e.name, dict(e.fields)) for _, e in scene.recorder.events
                                                   if e.name in ("DialEnd", "AttendedTransfer")]))
            await ag.click("#transfer-complete")
            # the call card closes with the call: the message is there, hidden with its form
            await ag.wait_for_selector("#transfer-msg.ok:has-text('Transferência concluída')", state="attached",
                                       timeout=10000)
            [(_, done)] = await scene.recorder.wait_for("AttendedTransfer", timeout=10)
            assert done.fields.get("Result") == "Success"
            await ag.wait_for_selector("#state.s-available", timeout=15000)  # the agent is free (no wrap-up)
            await scene.hangup(caller)
            j = await journey(scene, call_id_of(caller))
            assert [leg["result"] for leg in j["legs"] if leg["kind"] == "transfer"] == ["attended"], j["legs"]
        finally:
            await browser.close()
