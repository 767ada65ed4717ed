"""Issue 3 acceptance: queue behaviour on the real sandbox with real SIP agents
(baresip) and callers originated into the queues."""
from __future__ import annotations

import asyncio
import time

from tests.support.api import assert_error
from tests.support.telephony import Scene, offers_to
from tests.support.waiting import eventually


async def test_linear_offers_each_agent_in_order(scene: Scene) -> None:
    for n in ("3101", "3102", "3103"):
        await scene.extension(n, phone="manual")  # ring, never answer
    await scene.queue("line", strategy="linear", ring_timeout=2, retry=1,
                      extensions=["3101", "3102", "3103"])
    for n in ("3101", "3102", "3103"):
        await scene.agent(["line"], n)
    await scene.call("line")
    q = scene.qname("line")
    await scene.recorder.wait_for("AgentCalled", count=4, timeout=20, Queue=q)
    offers = offers_to(scene.recorder, q)
    assert offers[:4] == [scene.interface(n) for n in ("3101", "3102", "3103", "3101")]


async def test_single_unanswering_agent_is_reoffered_until_max_wait_then_overflow(scene: Scene) -> None:
    await scene.extension("3201", phone="manual")
    await scene.extension("3299")  # the overflow destination
    await scene.queue("solo", strategy="linear", ring_timeout=2, retry=1, max_wait=9,
                      extensions=["3201"], overflow={"type": "extension", "target": "3299"})
    await scene.agent(["solo"], "3201")
    started = time.monotonic()
    caller = await scene.call("solo")
    q = scene.qname("solo")
    exten = await scene.recorder.wait_for("Newexten", timeout=20, Uniqueid=caller,
                                          Context=f"ccplane-d-{scene.domain}", Extension="3299")
    waited = exten[0][0] - started
    offers = offers_to(scene.recorder, q)
    assert len(offers) >= 3 and set(offers) == {scene.interface("3201")}
    assert 8 <= waited <= 13, waited
    abandon = scene.recorder.matching("QueueCallerAbandon", Uniqueid=caller)
    assert abandon, "the caller left the queue by timeout"


async def test_max_no_answer_pauses_after_consecutive_misses(scene: Scene) -> None:
    await scene.extension("3301", phone="manual")
    await scene.queue("mna", strategy="ringall", ring_timeout=2, retry=1, max_no_answer=2, extensions=["3301"])
    agent = await scene.agent(["mna"], "3301")
    await scene.call("mna")
    q = scene.qname("mna")
    await scene.recorder.wait_for("AgentRingNoAnswer", count=2, timeout=15, Queue=q)

    async def paused() -> dict | None:
        state = await scene.agent_state(agent)
        return state if state["state"] == "paused" else None
    state = await eventually(paused, timeout=3, what="max-no-answer pause")
    assert state["pause_reason"] == "max-no-answer" and state["missed_in_a_row"] == 2
    member = await scene.member_status("mna", "3301")
    assert member and member["Paused"] == "1" and member["PausedReason"] == "max-no-answer"
    await asyncio.sleep(3)  # paused: no more offers
    assert len(scene.recorder.matching("AgentCalled", Queue=q)) == 2
    await agent.ok("POST", f"/domains/{scene.domain}/agents/{agent.username}/unpause")  # type: ignore[attr-defined]
    state = await scene.agent_state(agent)
    assert state["missed_in_a_row"] == 0 and state["state"] in ("available", "ringing")


async def test_answered_call_resets_the_no_answer_count(scene: Scene) -> None:
    phone = await scene.extension("3401", phone="manual")
    assert phone
    await scene.queue("reset", strategy="ringall", ring_timeout=2, retry=1, max_no_answer=2,
                      extensions=["3401"])
    agent = await scene.agent(["reset"], "3401")
    q = scene.qname("reset")
    caller = await scene.call("reset")
    await scene.recorder.wait_for("AgentRingNoAnswer", count=1, timeout=10, Queue=q)
    await scene.recorder.wait_for("AgentCalled", count=2, timeout=10, Queue=q)
    await asyncio.sleep(0.3)
    await phone.command("accept")
    await scene.recorder.wait_for("AgentConnect", timeout=5, Queue=q)
    assert (await scene.agent_state(agent))["missed_in_a_row"] == 0
    await scene.hangup(caller)
    await scene.recorder.wait_for("AgentComplete", timeout=5, Queue=q)
    await scene.call("reset")
    await scene.recorder.wait_for("AgentRingNoAnswer", count=2, timeout=10, Queue=q)
    await asyncio.sleep(0.5)
    state = await scene.agent_state(agent)
    assert state["missed_in_a_row"] == 1 and state["state"] != "paused"


async def test_wrapup_holds_the_next_offer(scene: Scene) -> None:
    await scene.extension("3501", phone="auto")
    await scene.queue("wrap", strategy="ringall", ring_timeout=3, retry=1, wrapup_time=5, extensions=["3501"])
    agent = await scene.agent(["wrap"], "3501")
    q = scene.qname("wrap")
    first = await scene.call("wrap", caller_id="1100000001")
    await scene.recorder.wait_for("AgentConnect", Queue=q)
    await scene.call("wrap", caller_id="1100000002")
    await asyncio.sleep(1)
    await scene.hangup(first)
    completed = await scene.recorder.wait_for("AgentComplete", Queue=q)
    ended_at = completed[0][0]
    state = await scene.agent_state(agent)
    assert state["state"] == "wrapup" and 3.5 <= state["wrapup_left"] <= 5
    connects = await scene.recorder.wait_for("AgentCalled", count=2, timeout=12, Queue=q)
    second_offer_at = connects[1][0]
    assert second_offer_at - ended_at >= 5, second_offer_at - ended_at


async def test_agent_wrapup_time_overrides_the_queues(scene: Scene) -> None:
    await scene.extension("3551", phone="auto")
    await scene.queue("wrap2", strategy="ringall", ring_timeout=3, wrapup_time=1, extensions=["3551"])
    agent = await scene.root.new_user(scene.domain, "agent")
    username = agent.username  # type: ignore[attr-defined]
    await agent.ok("POST", f"/domains/{scene.domain}/agents/{username}/session",
                   {"queues": ["wrap2"], "extension": "3551"}, 201)
    # changed while logged in: applies from the next call on
    changed = await scene.root.ok("PATCH", f"/domains/{scene.domain}/users/{username}", {"wrapup_time": 4})
    assert changed["wrapup_time"] == 4
    q = scene.qname("wrap2")
    caller = await scene.call("wrap2")
    await scene.recorder.wait_for("AgentConnect", Queue=q)
    await scene.hangup(caller)
    await scene.recorder.wait_for("AgentComplete", Queue=q)
    await asyncio.sleep(1.5)  # past the queue's 1 s, inside the agent's 4 s
    state = await scene.agent_state(agent)
    assert state["state"] == "wrapup" and 1.5 <= state["wrapup_left"] <= 2.6, state
    status, body = await scene.root.call("PATCH", f"/domains/{scene.domain}/users/{username}", {"wrapup_time": -1})
    assert_error(status, body, 422, "wrapup_time")


async def test_rejected_offer_keeps_agent_out_for_reject_delay(scene: Scene) -> None:
    phone = await scene.extension("3601", phone="manual")
    assert phone
    await scene.queue("rej", strategy="ringall", ring_timeout=3, retry=1, reject_delay=4, extensions=["3601"])
    agent = await scene.agent(["rej"], "3601")
    q = scene.qname("rej")
    await scene.call("rej")
    await scene.recorder.wait_for("AgentCalled", timeout=5, Queue=q)
    await asyncio.sleep(0.3)
    await phone.command("hangup")  # the agent rejects
    await asyncio.sleep(0.5)
    state = await scene.agent_state(agent)
    assert state["state"] == "paused" and state["pause_reason"] in ("rejected", "busy"), state
    rejected_at = time.monotonic()
    offers = await scene.recorder.wait_for("AgentCalled", count=2, timeout=10, Queue=q)
    assert offers[1][0] - rejected_at >= 3.3, "offered again before the reject delay"
    assert (await scene.agent_state(agent))["state"] in ("ringing", "available")


async def test_manual_pause_during_reject_delay_survives_it(scene: Scene) -> None:
    phone = await scene.extension("3701", phone="manual")
    assert phone
    await scene.queue("rej2", strategy="ringall", ring_timeout=3, retry=1, reject_delay=3, extensions=["3701"])
    agent = await scene.agent(["rej2"], "3701")
    q = scene.qname("rej2")
    await scene.call("rej2")
    await scene.recorder.wait_for("AgentCalled", timeout=5, Queue=q)
    await asyncio.sleep(0.3)
    await phone.command("hangup")
    await asyncio.sleep(0.5)
    await agent.ok("POST", f"/domains/{scene.domain}/agents/{agent.username}/pause",  # type: ignore[attr-defined]
                   {"reason": "coffee"})
    await asyncio.sleep(4)  # the delay is over
    state = await scene.agent_state(agent)
    assert state["state"] == "paused" and state["pause_reason"] == "coffee"
    member = await scene.member_status("rej2", "3701")
    assert member and member["Paused"] == "1"
    assert len(scene.recorder.matching("AgentCalled", Queue=q)) == 1


async def test_call_timeout_disconnects_and_records_why(scene: Scene) -> None:
    await scene.extension("3801", phone="auto")
    await scene.queue("limit", strategy="ringall", ring_timeout=3, retry=1, call_timeout=4, extensions=["3801"])
    await scene.agent(["limit"], "3801")
    q = scene.qname("limit")
    caller = await scene.call("limit")
    connected = await scene.recorder.wait_for("AgentConnect", Queue=q)
    hung = await scene.recorder.wait_for("Hangup", timeout=10, Uniqueid=caller)
    talk = hung[0][0] - connected[0][0]
    assert 3 <= talk <= 5, talk
    await scene.recorder.wait_for("AgentComplete", Queue=q)

    async def recorded() -> list | None:
        page = await scene.root.ok("GET", f"/domains/{scene.domain}/queue-calls")
        return page["items"] if page["total"] else None
    calls = await eventually(recorded, timeout=10, what="the call record")  # journeys are written once a second
    assert calls[0]["end_reason"] == "call_timeout" and 3 <= calls[0]["talk_seconds"] <= 5


async def test_call_timeout_backstop_is_armed_on_the_agent_channel(scene: Scene) -> None:
    """Asterisk itself ends a call that outlives the call timeout by 2 s, so the
    limit holds while ccplane is down: the connected subroutine arms
    TIMEOUT(absolute) on the agent's channel."""
    await scene.extension("3802", phone="auto")
    await scene.queue("limit2", strategy="ringall", ring_timeout=3, retry=1, call_timeout=30, extensions=["3802"])
    await scene.agent(["limit2"], "3802")
    q = scene.qname("limit2")
    caller = await scene.call("limit2")
    connected = await scene.recorder.wait_for("AgentConnect", Queue=q)
    agent_channel = connected[0][1].fields["DestChannel"]
    reply = await scene.services.ami.action({"Action": "Getvar", "Channel": agent_channel,
                                             "Variable": "TIMEOUT(absolute)"})
    assert 25 <= float(reply.get("Value") or 0) <= 32, dict(reply)
    await scene.hangup(caller)
