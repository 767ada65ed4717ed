"""Issue 15 acceptance in real chromium against the real sandbox: the agent screen
is the phone. A WebRTC agent signs in, the page registers their WebRTC extension
over WSS (`registered: true` in the API), the agent logs into a queue on it, a
call into the queue rings in the page and is answered from the page; MEDIA is
asserted (DTLS connected, packets both ways from getStats, a recording of each
direction with sound), the page's call-quality reports reach the supervisors'
API; a reject from the page keeps the agent out for the queue's reject_delay,
then the call is offered again. Closing the tab unregisters the extension."""
from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

import playwright.async_api as playwright_api  # missing, the run fails (never a skip)
import pytest

from ccplane.asterisk.sandbox import SandboxState
from tests.e2e.browser import axe_violations, login, require_chromium, shot
from tests.integration.conftest import scene  # noqa: F401 - the real-sandbox Scene fixture
from tests.support.api import ApiCaller
from tests.support.telephony import Recorder
from tests.support.waiting import eventually

# The flags of /work notes (webrtc-here.md): a fake microphone (a beep), no prompt.
CHROMIUM_ARGS = ["--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 "--ignore-certificate-errors", "--allow-loopback-in-peer-connection",
                 "--autoplay-policy=no-user-gesture-required", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run",
                 # many agent pages in one browser: none is a background tab whose timers and
                 # renderer Chromium slows down (the media set-up of the last pages starved)
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]
REJECT_DELAY = 4


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


def _sox_stat(path: Path) -> dict[str, float]:
    res = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    out = {}
    for line in res.stderr.splitlines():
        m = re.match(r"^([A-Za-z ()]+):\s+(-?[0-9.]+)\s*$", line)
        if m:
            out[m.group(1).strip()] = float(m.group(2))
    return out


async def _agent_channel(sc: Any, endpoint: str) -> str:
    async def find() -> str | None:
        items = await sc.services.ami.action({"Action": "CoreShowChannels"})
        for item in items:
            name = str(item.get("Channel", ""))
            if name.startswith(f"PJSIP/{endpoint}-") and item.get("ChannelStateDesc") == "Up":
                return name
        return None
    return str(await eventually(find, timeout=10, what=f"the {endpoint} channel up"))


async def _originate_echo(sc: Any, queue: str) -> str:
    """A caller into the queue whose other half echoes what the agent sends: audio both ways."""
    token = secrets.token_hex(6)
    caller_uid = f"w{token}-2"
    await sc.services.ami.action({
        "Action": "Originate", "Channel": f"Local/{sc.qname(queue)}@ccplane-queues",
        "Application": "Echo", "CallerID": "Cliente <11987650000>", "Async": "true",
        "ChannelId": f"w{token}-1", "OtherChannelId": caller_uid})
    await sc.recorder.wait_for("QueueCallerJoin", Uniqueid=caller_uid)
    sc.callers.append(caller_uid)
    return caller_uid


async def _media(page: Any) -> dict[str, Any]:
    return dict(await page.evaluate("() => window.ccplanePhone.stats()") or {})


async def test_webrtc_agent_answers_from_the_page_with_media_then_rejects(
        app_client: Any, root: ApiCaller, scene: Any, sandbox: SandboxState, tmp_path: Path) -> None:  # noqa: F811
    domain = scene.domain
    await scene.extension("7701", kind="webrtc")
    username, password = f"wa{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users", {"username": username, "name": "Wanda WebRTC", "role": "agent",
                                                       "password": password, "webrtc_extension": "7701"}, 201)
    await scene.queue("web", strategy="ringall", ring_timeout=20, retry=1, reject_delay=REJECT_DELAY,
                      wrapup_time=0)
    endpoint = f"{domain}-7701"
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        try:
            ctx = await browser.new_context(viewport={"width": 1366, "height": 900}, ignore_https_errors=True)
            page = await ctx.new_page()
            await login(page, base, username, password, "/agent")
            await page.wait_for_selector("#phone-reg.r-registered", timeout=15000)

            async def registered() -> bool:
                return bool((await root.ok("GET", f"/domains/{domain}/extensions/7701"))["registered"])
            await eventually(registered, timeout=10, what="extension 7701 registered in the API")

            await page.check("input[name=queues][value=web]")
            await page.click("#choose-queues button[type=submit]")
            offered = await page.locator("#extension option").all_inner_texts()
            assert [o.split(" ")[0] for o in offered] == ["7701"], offered
            await page.click("text=Entrar nas filas")
            await page.wait_for_selector("#state.s-available")
            await page.wait_for_selector("#phone-reg.r-registered", timeout=15000)  # the new page registered again

            # a call rings in the page and is answered from the page
            t0 = time.monotonic()
            caller = await _originate_echo(scene, "web")
            await page.wait_for_selector("#phone[data-state=ringing]", timeout=10000)
            await page.wait_for_selector("#phone-from:has-text('11987650000')")
            await page.click("#phone-answer")
            await page.wait_for_selector("#phone[data-state=in_call]", timeout=10000)
            channel = await _agent_channel(scene, endpoint)
            spool = f"/srv/ccplane/{sandbox.name}/spool/monitor"
            token = secrets.token_hex(4)
            rx, tx = f"{spool}/webrtc-{token}-rx.wav", f"{spool}/webrtc-{token}-tx.wav"
            await scene.services.ami.action({"Action": "MixMonitor", "Channel": channel,
                                             "File": f"{spool}/webrtc-{token}.wav", "Options": f"r({rx})t({tx})"})

            async def flowing() -> dict[str, Any] | None:
                st = await _media(page)
                ok = st.get("dtls") == "connected" and st.get("packets_sent", 0) > 0 and st.get("packets_received", 0) > 0
                return st if ok else None
            first = await eventually(flowing, timeout=10, what="media both ways", interval=0.05)
            setup = time.monotonic() - t0

            async def two_seconds() -> dict[str, Any] | None:  # ~100 packets each way at 20 ms
                st = await _media(page)
                return st if st.get("packets_sent", 0) >= first["packets_sent"] + 100 and \
                    st.get("packets_received", 0) >= first["packets_received"] + 100 else None
            media = await eventually(two_seconds, timeout=15, what="2 s of audio both ways")
            print(f"webrtc: originate -> media both ways {setup:.2f} s; stats {media}")

            await page.wait_for_selector("#state.s-in_call", timeout=10000)
            await page.wait_for_selector("#phone-quality:has-text('MOS')", timeout=15000)  # a report went out
            await page.wait_for_selector("#phone-timer:has-text('0:0'):not(:has-text('0:00'))")  # the timer runs
            await shot(page, tmp_path, "agent-webrtc-in-call.png", full_page=True)
            assert await axe_violations(page) == []

            calls = await root.ok("GET", f"/domains/{domain}/calls")
            mine = [c for c in calls["items"] if c["agent"] == username]
            assert len(mine) == 1, calls
            call_id = mine[0]["id"]

            await scene.services.ami.action({"Action": "StopMixMonitor", "Channel": channel})
            await page.click("#phone-hangup")  # hang up from the page
            await page.wait_for_selector("#phone[data-state=idle]", timeout=10000)
            await scene.recorder.wait_for("Hangup", Uniqueid=caller)

            host_spool = Path(sandbox.rootfs) / spool.lstrip("/")
            for name, path in (("received from the browser", host_spool / Path(rx).name),
                               ("sent to the browser", host_spool / Path(tx).name)):
                await eventually(lambda path=path: _exists(path), timeout=5, what=f"recording {path}")
                st = _sox_stat(path)
                print(f"webrtc: recording {name}: {st}")
                assert st["Length (seconds)"] >= 1.5, (name, st)
                assert st["Maximum amplitude"] > 0.05 and st["RMS     amplitude"] > 0.001, (name, st)

            seen: list[Any] = []
            # the queue's supervisor (a member of the monitoring group that covers it) reads it
            await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "Web", "queues": ["web"]}, 201)
            sv_name, sv_pass = f"sv{secrets.token_hex(3)}", secrets.token_urlsafe(10)
            await root.ok("POST", f"/domains/{domain}/users", {"username": sv_name, "name": "Sara Supervisora",
                                                               "role": "supervisor", "password": sv_pass,
                                                               "monitoring_groups": ["Web"]}, 201)
            supervisor = await root.login(sv_name, sv_pass)

            async def quality() -> list[dict[str, Any]] | None:
                items = (await supervisor.ok("GET", f"/domains/{domain}/calls/{call_id}/quality"))["items"]
                seen[:] = [items]
                return items if items and items[0]["packets_received"] >= 100 else None
            q = (await eventually(quality, timeout=10, what="the page's call-quality report",
                                  details=lambda: repr(seen)))[0]
            assert (q["agent"], q["extension"]) == (username, "7701"), q
            assert q["packets_sent"] > 0 and q["samples"] >= 1 and 1.0 <= q["mos_min"] <= q["mos"] <= 4.5, q
            agent_api = await root.login(username, password)  # the agent reports it, supervisors read it
            status, _ = await agent_api.call("GET", f"/domains/{domain}/calls/{call_id}/quality")
            assert status == 403

            # reject from the page: out for reject_delay, then offered again
            await page.wait_for_selector("#state.s-available", timeout=10000)
            second = await _originate_echo(scene, "web")
            await page.wait_for_selector("#phone[data-state=ringing]", timeout=10000)
            await page.click("#phone-reject")
            rejected_at = time.monotonic()
            await page.wait_for_selector("#phone[data-state=idle]", timeout=5000)

            async def paused() -> dict[str, Any] | None:
                st = await root.ok("GET", f"/domains/{domain}/agents/{username}")
                return st if st["state"] == "paused" else None
            out = await eventually(paused, timeout=3, what="the agent kept out after the reject")
            assert out["pause_reason"] == "rejected", out  # a reject, not a no-answer
            await page.wait_for_selector("#phone[data-state=ringing]", timeout=(REJECT_DELAY + 8) * 1000)
            again = time.monotonic() - rejected_at
            print(f"webrtc: offered again {again:.2f} s after the reject (reject_delay {REJECT_DELAY})")
            assert again >= REJECT_DELAY - 0.7, again
            await page.click("#phone-reject")
            await page.wait_for_selector("#phone[data-state=idle]", timeout=5000)
            await scene.hangup(second)
            await scene.recorder.wait_for("Hangup", Uniqueid=second)
            await page.wait_for_selector("#state.s-paused, #state.s-available", timeout=10000)

            # closing the tab unregisters the extension
            await page.close()

            async def unregistered() -> bool:
                return not (await root.ok("GET", f"/domains/{domain}/extensions/7701"))["registered"]
            await eventually(unregistered, timeout=10, what="extension 7701 unregistered after the tab closed")

            async def inactive() -> dict[str, Any] | None:  # what supervisors see
                st = await root.ok("GET", f"/domains/{domain}/agents/{username}")
                return st if st["state"] == "inactive" else None
            await eventually(inactive, timeout=10, what="the agent inactive once the tab closed")
        finally:
            await browser.close()


async def _exists(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 44


async def _webrtc_agent(root: ApiCaller, domain: str, number: str, name: str) -> tuple[str, str]:
    username, password = f"wa{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users", {"username": username, "name": name, "role": "agent",
                                                       "password": password, "webrtc_extension": number}, 201)
    return username, password


async def test_blind_transfer_from_the_page_reaches_a_baresip_extension(
        app_client: Any, root: ApiCaller, scene: Any, tmp_path: Path) -> None:  # noqa: F811
    domain = scene.domain
    await scene.extension("7711", kind="webrtc")
    target = await scene.extension("7712", phone="auto")  # a desk phone that answers by itself
    assert target
    username, password = await _webrtc_agent(root, domain, "7711", "Tina Transfere")
    await scene.queue("tx", strategy="ringall", ring_timeout=20, retry=1, wrapup_time=0)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(ignore_https_errors=True)).new_page()
            await login(page, base, username, password, "/agent")
            await page.wait_for_selector("#phone-reg.r-registered", timeout=15000)
            agent = await root.login(username, password)
            await agent.ok("POST", f"/domains/{domain}/agents/{username}/session",
                           {"queues": ["tx"], "extension": "7711"}, 201)
            await _originate_echo(scene, "tx")
            await page.wait_for_selector("#phone[data-state=ringing]", timeout=10000)
            await page.click("#phone-answer")
            await page.wait_for_selector("#phone[data-state=in_call]", timeout=10000)
            await eventually(lambda: _flowing(page), timeout=10, what="media before the transfer")

            # keypad, hold and mute from the page, seen by Asterisk on the agent's channel
            channel = await _agent_channel(scene, f"{domain}-7711")
            seen = Recorder()
            scene.services.ami.on_event(seen, names=("DTMFEnd", "Hold", "Unhold"))
            await page.click("#phone-keypad .key[data-key='5']")
            await seen.wait_for("DTMFEnd", Channel=channel, Digit="5")
            await page.click("#phone-hold")
            await seen.wait_for("Hold", Channel=channel)
            await page.wait_for_selector("#phone-hold[aria-pressed=true]")
            await page.click("#phone-hold")
            await seen.wait_for("Unhold", Channel=channel)
            await page.wait_for_selector("#phone-hold[aria-pressed=false]")
            await page.click("#phone-mute")
            await page.wait_for_selector("#phone-mute[aria-pressed=true]")
            assert await page.evaluate("() => window.ccplanePhone.session().isMuted().audio") is True
            await page.click("#phone-mute")
            assert await page.evaluate("() => window.ccplanePhone.session().isMuted().audio") is False

            # the network drops and comes back: the phone registers again, the call and its media are kept
            before = await _media(page)
            await page.context.set_offline(True)  # new connections fail; the open one is cut below
            https_port = int(str(scene.services.webrtc.wss_url).rsplit(":", 1)[1].split("/")[0])
            cut = subprocess.run(["ss", "-K", "state", "established", "dst", "127.0.0.1", "dport", "=",
                                  str(https_port)], capture_output=True, text=True, timeout=10)
            assert cut.returncode == 0, cut.stderr
            await page.wait_for_selector("#phone-reg.r-connecting", timeout=15000)
            await page.wait_for_selector("#phone-error:has-text('Reconectando')")
            await page.context.set_offline(False)
            await page.wait_for_selector("#phone-reg.r-registered", timeout=20000)

            async def still_flowing() -> bool:
                st = await _media(page)
                return st["packets_received"] > before["packets_received"] + 50 and \
                    st["packets_sent"] > before["packets_sent"] + 50
            await eventually(still_flowing, timeout=10, what="media after the reconnect")
            assert await page.get_attribute("#phone", "data-state") == "in_call"

            await page.fill("#phone-transfer-to", "7712")
            await page.click("#phone-transfer button[type=submit]")
            await page.wait_for_selector("#phone-transfer-msg:has-text('Transferência enviada')", timeout=10000)
            try:
                await page.wait_for_selector("#phone[data-state=idle]", timeout=10000)  # the agent's leg is over
            except playwright_api.TimeoutError:
                channels = await scene.services.ami.action({"Action": "CoreShowChannels"})
                raise AssertionError(
                    "the agent's leg did not end after the blind transfer; page says "
                    f"{await page.text_content('#phone-transfer-msg')!r}, state "
                    f"{await page.get_attribute('#phone', 'data-state')!r}; channels: "
                    f"{[(c.get('Channel'), c.get('ChannelStateDesc'), c.get('BridgeId')) for c in channels]}") from None

            async def bridged() -> str | None:  # the caller now talks to the desk phone
                items = await scene.services.ami.action({"Action": "CoreShowChannels"})
                for item in items:
                    if str(item.get("Channel", "")).startswith(f"PJSIP/{domain}-7712-") and \
                            item.get("ChannelStateDesc") == "Up" and item.get("BridgeId"):
                        return str(item["Channel"])
                return None
            await eventually(bridged, timeout=10, what="extension 7712 answered and bridged",
                             details=lambda: target.output()[-1500:])
        finally:
            await browser.close()


async def _flowing(page: Any) -> bool:
    st = await _media(page)
    return st.get("dtls") == "connected" and st.get("packets_sent", 0) > 0 and st.get("packets_received", 0) > 0


AUTO_ANSWER = """() => {  // answer from the page as an agent would: click Atender when it rings
    const card = document.getElementById('phone');
    new MutationObserver(() => {
        if (card.dataset.state === 'ringing') { window.__rang = window.__rang || Date.now(); document.getElementById('phone-answer').click(); }
        if (card.dataset.state === 'in_call') window.__confirmed = window.__confirmed || Date.now();
    }).observe(card, {attributes: true, attributeFilter: ['data-state']});
}"""


async def test_ten_webrtc_agents_in_one_browser_answer_a_burst_with_media(
        app_client: Any, root: ApiCaller, scene: Any) -> None:  # noqa: F811
    domain, n = scene.domain, 10
    numbers = [str(7720 + i) for i in range(n)]
    await scene.queue("burst", strategy="rrmemory", ring_timeout=20, retry=1, wrapup_time=0)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        try:
            pages = []
            for number in numbers:
                await scene.extension(number, kind="webrtc")
                username, password = await _webrtc_agent(root, domain, number, f"Agente {number}")
                page = await (await browser.new_context(ignore_https_errors=True)).new_page()
                await login(page, base, username, password, "/agent")
                await page.wait_for_selector("#phone-reg.r-registered", timeout=15000)
                agent = await root.login(username, password)
                await agent.ok("POST", f"/domains/{domain}/agents/{username}/session",
                               {"queues": ["burst"], "extension": number}, 201)
                await page.evaluate(AUTO_ANSWER)
                pages.append(page)

            async def media_at(page: Any, started: float) -> float:
                await eventually(lambda: _flowing(page), timeout=30, interval=0.05, what="media on every page")
                return time.monotonic() - started

            started, wall = time.monotonic(), time.time()
            await asyncio.gather(*(_originate_echo(scene, "burst") for _ in range(n)))
            setups = sorted(await asyncio.gather(*(media_at(page, started) for page in pages)))
            marks = [await page.evaluate("() => [window.__rang, window.__confirmed]") for page in pages]
            rang = sorted(m[0] / 1000 - wall for m in marks)
            confirmed = sorted(m[1] / 1000 - wall for m in marks)
            p50, p99 = setups[len(setups) // 2], setups[-1]  # with 10 samples the p99 is the slowest
            print(f"webrtc burst: {n} calls, originate -> media both ways p50 {p50:.2f} s, p99 {p99:.2f} s; "
                  f"-> ringing in the page p50 {rang[n // 2]:.2f} max {rang[-1]:.2f}; -> answered (confirmed) "
                  f"p50 {confirmed[n // 2]:.2f} max {confirmed[-1]:.2f}; media all {[round(x, 2) for x in setups]}; "
                  f"load average {os.getloadavg()[0]:.1f}")
            for page in pages:  # media on each: both ways, still flowing
                st = await _media(page)
                assert st["packets_sent"] > 0 and st["packets_received"] > 0 and st["dtls"] == "connected", st
            calls = (await root.ok("GET", f"/domains/{domain}/calls?limit=100"))["items"]
            assert len({c["agent"] for c in calls if c["agent"]}) == n, calls
        finally:
            await browser.close()


NOTICES = """() => {  // a hidden tab: record the desktop notifications and ring tones the page makes
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
    Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
    window.__notices = []; window.__tones = 0;
    class RecordedNotification {
        constructor(title, options) { this.title = title; this.options = options || {}; this.closed = false;
                                      window.__notices.push(this); }
        close() { this.closed = true; }
        static get permission() { return 'granted'; }
        static requestPermission() { return Promise.resolve('granted'); }
    }
    window.Notification = RecordedNotification;
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (...a) { window.__tones += 1; return start.apply(this, a); };
}"""


async def test_a_call_rings_a_hidden_agent_tab_with_a_tone_and_a_desktop_notification(
        app_client: Any, root: ApiCaller, scene: Any, tmp_path: Path) -> None:  # noqa: F811
    domain = scene.domain
    await scene.extension("7741", kind="webrtc")
    username, password = await _webrtc_agent(root, domain, "7741", "Nina Notifica")
    await scene.queue("hid", strategy="ringall", ring_timeout=20, retry=1, wrapup_time=0)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        try:
            ctx = await browser.new_context(ignore_https_errors=True)
            await ctx.add_init_script(f"({NOTICES})();")
            page = await ctx.new_page()
            await login(page, base, username, password, "/agent")
            await page.wait_for_selector("#phone-reg.r-registered", timeout=15000)
            agent = await root.login(username, password)
            await agent.ok("POST", f"/domains/{domain}/agents/{username}/session",
                           {"queues": ["hid"], "extension": "7741"}, 201)
            assert await page.evaluate("() => window.__notices.length") == 0
            caller = await _originate_echo(scene, "hid")
            await page.wait_for_selector("#phone[data-state=ringing]", timeout=10000)
            notices = await page.evaluate(
                "() => window.__notices.map(n => [n.title, n.options.tag, n.options.requireInteraction, n.closed])")
            assert notices == [["Chamada recebida de Cliente · 11987650000", "ccplane-call", True, False]], notices
            assert await page.evaluate("() => window.__tones") == 1  # the ring tone plays in the page
            await scene.hangup(caller)  # the caller gives up: the notification goes with the ring
            await page.wait_for_selector("#phone[data-state=idle]", timeout=10000)
            assert await page.evaluate("() => window.__notices.map(n => n.closed)") == [True]
        finally:
            await browser.close()


async def test_microphone_refused_gives_a_clear_message_and_the_call_keeps_ringing(
        app_client: Any, root: ApiCaller, scene: Any) -> None:  # noqa: F811
    domain = scene.domain
    await scene.extension("7731", kind="webrtc")
    username, password = await _webrtc_agent(root, domain, "7731", "Mara Microfone")
    await scene.queue("mic", strategy="ringall", ring_timeout=20, retry=1, wrapup_time=0)
    base = str(app_client.make_url("/")).rstrip("/")
    # no --use-fake-ui-for-media-stream and no permission granted: the browser refuses the microphone
    args = [a for a in CHROMIUM_ARGS if a != "--use-fake-ui-for-media-stream"]
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=require_chromium(), args=args)
        try:
            page = await (await browser.new_context(ignore_https_errors=True)).new_page()
            await login(page, base, username, password, "/agent")
            await page.wait_for_selector("#phone-reg.r-registered", timeout=15000)
            agent = await root.login(username, password)
            await agent.ok("POST", f"/domains/{domain}/agents/{username}/session",
                           {"queues": ["mic"], "extension": "7731"}, 201)
            caller = await _originate_echo(scene, "mic")
            await page.wait_for_selector("#phone[data-state=ringing]", timeout=10000)
            await page.click("#phone-answer")
            await page.wait_for_selector("#phone-mic:has-text('permita o microfone')", timeout=10000)
            await page.wait_for_selector("#phone-error:has-text('Não foi possível atender')")
            assert await page.get_attribute("#phone", "data-state") == "ringing"  # not lost: still ringing
            await scene.hangup(caller)
            await page.wait_for_selector("#phone[data-state=idle]", timeout=10000)
        finally:
            await browser.close()


async def test_attended_transfer_through_the_api_from_the_page_with_the_webrtc_phone(
        app_client: Any, root: ApiCaller, scene: Any) -> None:  # noqa: F811
    """The agent screen's transfer form (the transfer API) with the WebRTC phone on the
    agent's side: attended to a baresip extension, completed; the caller ends up
    with the desk phone and the page's phone is free."""
    domain = scene.domain
    await scene.extension("7741", kind="webrtc")
    target = await scene.extension("7742", phone="auto")
    assert target
    username, password = await _webrtc_agent(root, domain, "7741", "Ari Assistida")
    await scene.queue("att", strategy="ringall", ring_timeout=20, retry=1, wrapup_time=0)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(ignore_https_errors=True)).new_page()
            await login(page, base, username, password, "/agent")
            await page.wait_for_selector("#phone-reg.r-registered", timeout=15000)
            agent = await root.login(username, password)
            await agent.ok("POST", f"/domains/{domain}/agents/{username}/session",
                           {"queues": ["att"], "extension": "7741"}, 201)
            await page.reload()
            await page.wait_for_selector("#phone-reg.r-registered", timeout=15000)
            await _originate_echo(scene, "att")
            await page.wait_for_selector("#phone[data-state=ringing]", timeout=10000)
            await page.click("#phone-answer")
            await page.wait_for_selector("#phone[data-state=in_call]", timeout=10000)
            await eventually(lambda: _flowing(page), timeout=10, what="media before the transfer")
            await page.wait_for_selector("#transfer:not([hidden])", timeout=10000)
            await page.fill("#transfer-to", "7742")
            await page.click("#transfer button[value=attended]")
            await page.wait_for_function("document.getElementById('transfer-msg').textContent !== ''", timeout=10000)
            assert "conclua ou cancele" in (await page.text_content("#transfer-msg") or "")  # consulting
            assert await page.is_visible("#transfer-complete") and await page.is_visible("#transfer-cancel")
            calls = (await root.ok("GET", f"/domains/{domain}/calls"))["items"]
            call_id = [c for c in calls if c["agent"] == username][0]["id"]

            async def consulting() -> bool:  # the desk phone answered the agent's consultation
                items = await scene.services.ami.action({"Action": "CoreShowChannels"})
                return any(str(i.get("Channel", "")).startswith(f"PJSIP/{domain}-7742-") and
                           i.get("ChannelStateDesc") == "Up" for i in items)
            await eventually(consulting, timeout=15, what="the consultation with 7742")
            await agent.ok("POST", f"/domains/{domain}/calls/{call_id}/transfer/complete", None, 202)
            await page.wait_for_selector("#phone[data-state=idle]", timeout=15000)  # the agent left the call

            async def caller_with_target() -> bool:
                items = await scene.services.ami.action({"Action": "CoreShowChannels"})
                bridges = {str(i.get("BridgeId")) for i in items
                           if str(i.get("Channel", "")).startswith(f"PJSIP/{domain}-7742-") and i.get("BridgeId")}
                return any(str(i.get("BridgeId")) in bridges and str(i.get("Channel", "")).startswith("Local/")
                           for i in items)
            await eventually(caller_with_target, timeout=15, what="the caller bridged with 7742",
                             details=lambda: target.output()[-1500:])
        finally:
            await browser.close()
