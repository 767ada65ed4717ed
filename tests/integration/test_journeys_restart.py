"""Journeys survive ccplane: ``kill -9`` of a real ``ccplane serve`` while a
queue call is in talk, a second call placed and abandoned while it is down,
then a restart — the first journey completes with the right talk time, the
second is recorded from what Asterisk kept (its hangup handler's outbox
record), and /health says ready only once the resync has taken them back."""
from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import aiohttp

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.sandbox import SandboxState
from ccplane.settings import Settings
from tests.support.api import ApiCaller
from tests.support.baresip import Phone
from tests.support.telephony import SCENE_EVENTS, Recorder
from tests.support.waiting import eventually


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CCPLANE_DATABASE_URL": settings.database.url,
           "CCPLANE_AUTH_SECRET_KEY": settings.auth.secret_key, "CCPLANE_LOG_FORMAT": "text",
           "CCPLANE_ASTERISK_TAKE_OVER": "1",  # the suite's deployments share one sandbox
           "CCPLANE_CLUSTER_RETRY_INTERVAL": "0.5"}
    return subprocess.Popen([sys.executable, "-m", "ccplane", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _health(http: aiohttp.ClientSession) -> dict[str, Any] | None:
    try:
        async with http.get("/api/v1/health") as resp:
            return await resp.json() if resp.status == 200 else None
    except aiohttp.ClientError:
        return None


async def _ready(http: aiohttp.ClientSession) -> dict[str, Any] | None:
    health = await _health(http)
    return health if health and health["status"] == "ok" and health["ready"] else None


async def test_journeys_survive_kill_9_and_calls_made_while_down_are_recorded(
        settings: Settings, sandbox: SandboxState) -> None:
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
    callers: list[str] = []
    try:
        await ami.wait_connected(15)
        await eventually(lambda: _ready(first), timeout=30, what="the first ccplane ready")
        root = await ApiCaller(first).login(username, password)  # type: ignore[arg-type]
        slug = f"k{secrets.token_hex(4)}"
        await root.ok("POST", "/domains", {"slug": slug, "name": "Kill"}, 201)
        await root.ok("POST", f"/domains/{slug}/extensions",
                      {"number": "7901", "name": "Agent", "secret": "secret-7901"}, 201)
        await root.ok("POST", f"/domains/{slug}/queues",
                      {"name": "kq", "strategy": "ringall", "ring_timeout": 5, "extensions": ["7901"]}, 201)

        async def loaded() -> bool:
            return f"{slug}-7901" in await ami.command(f"pjsip show endpoint {slug}-7901")
        await eventually(loaded, timeout=10, what="the endpoint loaded")
        phone = Phone(f"{slug}-7901", "secret-7901", sandbox.sip_port, answer="auto").start()

        async def registered() -> bool:
            return bool((await root.ok("GET", f"/domains/{slug}/extensions/7901"))["registered"])
        await eventually(registered, timeout=20, what="the agent's phone registered")
        agent = await root.new_user(slug, "agent")
        await agent.ok("POST", f"/domains/{slug}/agents/{agent.username}/session",  # type: ignore[attr-defined]
                       {"queues": ["kq"], "extension": "7901"}, 201)

        async def call(token: str) -> None:
            await ami.action({"Action": "Originate", "Channel": f"Local/{slug}_kq@ccplane-queues",
                              "Application": "Wait", "Data": "120", "CallerID": "Caller <1133332222>",
                              "Async": "true", "ChannelId": f"{token}-1", "OtherChannelId": f"{token}-2"})
            callers.append(f"{token}-1")
            await recorder.wait_for("QueueCallerJoin", Uniqueid=f"{token}-2", timeout=10)

        talking = f"k{secrets.token_hex(5)}"
        await call(talking)
        await recorder.wait_for("AgentConnect", Uniqueid=f"{talking}-2", timeout=10)
        answered = time.monotonic()

        async def stored_active() -> bool:
            status, body = await root.call("GET", f"/domains/{slug}/calls/{talking}-1")
            return status == 200 and body["answered_at"] is not None and \
                (await _health(first) or {}).get("journeys", {}).get("pending") == 0
        await eventually(stored_active, timeout=5, what="the answered journey written")

        os.kill(procs[0].pid, signal.SIGKILL)  # no goodbye, nothing flushed
        procs[0].wait(10)
        # while ccplane is down: a second caller waits (the agent is busy) and gives up
        lost = f"k{secrets.token_hex(5)}"
        await call(lost)
        await asyncio.sleep(1)
        await ami.action({"Action": "Hangup", "Channel": f"{lost}-1"})
        await recorder.wait_for("Hangup", Uniqueid=f"{lost}-2", timeout=10)

        procs.append(_serve(settings, ports[1]))
        root = ApiCaller(second, root.token)  # type: ignore[arg-type]
        seen_ready = await eventually(lambda: _ready(second), timeout=30, what="the second ccplane ready")
        # ready means resynced: the call in talk is already followed again
        active = await root.ok("GET", f"/domains/{slug}/calls")
        assert [(c["id"], c["state"]) for c in active["items"]] == [(f"{talking}-1", "talking")], seen_ready
        await asyncio.sleep(1)
        await ami.action({"Action": "Hangup", "Channel": f"{talking}-1"})
        hung = time.monotonic()

        async def ended(call_id: str) -> dict[str, Any] | None:
            status, body = await root.call("GET", f"/domains/{slug}/calls/{call_id}")
            return body if status == 200 and body["ended_at"] else None
        journey = await eventually(lambda: ended(f"{talking}-1"), timeout=10, what="the talking journey ended")
        assert journey["ended_reason"] == "caller_hangup"
        assert abs(journey["talk_time"] - (hung - answered)) <= 1.0, journey
        assert [leg["kind"] for leg in journey["legs"]] == ["queue", "offer", "agent"]
        assert journey["legs"][2]["agent"] == agent.username  # type: ignore[attr-defined]
        gone = await eventually(lambda: ended(f"{lost}-1"), timeout=10, what="the call made while down recorded")
        assert gone["ended_reason"] == "abandon" and gone["queue"] == "kq" and gone["answered_at"] is None
        assert 0.5 <= gone["wait_time"] <= 4
    finally:
        for caller in callers:
            try:
                await ami.action({"Action": "Hangup", "Channel": caller})
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
