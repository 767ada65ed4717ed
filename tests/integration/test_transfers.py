"""Transfers through the API between two baresip agents on the real sandbox:
Asterisk's own BlindTransfer / AttendedTransfer reports, the journey's legs,
each agent's talk time and wrap-up, the caller given back when a blind
transfer's target does not answer."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType

from ccplane.asterisk.sandbox import SandboxState
from tests.integration.test_trunks import setup_trunk
from tests.support.api import ApiCaller
from tests.support.telephony import Recorder
from tests.support.telephony import Scene
from tests.support.waiting import eventually

TALK = 2.0  # seconds each agent talks before the next step (what the test measures)


def call_id_of(caller_uid: str) -> str:
    return caller_uid.rsplit("-", 1)[0] + "-1"


def epoch(value: str | None) -> float:
    assert value is not None
    return datetime.fromisoformat(value).timestamp()


async def two_agents(scene: Scene, *, wrapup: int = 30, transfer_fail: str = "queue",
                     second_phone: str = "auto", ring_timeout: int = 10) -> tuple[ApiCaller, ApiCaller]:
    """Agent 1 on 7301 in queue xa, agent 2 on 7302 in queue xb (both baresip)."""
    scene.services.ami.on_event(scene.recorder, names=("BlindTransfer", "AttendedTransfer", "DialEnd",
                                                       "MusicOnHoldStart"))
    await scene.extension("7301", phone="auto")
    await scene.extension("7302", phone=second_phone)
    await scene.queue("xa", ring_timeout=ring_timeout, wrapup_time=wrapup, extensions=["7301"], transfer_fail=transfer_fail,
                      dispositions=["sale", "no-sale"])
    await scene.queue("xb", ring_timeout=10, wrapup_time=wrapup, extensions=["7302"])
    first = await scene.agent(["xa"], "7301")
    second = await scene.agent(["xb"], "7302")
    return first, second


async def answered_by_first(scene: Scene) -> tuple[str, float]:
    caller = await scene.call("xa", caller_id="1133334444")
    await scene.recorder.wait_for("AgentConnect", Uniqueid=caller, timeout=15)
    return caller, time.monotonic()


async def journey(scene: Scene, call_id: str, *, ended: bool = True) -> dict[str, Any]:
    async def got() -> dict[str, Any] | None:
        status, body = await scene.root.call("GET", f"/domains/{scene.domain}/calls/{call_id}")
        return body if status == 200 and (body["ended_at"] or not ended) else None
    return await eventually(got, timeout=15, what=f"journey {call_id}")


async def state_of(scene: Scene, agent: ApiCaller) -> str:
    return str((await scene.agent_state(agent))["state"])


async def test_blind_transfer_between_two_agents(scene: Scene) -> None:
    first, second = await two_agents(scene)
    caller, answered = await answered_by_first(scene)
    call = call_id_of(caller)
    await asyncio.sleep(TALK)  # agent 1's conversation
    status, body = await first.call("POST", f"/domains/{scene.domain}/calls/{call}/transfer",
                                    {"mode": "blind", "to": "7302"})
    assert status == 202, body
    transferred = time.monotonic()
    [(_, bt)] = await scene.recorder.wait_for("BlindTransfer", timeout=10)
    assert bt.fields.get("Result") == "Success" and bt.fields.get("Extension") == "7302"
    # agent 1 is in wrap-up at once, agent 2 in call once their phone answers
    await wrapup_from(scene, first, transferred, 30)
    second_answered = await target_answered(scene, "7302")
    assert await eventually(lambda: _state_is(scene, second, "in_call"), timeout=10, what="agent 2 in call")
    await asyncio.sleep(TALK)  # agent 2's conversation
    await scene.hangup(caller)
    hung = time.monotonic()
    j = await journey(scene, call)
    agents = [leg for leg in j["legs"] if leg["kind"] == "agent"]
    assert [leg["agent"] for leg in agents] == [first.username, second.username]  # type: ignore[attr-defined]
    one, two = agents
    assert one["result"] == "transfer"
    talk_one = epoch(one["ended_at"]) - epoch(one["answered_at"])
    talk_two = epoch(two["ended_at"]) - epoch(two["answered_at"])
    assert abs(talk_one - (transferred - answered)) <= 1.0, (talk_one, transferred - answered)
    assert abs(talk_two - (hung - second_answered)) <= 1.0, (talk_two, hung - second_answered)
    assert [leg["kind"] for leg in j["legs"]].count("transfer") == 1
    assert len(j["protocols"]) == 2 and j["protocols"][0] < j["protocols"][1]
    await statistics_split_at_the_transfer(scene, j, {first.username: transferred - answered,  # type: ignore[attr-defined]
                                                      second.username: hung - second_answered})  # type: ignore[attr-defined]


async def test_blind_transfer_rings_the_target_whatever_its_agent_state(scene: Scene) -> None:
    """A blind transfer to an extension dials the phone itself: its agent being paused (for
    the queues) does not stop it ringing; the journey ends with the second agent's talk."""
    first, second = await two_agents(scene)
    await second.ok("POST", f"/domains/{scene.domain}/agents/{second.username}/pause",  # type: ignore[attr-defined]
                    {"reason": "Almoço"})
    assert await state_of(scene, second) == "paused"
    caller, _ = await answered_by_first(scene)
    call = call_id_of(caller)
    status, body = await first.call("POST", f"/domains/{scene.domain}/calls/{call}/transfer",
                                    {"mode": "blind", "to": "7302"})
    assert status == 202, body
    await target_answered(scene, "7302")
    await scene.hangup(caller)
    j = await journey(scene, call)
    agents = [leg for leg in j["legs"] if leg["kind"] == "agent"]
    assert [(leg["agent"], leg["result"]) for leg in agents][0] == (first.username, "transfer")  # type: ignore[attr-defined]
    assert agents[-1]["agent"] == second.username and agents[-1]["answered_at"]  # type: ignore[attr-defined]
    assert j["ended_reason"] == "caller_hangup"


async def statistics_split_at_the_transfer(scene: Scene, j: dict[str, Any], talks: dict[str, float]) -> None:
    """Each protocol's attendance and each agent's row of the agent-activity report
    count that agent's own talk (±1 s of what the test measured), not the whole call."""
    for protocol, (agent, talk) in zip(j["protocols"], talks.items()):
        async def attendance(protocol: str = protocol) -> dict[str, Any] | None:
            items = (await scene.root.ok("GET", f"/domains/{scene.domain}/attendances?protocol={protocol}"))["items"]
            return items[0] if items and items[0]["talk_time"] is not None else None
        row = await eventually(attendance, timeout=10, what=f"attendance {protocol} ended")
        assert row["agent"] == agent and abs(row["talk_time"] - talk) <= 1.0, (row, talk)
    start = epoch(j["started_at"]) - 60
    period = "from={}&to={}".format(*(datetime.fromtimestamp(t).astimezone().isoformat().replace("+", "%2B")
                                      for t in (start, start + 3600)))
    items = (await scene.root.ok("GET", f"/domains/{scene.domain}/reports/agent-activity?{period}"))["items"]
    by_agent = {r["agent"]: r for r in items}
    for agent, talk in talks.items():
        assert by_agent[agent]["calls"] == 1 and abs(by_agent[agent]["talk_total"] - talk) <= 1.0, \
            (agent, by_agent[agent], talk)
    whole = epoch(j["ended_at"]) - epoch(j["answered_at"])
    assert whole > max(talks.values()) + 1.0  # what queue_log would have charged the first agent


async def target_answered(scene: Scene, number: str, timeout: float = 15) -> float:
    """When the transfer target's phone answered (its DialEnd ANSWER)."""
    prefix = f"PJSIP/{scene.domain}-{number}-"

    async def answered() -> float | None:
        for t, e in scene.recorder.matching("DialEnd", DialStatus="ANSWER"):
            if str(e.fields.get("DestChannel", "")).startswith(prefix):
                return t
        return None
    return await eventually(answered, timeout=timeout, what=f"{number} answered")


async def next_event(ws: Any, kind: str, timeout: float = 15) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        while True:
            msg = await ws.receive(timeout=timeout)
            assert msg.type == WSMsgType.TEXT, msg
            event = msg.json()
            if event["type"] == kind:
                return dict(event["data"])
    return await asyncio.wait_for(read(), timeout)


async def wrapup_from(scene: Scene, agent: ApiCaller, since: float, wrapup: int) -> None:
    """The agent is in wrap-up, counted from ``since`` (the transfer), not from the call's end."""
    async def in_wrapup() -> dict[str, Any] | None:
        view = await scene.agent_state(agent)
        return view if view["state"] == "wrapup" and view["wrapup_left"] is not None else None
    view = await eventually(in_wrapup, timeout=5, what="agent in wrap-up")
    assert abs(view["wrapup_left"] - (wrapup - (time.monotonic() - since))) <= 1.0, view


def caller_channel(scene: Scene, caller_uid: str) -> str:
    """The caller's channel name (its QueueCallerJoin)."""
    [(_, joined)] = scene.recorder.matching("QueueCallerJoin", Uniqueid=caller_uid)[:1]
    return str(joined.fields["Channel"])


async def _state_is(scene: Scene, agent: ApiCaller, state: str) -> bool:
    return await state_of(scene, agent) == state


async def test_attended_transfer_between_two_agents(scene: Scene) -> None:
    first, second = await two_agents(scene)
    caller, answered = await answered_by_first(scene)
    call = call_id_of(caller)
    await asyncio.sleep(TALK)
    base = f"/domains/{scene.domain}/calls/{call}/transfer"
    status, body = await first.call("POST", base + "/complete")
    assert status == 409, body  # no attended transfer in progress yet
    status, body = await first.call("POST", base, {"mode": "attended", "to": "7302"})
    assert status == 202 and body["state"] == "consulting", body
    await target_answered(scene, "7302")  # agent 2 answers the consultation
    await scene.recorder.wait_for("MusicOnHoldStart", Channel=caller_channel(scene, caller), timeout=5)
    assert await eventually(lambda: _state_is(scene, second, "in_call"), timeout=10, what="agent 2 in call")
    status, body = await first.call("POST", base, {"mode": "blind", "to": "7302"})
    assert status == 409, body  # one transfer at a time
    await asyncio.sleep(1.0)  # the agents' consultation
    status, body = await first.call("POST", base + "/complete")
    assert status == 202, body
    [(completed, at)] = await scene.recorder.wait_for("AttendedTransfer", timeout=10)
    assert at.fields.get("Result") == "Success"
    await wrapup_from(scene, first, completed, 30)
    await asyncio.sleep(TALK)  # agent 2 with the caller
    await scene.hangup(caller)
    j = await journey(scene, call)
    agents = [leg for leg in j["legs"] if leg["kind"] == "agent"]
    assert [leg["agent"] for leg in agents] == [first.username, second.username]  # type: ignore[attr-defined]
    one, two = agents
    assert one["result"] == "transfer" and [leg["result"] for leg in j["legs"] if leg["kind"] == "transfer"] == [
        "attended"]
    talk_one = epoch(one["ended_at"]) - epoch(one["answered_at"])
    assert abs(talk_one - (completed - answered)) <= 1.0, (talk_one, completed - answered)
    assert len(j["protocols"]) == 2


async def test_attended_transfer_cancelled_gives_the_caller_back(scene: Scene) -> None:
    first, second = await two_agents(scene)
    caller, _ = await answered_by_first(scene)
    call = call_id_of(caller)
    base = f"/domains/{scene.domain}/calls/{call}/transfer"
    assert (await first.call("POST", base, {"mode": "attended", "to": "7302"}))[0] == 202
    await target_answered(scene, "7302")
    status, body = await first.call("POST", base + "/cancel")
    assert status == 202, body
    assert await eventually(lambda: _state_is(scene, second, "available"), timeout=10, what="agent 2 free again")
    assert await state_of(scene, first) == "in_call"  # agent 1 has the caller back
    status, body = await first.call("POST", base + "/cancel")
    assert status == 409, body
    await scene.hangup(caller)
    j = await journey(scene, call)
    agents = [leg for leg in j["legs"] if leg["kind"] == "agent"]
    assert [leg["agent"] for leg in agents] == [first.username, second.username]  # type: ignore[attr-defined]
    assert agents[1]["result"] == "consultation" and agents[0]["result"] in ("caller", "agent")
    assert not [leg for leg in j["legs"] if leg["kind"] == "transfer"]


async def test_blind_transfer_not_answered_returns_to_the_queue(scene: Scene, app_client: Any) -> None:
    first, second = await two_agents(scene, wrapup=0, second_phone="manual", ring_timeout=3)
    caller, _ = await answered_by_first(scene)
    call = call_id_of(caller)
    ws = await app_client.ws_connect(f"/api/v1/domains/{scene.domain}/live?access_token={first.token}")
    try:
        assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        status, body = await first.call("POST", f"/domains/{scene.domain}/calls/{call}/transfer",
                                        {"mode": "blind", "to": "7302"})
        assert status == 202 and body["state"] == "requested", body
        # 7302 rings 3 s unanswered; the caller is back in queue xa and agent 1 answers again
        told = [await next_event(ws, "call.transferred"), await next_event(ws, "call.transferred")]
    finally:
        await ws.close()
    assert [(t["id"], t["transfer"]["result"], t["transfer"]["returned_to"], t["transfer"]["to"]) for t in told] == [
        (call, "success", None, "7302"), (call, "no_answer", "queue", "7302")]
    [(_, failed)] = await scene.recorder.wait_for("UserEvent", UserEvent="CcplaneTransferFailed", timeout=10)
    assert failed.fields.get("Status") == "NOANSWER" and failed.fields.get("Back") == "queue"
    await scene.recorder.wait_for("AgentConnect", Uniqueid=caller, count=2, timeout=15)
    await scene.hangup(caller)
    j = await journey(scene, call)
    assert [leg["kind"] for leg in j["legs"]] == ["queue", "offer", "agent", "transfer", "agent", "queue", "offer",
                                                  "agent"], j["legs"]
    transfer = next(leg for leg in j["legs"] if leg["kind"] == "transfer")
    assert transfer["result"] == "returned_to_queue" and transfer["number"] == "7302"
    assert transfer["detail"].startswith("no_answer|")
    agents = [leg for leg in j["legs"] if leg["kind"] == "agent"]
    assert [leg["agent"] for leg in agents] == [first.username, second.username, first.username]  # type: ignore[attr-defined]
    assert agents[1]["answered_at"] is None and agents[1]["result"] == "no_answer"
    assert len(j["protocols"]) == 2  # agent 1 twice; agent 2 never answered


async def test_blind_transfer_to_an_unavailable_extension_returns_to_the_agent(scene: Scene) -> None:
    first, _ = await two_agents(scene, transfer_fail="agent")
    await scene.extension("7303")  # exists, no phone registered
    caller, _ = await answered_by_first(scene)
    call = call_id_of(caller)
    status, body = await first.call("POST", f"/domains/{scene.domain}/calls/{call}/transfer",
                                    {"mode": "blind", "to": "7303"})
    assert status == 202, body
    [(_, failed)] = await scene.recorder.wait_for("UserEvent", UserEvent="CcplaneTransferFailed", timeout=10)
    assert failed.fields.get("Status") == "CHANUNAVAIL" and failed.fields.get("Back") == "agent"
    await target_answered(scene, "7301")  # agent 1's phone takes the caller back
    assert await eventually(lambda: _state_is(scene, first, "in_call"), timeout=10, what="agent 1 has the caller")
    await scene.hangup(caller)
    j = await journey(scene, call)
    transfer = next(leg for leg in j["legs"] if leg["kind"] == "transfer")
    assert transfer["result"] == "returned_to_agent" and transfer["detail"].startswith("unavailable|")
    agents = [leg for leg in j["legs"] if leg["kind"] == "agent"]
    assert [leg["agent"] for leg in agents] == [first.username, first.username]  # type: ignore[attr-defined]
    assert all(leg["answered_at"] for leg in agents) and len(j["protocols"]) == 2


async def test_transfer_refusals(scene: Scene) -> None:
    first, second = await two_agents(scene)
    caller, _ = await answered_by_first(scene)
    call = call_id_of(caller)
    url = f"/domains/{scene.domain}/calls/{call}/transfer"
    status, body = await first.call("POST", url, {"mode": "blind", "to": "9999"})
    assert status == 404 and body["error"]["field"] == "to", body
    status, body = await first.call("POST", url, {"mode": "sideways", "to": "7302"})
    assert status == 422 and body["error"]["field"] == "mode", body
    status, body = await first.call("POST", url, {"mode": "blind", "to": "7301"})
    assert status == 422 and body["error"]["field"] == "to", body  # their own extension
    status, body = await second.call("POST", url, {"mode": "blind", "to": "7302"})
    assert status == 404, body  # another agent's call
    status, body = await first.call("POST", f"/domains/{scene.domain}/calls/nosuch-1/transfer",
                                    {"mode": "blind", "to": "7302"})
    assert status == 404, body
    status, body = await first.call("POST", url + "/cancel")
    assert status == 409, body
    assert scene.recorder.matching("BlindTransfer") == []  # nothing reached Asterisk
    # a transfer to a queue: the caller waits in xb and agent 2 answers there
    status, body = await first.call("POST", url, {"mode": "blind", "to": "xb"})
    assert status == 202, body
    await scene.recorder.wait_for("AgentConnect", Uniqueid=caller, count=2, timeout=15)
    await scene.hangup(caller)
    j = await journey(scene, call)
    agents = [leg for leg in j["legs"] if leg["kind"] == "agent"]
    assert [(leg["agent"], leg["queue"]) for leg in agents] == [(first.username, "xa"),  # type: ignore[attr-defined]
                                                                (second.username, "xb")]  # type: ignore[attr-defined]


async def test_blind_transfer_from_the_phone_is_followed(scene: Scene) -> None:
    first, second = await two_agents(scene)
    caller, answered = await answered_by_first(scene)
    call = call_id_of(caller)
    await asyncio.sleep(TALK)
    phone = scene.phones[0]  # agent 1's baresip: its transfer command sends a SIP REFER
    reply = await phone.command("transfer", "7302")
    assert reply.get("ok") is not False, reply
    [(transferred, bt)] = await scene.recorder.wait_for("BlindTransfer", timeout=10)
    assert bt.fields.get("Result") == "Success" and bt.fields.get("Extension") == "7302"
    await wrapup_from(scene, first, transferred, 30)
    second_answered = await target_answered(scene, "7302")
    assert await eventually(lambda: _state_is(scene, second, "in_call"), timeout=10, what="agent 2 in call")
    await asyncio.sleep(TALK)
    await scene.hangup(caller)
    hung = time.monotonic()
    j = await journey(scene, call)
    agents = [leg for leg in j["legs"] if leg["kind"] == "agent"]
    assert [leg["agent"] for leg in agents] == [first.username, second.username]  # type: ignore[attr-defined]
    one, two = agents
    assert one["result"] == "transfer"
    assert abs(epoch(one["ended_at"]) - epoch(one["answered_at"]) - (transferred - answered)) <= 1.0
    assert abs(epoch(two["ended_at"]) - epoch(two["answered_at"]) - (hung - second_answered)) <= 1.0
    assert len(j["protocols"]) == 2


async def test_attended_transfer_from_the_phone_is_followed(scene: Scene) -> None:
    first, second = await two_agents(scene)
    caller, answered = await answered_by_first(scene)
    call = call_id_of(caller)
    phone = scene.phones[0]  # agent 1's baresip: Asterisk's attended transfer key *2, then the number
    await phone.command("sndcode", "*27302#")
    await target_answered(scene, "7302")  # the consultation reaches agent 2
    assert await eventually(lambda: _state_is(scene, second, "in_call"), timeout=10, what="agent 2 consulted")
    await phone.command("hangup")  # agent 1 leaves the consultation: the transfer completes
    [(completed, at)] = await scene.recorder.wait_for("AttendedTransfer", timeout=10)
    assert at.fields.get("Result") == "Success"
    await wrapup_from(scene, first, completed, 30)
    await asyncio.sleep(TALK)
    await scene.hangup(caller)
    j = await journey(scene, call)
    agents = [leg for leg in j["legs"] if leg["kind"] == "agent"]
    assert [leg["agent"] for leg in agents] == [first.username, second.username]  # type: ignore[attr-defined]
    assert agents[0]["result"] == "transfer" and agents[1]["answered_at"] is not None
    assert abs(epoch(agents[0]["ended_at"]) - epoch(agents[0]["answered_at"]) - (completed - answered)) <= 1.0
    assert len(j["protocols"]) == 2


async def test_blind_transfer_with_the_phones_hash_key_is_followed(scene: Scene) -> None:
    """Asterisk's blind transfer key (# then the number, features.conf) from the agent's phone."""
    first, second = await two_agents(scene)
    caller, answered = await answered_by_first(scene)
    call = call_id_of(caller)
    await asyncio.sleep(1)
    await scene.phones[0].command("sndcode", "#7302#")
    [(transferred, bt)] = await scene.recorder.wait_for("BlindTransfer", timeout=15)
    assert bt.fields.get("Result") == "Success" and bt.fields.get("Extension") == "7302", bt.fields
    await wrapup_from(scene, first, transferred, 30)
    await target_answered(scene, "7302")
    assert await eventually(lambda: _state_is(scene, second, "in_call"), timeout=10, what="agent 2 in call")
    await scene.hangup(caller)
    j = await journey(scene, call)
    agents = [leg for leg in j["legs"] if leg["kind"] == "agent"]
    assert [leg["agent"] for leg in agents] == [first.username, second.username]  # type: ignore[attr-defined]
    assert agents[0]["result"] == "transfer" and agents[1]["answered_at"] is not None
    assert abs(epoch(agents[0]["ended_at"]) - epoch(agents[0]["answered_at"]) - (transferred - answered)) <= 1.0
    assert len(j["protocols"]) == 2


async def test_blind_transfer_to_an_external_number_through_the_outbound_route(
        scene: Scene, carrier: SandboxState, carrier_events: Recorder) -> None:  # noqa: F811 - fixtures
    first, _ = await two_agents(scene)
    await setup_trunk(scene, carrier)
    caller, _ = await answered_by_first(scene)
    call = call_id_of(caller)
    url = f"/domains/{scene.domain}/calls/{call}/transfer"
    status, body = await first.call("POST", url, {"mode": "blind", "to": "123"})
    assert status == 404 and body["error"]["field"] == "to", body  # no route takes it
    number = "11987654321"
    status, body = await first.call("POST", url, {"mode": "blind", "to": number})
    assert status == 202, body
    await carrier_events.wait_for("UserEvent", UserEvent="CarrierCall", Number=number, timeout=10)
    await wrapup_from(scene, first, time.monotonic(), 30)
    await scene.hangup(caller)
    j = await journey(scene, call)
    assert [leg["kind"] for leg in j["legs"]][-2:] in (["transfer", "external"], ["external", "transfer"]), j["legs"]
    external = next(leg for leg in j["legs"] if leg["kind"] == "external")
    assert external["number"] == number and external["answered_at"] is not None
    assert next(leg for leg in j["legs"] if leg["kind"] == "agent")["result"] == "transfer"


async def test_attended_transfer_declined_by_the_target(scene: Scene) -> None:
    first, second = await two_agents(scene, second_phone="manual")
    caller, _ = await answered_by_first(scene)
    call = call_id_of(caller)
    base = f"/domains/{scene.domain}/calls/{call}/transfer"
    assert (await first.call("POST", base, {"mode": "attended", "to": "7302"}))[0] == 202
    status, body = await first.call("POST", base + "/complete")
    assert status == 409 and "not answered" in body["error"]["message"], body  # still ringing
    target = scene.phones[1]

    async def ringing() -> bool:
        return "Incoming call" in target.output() or "incoming call" in target.output().lower()
    await eventually(ringing, timeout=10, what="7302 rings", details=lambda: target.output()[-800:])
    await target.command("hangup")  # agent 2 declines the consultation

    async def over() -> bool:  # the agent has the caller back and may transfer again
        status, _ = await first.call("POST", base + "/cancel")
        return status == 409
    await eventually(over, timeout=10, what="the attended transfer is over")
    assert await state_of(scene, first) == "in_call"
    live = await scene.root.ok("GET", f"/domains/{scene.domain}/calls/{call}")
    target_leg = [leg for leg in live["legs"] if leg["kind"] == "agent"][-1]
    assert target_leg["agent"] == second.username and target_leg["answered_at"] is None  # type: ignore[attr-defined]
    assert target_leg["result"] in ("busy", "rejected", "unavailable", "no_answer"), target_leg
    status, body = await first.call("POST", base, {"mode": "blind", "to": "xb"})
    assert status == 202, body


async def test_attended_transfer_to_a_queue(scene: Scene) -> None:
    first, second = await two_agents(scene)
    caller, answered = await answered_by_first(scene)
    call = call_id_of(caller)
    base = f"/domains/{scene.domain}/calls/{call}/transfer"
    assert (await first.call("POST", base, {"mode": "attended", "to": "xb"}))[0] == 202
    await target_answered(scene, "7302")  # queue xb's agent answers the consultation
    assert await eventually(lambda: _state_is(scene, second, "in_call"), timeout=10, what="agent 2 consulted")

    async def completed() -> bool:
        status, _ = await first.call("POST", base + "/complete")
        return status == 202
    await eventually(completed, timeout=5, what="complete accepted")
    [(done, at)] = await scene.recorder.wait_for("AttendedTransfer", timeout=10)
    assert at.fields.get("Result") == "Success"
    await wrapup_from(scene, first, done, 30)
    await asyncio.sleep(1)
    assert await state_of(scene, second) == "in_call"
    await scene.hangup(caller)
    j = await journey(scene, call)
    agents = [leg for leg in j["legs"] if leg["kind"] == "agent"]
    assert [(leg["agent"], leg["queue"]) for leg in agents] == [(first.username, "xa"),  # type: ignore[attr-defined]
                                                                (second.username, "xb")]  # type: ignore[attr-defined]
    assert agents[0]["result"] == "transfer" and agents[1]["answered_at"] is not None
    assert len(j["protocols"]) == 2 and j["ended_reason"] == "caller_hangup", j


async def test_attended_transfer_to_a_queue_cancelled(scene: Scene) -> None:
    first, second = await two_agents(scene)
    caller, _ = await answered_by_first(scene)
    call = call_id_of(caller)
    base = f"/domains/{scene.domain}/calls/{call}/transfer"
    assert (await first.call("POST", base, {"mode": "attended", "to": "xb"}))[0] == 202
    await target_answered(scene, "7302")
    assert await eventually(lambda: _state_is(scene, second, "in_call"), timeout=10, what="agent 2 consulted")
    assert (await first.call("POST", base + "/cancel"))[0] == 202
    assert await eventually(lambda: _state_is(scene, second, "available"), timeout=10, what="agent 2 free again")
    assert await state_of(scene, first) == "in_call"
    assert (await first.call("POST", base + "/cancel"))[0] == 409  # over: another transfer may start
    await scene.hangup(caller)
    j = await journey(scene, call)
    agents = [leg for leg in j["legs"] if leg["kind"] == "agent"]
    assert [(leg["agent"], leg["result"]) for leg in agents] == [
        (first.username, "caller"), (second.username, "consultation")], j["legs"]  # type: ignore[attr-defined]
    assert j["queue"] == "xb" or j["queue"] == "xa"
    assert j["ended_reason"] == "caller_hangup", j
