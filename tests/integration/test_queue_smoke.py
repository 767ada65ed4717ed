from __future__ import annotations

from tests.support.telephony import Scene


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
    calls = await scene.root.ok("GET", f"/domains/{scene.domain}/queue-calls")
    assert calls and calls[0]["end_reason"] == "caller" and calls[0]["agent"] == agent.username
