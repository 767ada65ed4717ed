"""Agent activity from the agent's state history on the real sandbox: logged-in
time, pause time by reason, wrap-up and talk, occupancy — each within a second of
what the test itself measured."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.support.telephony import Scene
from tests.support.waiting import eventually

PAUSE, TALK, WRAPUP = 1.5, 1.5, 2


async def test_agent_activity_from_state_history(scene: Scene) -> None:
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    await scene.extension("7951", phone="auto")
    await scene.queue("act", strategy="ringall", ring_timeout=5, wrapup_time=WRAPUP, extensions=["7951"])
    t_login = time.monotonic()
    agent = await scene.agent(["act"], "7951")
    me = f"/domains/{scene.domain}/agents/{agent.username}"  # type: ignore[attr-defined]

    async def state_is(state: str) -> bool:
        return bool((await scene.agent_state(agent))["state"] == state)
    await eventually(lambda: state_is("available"), timeout=10, what="agent available")
    t0 = time.monotonic()
    await agent.ok("POST", me + "/pause", {"reason": "almoco"})
    await asyncio.sleep(PAUSE)  # the pause the report must show
    await agent.ok("POST", me + "/unpause")
    paused = time.monotonic() - t0

    caller = await scene.call("act", caller_id="1133337777")
    await scene.recorder.wait_for("AgentConnect", Uniqueid=caller, timeout=10)
    t1 = time.monotonic()
    await asyncio.sleep(TALK)  # the conversation
    await scene.hangup(caller)
    await eventually(lambda: state_is("wrapup"), timeout=5, what="agent in wrap-up")
    talked = time.monotonic() - t1
    await eventually(lambda: state_is("available"), timeout=WRAPUP + 5, what="wrap-up over")
    await agent.ok("DELETE", me + "/session", status=204)
    logged = time.monotonic() - t_login

    period = (f"from={start.isoformat().replace('+', '%2B')}"
              f"&to={(start + timedelta(hours=1)).isoformat().replace('+', '%2B')}")

    async def row() -> dict[str, Any] | None:
        items = (await scene.root.ok("GET", f"/domains/{scene.domain}/reports/agent-activity?{period}"))["items"]
        mine = [r for r in items if r["agent"] == agent.username]  # type: ignore[attr-defined]
        # written once a second: the last span (closed by the logout) is there once the total stops growing
        return mine[0] if mine and mine[0]["calls"] == 1 and mine[0]["available_total"] and \
            mine[0]["logged_in_total"] >= logged - 1.5 else None
    r = await eventually(row, timeout=10, what="the agent's activity stored")
    assert abs(r["logged_in_total"] - logged) <= 1.5, (r, logged)
    assert set(r["pauses"]) == {"almoco"} and abs(r["pauses"]["almoco"] - paused) <= 1.0, (r, paused)
    assert abs(r["wrapup_total"] - WRAPUP) <= 1.0, r
    assert abs(r["in_call_total"] - talked) <= 1.0 and abs(r["talk_total"] - talked) <= 1.0, (r, talked)
    assert r["max_no_answer_pauses"] == 0
    handling = r["in_call_total"] + r["wrapup_total"]
    workable = r["logged_in_total"] - r["pause_total"]
    assert r["occupancy"] is not None and abs(r["occupancy"] - 100 * handling / workable) < 0.5, r
    # a later period holds none of it
    later = (f"from={(start + timedelta(hours=2)).isoformat().replace('+', '%2B')}"
             f"&to={(start + timedelta(hours=3)).isoformat().replace('+', '%2B')}")
    items = (await scene.root.ok("GET", f"/domains/{scene.domain}/reports/agent-activity?{later}"))["items"]
    assert all(i["agent"] != agent.username for i in items), items  # type: ignore[attr-defined]
