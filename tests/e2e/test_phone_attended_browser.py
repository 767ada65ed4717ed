"""Issue 13, the WebRTC phone card's attended transfer, with real calls: the agent
answers a queue call in the page's phone, starts an attended transfer to a baresip
desk phone from the card, talks to it (the caller on hold), cancels (the target is
hung up, the agent has the caller back with media), starts it again and completes
it from the card: the caller ends up bridged with the desk phone, the card is idle."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import playwright.async_api as playwright_api  # missing, the run fails (never a skip)
import pytest

from tests.e2e.browser import axe_violations, login, require_chromium, shot
from tests.e2e.test_webrtc_phone import CHROMIUM_ARGS, _flowing, _media, _originate_echo, _webrtc_agent
from tests.integration.conftest import scene  # noqa: F401 - the real-sandbox Scene fixture
from tests.support.api import ApiCaller
from tests.support.waiting import eventually


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


async def _channels(scene: Any, prefix: str) -> list[dict[str, Any]]:  # noqa: F811
    items = await scene.services.ami.action({"Action": "CoreShowChannels"})
    return [dict(i) for i in items if str(i.get("Channel", "")).startswith(prefix)]


async def test_attended_transfer_complete_and_cancel_from_the_phone_card(
        app_client: Any, root: ApiCaller, scene: Any, tmp_path: Path) -> None:  # noqa: F811
    domain = scene.domain
    await scene.extension("7761", kind="webrtc")
    target = await scene.extension("7762", phone="auto")  # a desk phone that answers by itself
    assert target
    username, password = await _webrtc_agent(root, domain, "7761", "Clara Consulta")
    await scene.queue("cons", strategy="ringall", ring_timeout=20, retry=1, wrapup_time=0)
    base = str(app_client.make_url("/")).rstrip("/")
    desk, agent_prefix = f"PJSIP/{domain}-7762-", f"PJSIP/{domain}-7761-"

    async def desk_up() -> bool:
        return any(c.get("ChannelStateDesc") == "Up" for c in await _channels(scene, desk))

    async def desk_gone() -> bool:
        return not await _channels(scene, desk)

    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(ignore_https_errors=True,
                                                    viewport={"width": 1366, "height": 1000})).new_page()
            await login(page, base, username, password, "/agent")
            await page.wait_for_selector("#phone-reg.r-registered", timeout=15000)
            agent = await root.login(username, password)
            await agent.ok("POST", f"/domains/{domain}/agents/{username}/session",
                           {"queues": ["cons"], "extension": "7761"}, 201)
            await page.reload()
            await page.wait_for_selector("#phone-reg.r-registered", timeout=15000)
            caller = await _originate_echo(scene, "cons")
            await page.wait_for_selector("#phone[data-state=ringing]", timeout=10000)
            await page.click("#phone-answer")
            await page.wait_for_selector("#phone[data-state=in_call]", timeout=10000)
            await eventually(lambda: _flowing(page), timeout=10, what="media before the transfer")
            assert await page.is_hidden("#phone-consult")

            # an empty target: the card says so, nothing is asked of the API
            await page.click("#phone-attended")
            await page.wait_for_selector("#phone-transfer-msg:has-text('Informe o ramal')")

            # attended, then cancelled from the card
            await page.fill("#phone-transfer-to", "7762")
            await page.click("#phone-attended")
            await page.wait_for_selector("#phone[data-transfer=consulting] #phone-consult:visible", timeout=10000)
            assert (await page.text_content("#phone-consult-to") or "").strip() == "7762"
            await eventually(desk_up, timeout=15, what="the desk phone answered the consultation",
                             details=lambda: target.output()[-1500:])
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "phone-attended-consulting.png", full_page=True)
            await page.click("#phone-xfer-cancel")
            await page.wait_for_selector("#phone[data-transfer=cancelled]", timeout=10000)
            await page.wait_for_selector("#phone-transfer-msg:has-text('Transferência cancelada')")
            assert await page.is_hidden("#phone-consult")
            await eventually(desk_gone, timeout=15, what="the consultation hung up")
            assert await page.get_attribute("#phone", "data-state") == "in_call"
            before = await _media(page)

            async def talking_again() -> bool:  # the agent has the caller (the echo) back: media both ways
                st = await _media(page)
                return st["packets_received"] > before["packets_received"] + 25 and \
                    st["packets_sent"] > before["packets_sent"] + 25
            await eventually(talking_again, timeout=10, what="media with the caller after the cancel")

            # attended again, completed from the card
            async def consult_again() -> bool:  # the cancelled transfer may take a moment to be forgotten
                await page.click("#phone-attended")
                try:
                    await page.wait_for_selector("#phone[data-transfer=consulting]", timeout=3000)
                    return True
                except playwright_api.TimeoutError:
                    return False
            await eventually(consult_again, timeout=15, what="a second attended transfer",
                             details=lambda: "")
            await eventually(desk_up, timeout=15, what="the desk phone answered again",
                             details=lambda: target.output()[-1500:])
            await page.click("#phone-xfer-complete")
            await page.wait_for_selector("#phone[data-state=idle]", timeout=15000)  # the agent left the call
            assert (await page.text_content("#phone-status") or "").strip() == "Transferência concluída."
            assert not await _channels(scene, agent_prefix)

            async def caller_with_desk() -> bool:
                items = await scene.services.ami.action({"Action": "CoreShowChannels"})
                bridges = {str(i.get("BridgeId")) for i in items
                           if str(i.get("Channel", "")).startswith(desk) and i.get("BridgeId")}
                return any(str(i.get("BridgeId")) in bridges and str(i.get("Channel", "")).startswith("Local/")
                           for i in items)
            await eventually(caller_with_desk, timeout=15, what="the caller bridged with the desk phone",
                             details=lambda: target.output()[-1500:])
            assert caller
        finally:
            await browser.close()
