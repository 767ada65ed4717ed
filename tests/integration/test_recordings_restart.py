"""A queue call recorded while ccplane is down (kill -9 before the call, back
after it): the dialplan started and finished the recording on its own; the
restarted ccplane stores it from the AstDB report and the finished file."""
from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time

import aiohttp

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.sandbox import SandboxState
from ccplane.settings import Settings
from tests.integration.test_journeys_restart import _free_port, _ready
from tests.support.api import ApiCaller
from tests.support.baresip import Phone
from tests.support.telephony import SCENE_EVENTS, Recorder
from tests.support.waiting import eventually


def _serve(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CCPLANE_DATABASE_URL": settings.database.url,
           "CCPLANE_AUTH_SECRET_KEY": settings.auth.secret_key, "CCPLANE_LOG_FORMAT": "text",
           "CCPLANE_ASTERISK_TAKE_OVER": "1", "CCPLANE_CLUSTER_RETRY_INTERVAL": "0.5",
           "CCPLANE_RECORDINGS_DIR": settings.recordings.dir, "CCPLANE_RECORDINGS_POLL_INTERVAL": "0.2"}
    return subprocess.Popen([sys.executable, "-m", "ccplane", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_a_call_recorded_while_ccplane_is_down_is_kept(settings: Settings, sandbox: SandboxState) -> None:
    username, password = f"root-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    env = {**os.environ, "CCPLANE_DATABASE_URL": settings.database.url}
    subprocess.run([sys.executable, "-m", "ccplane", "user", "create", "--root", username, "--password-stdin"],
                   input=(password + "\n").encode(), env=env, check=True, timeout=60, capture_output=True)
    ports = _free_port(), _free_port()
    procs = [_serve(settings, ports[0])]
    ami = AmiClient("127.0.0.1", sandbox.ami_port, sandbox.ami_username, sandbox.ami_secret)
    recorder = Recorder()
    ami.on_event(recorder, names=SCENE_EVENTS)
    await ami.start()
    phone: Phone | None = None
    first = aiohttp.ClientSession(base_url=f"http://127.0.0.1:{ports[0]}")
    second = aiohttp.ClientSession(base_url=f"http://127.0.0.1:{ports[1]}")
    token = f"r{secrets.token_hex(5)}"
    try:
        await ami.wait_connected(15)
        await eventually(lambda: _ready(first), timeout=30, what="the first ccplane ready")
        root = await ApiCaller(first).login(username, password)  # type: ignore[arg-type]
        slug = f"r{secrets.token_hex(4)}"
        await root.ok("POST", "/domains", {"slug": slug, "name": "Down"}, 201)
        await root.ok("POST", f"/domains/{slug}/extensions",
                      {"number": "7951", "name": "Agent", "secret": "secret-7951"}, 201)
        await root.ok("POST", f"/domains/{slug}/queues", {"name": "rq", "strategy": "ringall", "ring_timeout": 5,
                                                          "extensions": ["7951"], "record": True}, 201)

        async def loaded() -> bool:
            return f"{slug}-7951" in await ami.command(f"pjsip show endpoint {slug}-7951")
        await eventually(loaded, timeout=10, what="the endpoint loaded")
        phone = Phone(f"{slug}-7951", "secret-7951", sandbox.sip_port, answer="auto").start()

        async def registered() -> bool:
            return bool((await root.ok("GET", f"/domains/{slug}/extensions/7951"))["registered"])
        await eventually(registered, timeout=20, what="the agent's phone registered")
        agent = await root.new_user(slug, "agent")
        await agent.ok("POST", f"/domains/{slug}/agents/{agent.username}/session",  # type: ignore[attr-defined]
                       {"queues": ["rq"], "extension": "7951"}, 201)

        os.kill(procs[0].pid, signal.SIGKILL)
        procs[0].wait(10)
        # the whole call while ccplane is down
        await ami.action({"Action": "Originate", "Channel": f"Local/{slug}_rq@ccplane-queues",
                          "Application": "Wait", "Data": "120", "CallerID": "Caller <1133332222>",
                          "Async": "true", "ChannelId": f"{token}-1", "OtherChannelId": f"{token}-2"})
        await recorder.wait_for("AgentConnect", Uniqueid=f"{token}-2", timeout=10)
        answered = time.monotonic()
        await asyncio.sleep(2)
        await ami.action({"Action": "Hangup", "Channel": f"{token}-1"})
        hung = time.monotonic()
        await recorder.wait_for("Hangup", Uniqueid=f"{token}-2", timeout=10)

        procs.append(_serve(settings, ports[1]))
        root = ApiCaller(second, root.token)  # type: ignore[arg-type]
        await eventually(lambda: _ready(second), timeout=30, what="the second ccplane ready")

        async def kept() -> dict[str, object] | None:
            page = await root.ok("GET", f"/domains/{slug}/recordings?call={token}-1")
            items = page["items"]
            return items[0] if len(items) == 1 and items[0]["status"] == "ready" else None
        rec = await eventually(kept, timeout=15, what="the recording made while ccplane was down")
        assert (rec["kind"], rec["queue"], rec["agent"]) == ("attendance", "rq", agent.username)  # type: ignore[attr-defined]
        assert abs(float(rec["duration"]) - (hung - answered)) <= 1.0, (rec, hung - answered)  # type: ignore[arg-type]
        async with second.get(f"/api/v1/domains/{slug}/recordings/{rec['id']}/audio",
                              headers={"Authorization": f"Bearer {root.token}"}) as resp:
            assert resp.status == 200 and len(await resp.read()) == rec["size"]
        # its AstDB report was deleted once stored
        left = await ami.action({"Action": "DBGetTree", "Family": "ccplane-recordings"})
        assert not [i for i in left if str(i.get("Key", "")).startswith(f"/ccplane-recordings/{slug}-")], left
    finally:
        try:
            await ami.action({"Action": "Hangup", "Channel": f"{token}-1"})
        except Exception:  # noqa: BLE001 - already gone
            pass
        for proc in procs:
            proc.kill()
            proc.wait(10)
        if phone is not None:
            phone.close()
        await first.close()
        await second.close()
        await ami.stop()
