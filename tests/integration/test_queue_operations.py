"""Queue operations around the calls: config changes with callers waiting,
registration loss, queue_log lines, Asterisk restarts, bad input."""
from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from ccplane.asterisk.sandbox import Sandbox, SandboxState
from ccplane.settings import Settings
from tests.support.api import assert_error
from tests.support.telephony import Scene
from tests.support.waiting import eventually


async def test_changing_a_queue_reloads_only_queues_and_keeps_waiting_callers(scene: Scene) -> None:
    await scene.extension("6001")
    await scene.queue("chg", strategy="ringall", ring_timeout=3, extensions=["6001"])
    caller = await scene.call("chg")  # nobody logged in: the caller waits (join_empty)
    reloads: list[dict[str, str]] = []
    real = scene.services.renderer.reloader

    async def counting(action: dict[str, str]) -> Any:
        reloads.append(action)
        return await real(action)
    scene.services.renderer.reloader = counting
    try:
        out = await scene.root.ok("PATCH", f"/domains/{scene.domain}/queues/chg",
                                  {"ring_timeout": 7, "strategy": "linear", "wrapup_time": 3})
    finally:
        scene.services.renderer.reloader = real
    assert out["ring_timeout"] == 7 and out["strategy"] == "linear"
    assert [a["Action"] for a in reloads] == ["QueueReload"]
    show = await scene.services.ami.command(f"queue show {scene.qname('chg')}")
    assert "linear" in show and "1 call" in show
    entries = await scene.services.ami.action({"Action": "QueueStatus", "Queue": scene.qname("chg")})
    assert any(e.get("Event") == "QueueEntry" and e.get("Uniqueid") == caller for e in entries)


async def test_agent_whose_phone_goes_away_is_inactive(scene: Scene) -> None:
    phone = await scene.extension("6101", phone="auto")
    assert phone
    await scene.queue("reg", extensions=["6101"])
    agent = await scene.agent(["reg"], "6101")
    assert (await scene.agent_state(agent))["state"] == "available"
    await phone.stop_async()  # baresip unregisters on the way out

    async def inactive() -> bool:
        return (await scene.agent_state(agent))["state"] == "inactive"
    await eventually(inactive, timeout=10, what="state inactive")


async def test_our_queue_log_lines_land_in_asterisks_queue_log(scene: Scene, sandbox: SandboxState) -> None:
    await scene.extension("6201", phone="auto")
    await scene.queue("qlog", strategy="ringall", ring_timeout=3, wrapup_time=1, extensions=["6201"])
    agent = await scene.agent(["qlog"], "6201")
    caller = await scene.call("qlog")
    await scene.recorder.wait_for("AgentConnect", Queue=scene.qname("qlog"))
    await scene.hangup(caller)
    await scene.recorder.wait_for("AgentComplete", Queue=scene.qname("qlog"))
    queue_log = Path(sandbox.config_dir).parent / "log" / "queue_log"

    async def lines() -> list[str]:
        return [line for line in queue_log.read_text().splitlines() if f"|{scene.qname('qlog')}|" in line]

    async def wrapup_logged() -> list[str] | None:
        found = await lines()
        return found if any("|WRAPUPEND|" in line for line in found) else None
    found = await eventually(wrapup_logged, timeout=5, what="WRAPUPEND in queue_log")
    events = [line.split("|")[4] for line in found]
    # Asterisk's own lines and ours, in order, in the standard pipe format
    assert "ADDMEMBER" in events and "CONNECT" in events and "COMPLETECALLER" in events
    assert events.index("WRAPUPSTART") > events.index("CONNECT")
    assert events.index("WRAPUPEND") > events.index("WRAPUPSTART")
    start = next(line for line in found if "|WRAPUPSTART|" in line)
    assert start.split("|")[1] == caller and start.split("|")[3] == agent.username  # type: ignore[attr-defined]


async def test_logins_and_pauses_are_reapplied_after_asterisk_restarts(scene: Scene, settings: Settings) -> None:
    await scene.extension("6301", phone="auto")
    await scene.queue("rst", extensions=["6301"])
    agent = await scene.agent(["rst"], "6301")
    await agent.ok("POST", f"/domains/{scene.domain}/agents/{agent.username}/pause",  # type: ignore[attr-defined]
                   {"reason": "training"})
    sandbox = Sandbox(settings.sandbox, progress=print)
    await asyncio.to_thread(sandbox.down)
    await asyncio.to_thread(sandbox.up)
    await scene.services.ami.wait_connected(15)

    async def member_back() -> dict | None:
        try:
            return await scene.member_status("rst", "6301")
        except Exception:  # noqa: BLE001 - AMI still resyncing
            return None
    member = await eventually(member_back, timeout=10, what="member re-added after restart")
    assert member["Paused"] == "1" and member["PausedReason"] == "training"
    assert member["Name"] == agent.username  # type: ignore[attr-defined]  # queue_log's agent field


def _state_in_queue_show(output: str, interface: str) -> str:
    """'ringing', 'in_call' or 'idle' from the member's line of `queue show`."""
    line = next(line for line in output.splitlines() if f"({interface} " in line or f"({interface})" in line)
    if "(Ringing)" in line or "(Ring+Inuse)" in line:
        return "ringing"
    return "in_call" if "(in call)" in line or "(In use)" in line else "idle"


async def test_a_ringing_agent_is_rebuilt_from_asterisk_after_it_restarts(scene: Scene, settings: Settings) -> None:
    """A restarted Asterisk has no members and no calls: the agent that was ringing
    when it went down must not stay 'ringing' (it did, until logout)."""
    await scene.extension("6501", phone="manual")  # rings, never answers
    await scene.queue("rring", ring_timeout=60, extensions=["6501"])
    agent = await scene.agent(["rring"], "6501")
    await scene.call("rring")
    await scene.recorder.wait_for("AgentCalled", Queue=scene.qname("rring"), timeout=10)

    async def ringing() -> bool:
        return bool((await scene.agent_state(agent))["state"] == "ringing")
    await eventually(ringing, timeout=5, what="the agent ringing")
    # a crash, not a clean stop: a stopping Asterisk hangs its channels up and reports it,
    # a killed one reports nothing
    sandbox = Sandbox(settings.sandbox, progress=print)
    state = sandbox.load_state()
    assert state is not None and state.pid
    os.kill(state.pid, signal.SIGKILL)
    await eventually(lambda: asyncio.sleep(0, not scene.services.ami.connected), timeout=10,
                     what="AMI sees Asterisk gone")
    await asyncio.to_thread(sandbox.up)
    await scene.services.ami.wait_connected(15)
    back = asyncio.get_running_loop().time()

    async def matches() -> tuple[str, str] | None:
        try:
            shown = await scene.services.ami.command(f"queue show {scene.qname('rring')}")
            asterisk = _state_in_queue_show(shown, scene.interface("6501"))
        except Exception:  # noqa: BLE001 - AMI resyncing, member not re-added yet
            return None
        api = (await scene.agent_state(agent))["state"]
        ours = api if api in ("ringing", "in_call") else "idle"
        return (api, asterisk) if ours == asterisk else None
    api, asterisk = await eventually(matches, timeout=10, what="API state matching `queue show`")
    assert api != "ringing" and asterisk == "idle"
    assert asyncio.get_running_loop().time() - back < 10


async def test_queue_and_agent_endpoints_refuse_bad_input(scene: Scene) -> None:
    await scene.extension("6401")
    base = f"/domains/{scene.domain}/queues"
    for body, field in (
        ({"name": "Bad Name"}, "name"),
        ({"name": "ok", "strategy": "roundrobin"}, "strategy"),
        ({"name": "ok", "ring_timeout": 0}, "ring_timeout"),
        ({"name": "ok", "retry": 0}, "retry"),
        ({"name": "ok", "max_no_answer": -1}, "max_no_answer"),
        ({"name": "ok", "wrapup_time": "5"}, "wrapup_time"),
        ({"name": "ok", "extensions": ["9999"]}, "extensions"),
        ({"name": "ok", "extensions": ["6401", "6401"]}, "extensions"),
        ({"name": "ok", "overflow": {"type": "queue", "target": "missing"}}, "overflow.target"),
        ({"name": "ok", "overflow": {"type": "queue"}}, "overflow"),
        ({"name": "ok", "overflow": {"type": "ivr", "target": "x"}}, "overflow.type"),
        ({"name": "ok", "bogus": 1}, "bogus"),
    ):
        status, resp = await scene.root.call("POST", base, body)
        assert_error(status, resp, 422, field)
    assert (await scene.root.ok("GET", base))["total"] == 0
    await scene.queue("ok", extensions=["6401"])
    status, resp = await scene.root.call("POST", base, {"name": "ok"})
    assert_error(status, resp, 409, "name")
    status, resp = await scene.root.call("PATCH", base + "/ok", {"overflow": {"type": "queue", "target": "ok"}})
    assert_error(status, resp, 422, "overflow.target")
    agent = await scene.root.new_user(scene.domain, "agent")
    path = f"/domains/{scene.domain}/agents/{agent.username}"  # type: ignore[attr-defined]
    for body, field in (({"queues": [], "extension": "6401"}, "queues"),
                        ({"queues": ["ok"], "extension": 6401}, "extension"),
                        ({"queues": ["ok"]}, "extension")):
        status, resp = await agent.call("POST", path + "/session", body)
        assert_error(status, resp, 422, field)
    status, resp = await agent.call("POST", path + "/pause", {"reason": "x|y"})
    assert_error(status, resp, 422, "reason")
    status, resp = await agent.call("POST", path + "/pause", {"reason": "lunch"})
    assert_error(status, resp, 409, "username")  # not logged in
    status, resp = await agent.call("GET", path + "/available-extensions")
    assert_error(status, resp, 422, "queues")
