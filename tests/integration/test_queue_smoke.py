from __future__ import annotations

from typing import Any

from tests.support.telephony import Scene
from tests.support.waiting import eventually


async def test_answered_queue_call(scene: Scene) -> None:
    await scene.extension("3001", phone="auto")
    await scene.queue("sales", strategy="ringall", ring_timeout=3, retry=1, extensions=["3001"])
    agent = await scene.agent(["sales"], "3001")
    assert (await scene.agent_state(agent))["state"] == "available"
    caller = await scene.call("sales")
    await scene.recorder.wait_for("AgentConnect", Queue=scene.qname("sales"))
    assert (await scene.agent_state(agent))["state"] == "in_call"
    await scene.hangup(caller)
    await scene.recorder.wait_for("AgentComplete", Queue=scene.qname("sales"))

    async def recorded() -> list[dict[str, Any]] | None:
        # the record is written by ccplane's action worker after the event: poll
        page = await scene.root.ok("GET", f"/domains/{scene.domain}/queue-calls")
        return page["items"] if page["total"] else None
    calls = await eventually(recorded, timeout=10, what="the call record")  # journeys are written once a second
    assert calls[0]["end_reason"] == "caller" and calls[0]["agent"] == agent.username
