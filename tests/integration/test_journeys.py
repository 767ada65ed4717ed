"""Call journeys on the real sandbox: each scripted call yields exactly one
journey with the legs, times and end reason the test expects."""
from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import WSMsgType

from tests.support.ivr import Caller
from tests.support.telephony import Scene
from tests.support.waiting import eventually

TALK = 2.0  # seconds of conversation the tests hold


def call_id_of(caller_uid: str) -> str:
    """Scene/Caller originate ``<token>-1`` first: the call's linkedid."""
    return caller_uid.rsplit("-", 1)[0] + "-1"


async def ended_journey(scene: Scene, call_id: str, timeout: float = 10) -> dict[str, Any]:
    async def ended() -> dict[str, Any] | None:
        status, body = await scene.root.call("GET", f"/domains/{scene.domain}/calls/{call_id}")
        return body if status == 200 and body["ended_at"] else None
    return await eventually(ended, timeout=timeout, what=f"journey {call_id} ended and stored")


async def stored_only_once(scene: Scene, call_id: str) -> None:
    page = await scene.root.ok("GET", f"/domains/{scene.domain}/calls?status=ended&limit=500")
    assert [c["id"] for c in page["items"]].count(call_id) == 1


def kinds(journey: dict[str, Any]) -> list[str]:
    return [leg["kind"] for leg in journey["legs"]]


def did_for(scene: Scene, prefix: str) -> str:
    return prefix + str(int(scene.domain[1:], 16) % 10**7).zfill(7)


async def test_answered_queue_call(scene: Scene) -> None:
    await scene.extension("7101", phone="auto")
    await scene.queue("jans", strategy="ringall", ring_timeout=5, extensions=["7101"])
    agent = await scene.agent(["jans"], "7101")
    caller = await scene.call("jans", caller_id="1133331111")
    await scene.recorder.wait_for("AgentConnect", Uniqueid=caller, timeout=10)
    answered = time.monotonic()
    active = await scene.root.ok("GET", f"/domains/{scene.domain}/calls")
    assert [(c["id"], c["state"], c["queue"], c["agent"]) for c in active["items"]] == [
        (call_id_of(caller), "talking", "jans", agent.username)]  # type: ignore[attr-defined]
    await asyncio.sleep(TALK)  # the conversation being measured
    await scene.hangup(caller)
    hung = time.monotonic()
    journey = await ended_journey(scene, call_id_of(caller))
    assert journey["ended_reason"] == "caller_hangup"
    assert journey["caller"] == "1133331111" and journey["queue"] == "jans"
    assert journey["agent"] == agent.username  # type: ignore[attr-defined]
    assert kinds(journey) == ["queue", "offer", "agent"]
    queue_leg, offer, agent_leg = journey["legs"]
    assert queue_leg["result"] == "answered" and offer["result"] == "answered"
    assert agent_leg["agent"] == agent.username and agent_leg["result"] == "caller"  # type: ignore[attr-defined]
    assert abs(journey["talk_time"] - (hung - answered)) <= 1.0
    await stored_only_once(scene, call_id_of(caller))


async def test_abandoned_in_queue(scene: Scene) -> None:
    await scene.extension("7201", phone="manual")  # rings, never answers
    await scene.queue("jab", strategy="ringall", ring_timeout=10, extensions=["7201"])
    await scene.agent(["jab"], "7201")
    joined = time.monotonic()
    caller = await scene.call("jab")
    await scene.recorder.wait_for("AgentCalled", Uniqueid=caller, timeout=10)
    await asyncio.sleep(1)
    await scene.hangup(caller)
    left = time.monotonic()
    journey = await ended_journey(scene, call_id_of(caller))
    assert journey["ended_reason"] == "abandon" and journey["answered_at"] is None
    assert kinds(journey)[:2] == ["queue", "offer"] and "agent" not in kinds(journey)
    assert journey["legs"][0]["result"] == "abandon" and journey["legs"][1]["result"] == "lost"
    assert abs(journey["wait_time"] - (left - joined)) <= 1.0


async def test_timed_out_to_overflow(scene: Scene) -> None:
    await scene.extension("7301", phone="manual")
    await scene.extension("7399")  # the overflow destination (no phone)
    await scene.queue("jto", strategy="linear", ring_timeout=2, retry=1, max_wait=4, extensions=["7301"],
                      overflow={"type": "extension", "target": "7399"})
    await scene.agent(["jto"], "7301")
    caller = await scene.call("jto")
    journey = await ended_journey(scene, call_id_of(caller), timeout=40)
    assert journey["ended_reason"] == "overflow"
    queue_leg = journey["legs"][0]
    assert queue_leg["kind"] == "queue" and queue_leg["result"] == "timeout"
    assert queue_leg["detail"] == "extension:7399"
    assert 3 <= journey["wait_time"] <= 7
    offers = [leg for leg in journey["legs"] if leg["kind"] == "offer"]
    assert offers and {leg["result"] for leg in offers} <= {"no_answer", "lost"}


async def test_blacklisted_caller(scene: Scene) -> None:
    await scene.queue("jbl", strategy="ringall")
    did = did_for(scene, "5512")
    await scene.root.ok("POST", f"/domains/{scene.domain}/routes",
                        {"did": did, "destination": {"type": "queue", "target": "jbl"}}, 201)
    await scene.root.ok("POST", f"/domains/{scene.domain}/blacklist", {"number": "11955554444"}, 201)
    caller = await Caller(scene.services, scene.recorder, did, caller_id="11955554444").dial()
    journey = await ended_journey(scene, caller.outer)
    assert journey["ended_reason"] == "blacklist"
    assert journey["direction"] == "inbound" and journey["did"] == did and journey["caller"] == "11955554444"
    assert "queue" not in kinds(journey)


async def test_ivr_into_queue(scene: Scene) -> None:
    await scene.extension("7501", phone="auto")
    await scene.queue("jivr", strategy="ringall", ring_timeout=5, extensions=["7501"])
    agent = await scene.agent(["jivr"], "7501")
    await scene.root.ok("POST", f"/domains/{scene.domain}/ivrs", {"name": "jmenu", "root": {
        "type": "menu", "prompt": "beep", "input_timeout": 5, "max_retries": 1,
        "options": {"1": {"type": "queue", "target": "jivr"}}}}, 201)
    did = did_for(scene, "5513")
    await scene.root.ok("POST", f"/domains/{scene.domain}/routes",
                        {"did": did, "destination": {"type": "ivr", "target": "jmenu"}}, 201)
    caller = Caller(scene.services, scene.recorder, did, caller_id="1130001111")
    await caller.dial()
    await caller.step("root", "enter")
    await caller.press("1")
    await scene.recorder.wait_for("AgentConnect", Uniqueid=caller.inner, timeout=15)
    await caller.hangup()
    journey = await ended_journey(scene, caller.outer)
    assert journey["direction"] == "inbound" and journey["did"] == did
    assert kinds(journey) == ["ivr", "queue", "offer", "agent"]
    ivr = journey["legs"][0]
    assert ivr["detail"] == "jmenu" and ivr["result"] == "root.options.1:queue" and ivr["ended_at"]
    assert journey["legs"][3]["agent"] == agent.username  # type: ignore[attr-defined]
    assert journey["ended_reason"] == "caller_hangup"


async def test_internal_call_between_extensions(scene: Scene) -> None:
    await scene.extension("7601")
    await scene.extension("7602", phone="auto")
    token = f"x{int(time.time() * 1000) % 10**9}"
    await scene.services.ami.action({
        "Action": "Originate", "Channel": f"Local/7602@ccplane-d-{scene.domain}", "Application": "Wait",
        "Data": "60", "CallerID": "Ext <7601>", "Async": "true", "ChannelId": f"{token}-1",
        "OtherChannelId": f"{token}-2"})

    async def answered() -> bool:
        status, body = await scene.root.call("GET", f"/domains/{scene.domain}/calls/{token}-1")
        return status == 200 and body["answered_at"] is not None
    await eventually(answered, timeout=10, what="the internal call answered")
    await scene.services.ami.action({"Action": "Hangup", "Channel": f"{token}-1"})
    journey = await ended_journey(scene, f"{token}-1")
    assert journey["direction"] == "internal" and journey["caller"] == "7601"
    assert kinds(journey) == ["extension"]
    leg = journey["legs"][0]
    assert leg["extension"] == "7602" and leg["answered_at"] and leg["result"] == "answered"
    assert journey["ended_reason"] == "caller_hangup"


async def test_red_alert_call_is_a_journey(scene: Scene) -> None:
    from tests.integration.test_alerts import app_login, person
    await scene.extension("7701", phone="manual")
    await scene.queue("jmon", strategy="ringall", ring_timeout=5, extensions=["7701"])
    await scene.root.ok("PUT", f"/domains/{scene.domain}/alert-app",
                        {"monitoring_queue": "jmon", "call_number": "1140040000"})
    await scene.agent(["jmon"], "7701")
    await person(scene)
    app = await app_login(scene)
    red = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None}, 201)

    async def active_alert_call() -> dict[str, Any] | None:
        calls = (await scene.root.ok("GET", f"/domains/{scene.domain}/calls"))["items"]
        return next((c for c in calls if c["alert"] == red["id"] and c["queue"] == "jmon"), None)
    call = await eventually(active_alert_call, timeout=10, what="the alert call waits in the monitoring queue")
    assert call["direction"] == "outbound" and call["caller"] == "11987654321"
    await scene.services.ami.action({"Action": "Hangup", "Channel": "/^Local\\/s@ccplane-alert-queue-/"})
    journey = await ended_journey(scene, call["id"])
    assert journey["alert"] == red["id"] and "queue" in kinds(journey)


async def test_live_feed_snapshot_mid_call_then_call_ended(scene: Scene, app_client: Any) -> None:
    await scene.extension("7801", phone="auto")
    await scene.queue("jlive", strategy="ringall", ring_timeout=5, extensions=["7801"])
    await scene.agent(["jlive"], "7801")
    caller = await scene.call("jlive")
    await scene.recorder.wait_for("AgentConnect", Uniqueid=caller, timeout=10)
    ws = await app_client.ws_connect(f"/api/v1/domains/{scene.domain}/live?access_token={scene.root.token}")
    try:
        first = (await ws.receive_json(timeout=5))
        assert first["type"] == "snapshot"
        assert [c["id"] for c in first["data"]["calls"]] == [call_id_of(caller)]
        assert first["data"]["calls"][0]["state"] == "talking"
        assert any(a["state"] == "in_call" for a in first["data"]["agents"])
        await scene.hangup(caller)

        async def ended() -> dict[str, Any]:
            while True:
                msg = await ws.receive(timeout=10)
                assert msg.type == WSMsgType.TEXT, msg
                event = msg.json()
                if event["type"] == "call.ended":
                    return event
        event = await asyncio.wait_for(ended(), 10)
        assert event["data"]["id"] == call_id_of(caller) and event["data"]["ended_reason"] == "caller_hangup"
    finally:
        await ws.close()


async def test_a_client_that_stops_reading_does_not_slow_the_others(scene: Scene, app_client: Any) -> None:
    url = f"/api/v1/domains/{scene.domain}/live?access_token={scene.root.token}"
    stalled = await app_client.ws_connect(url, max_msg_size=0)
    reader = await app_client.ws_connect(url)
    try:
        assert (await reader.receive_json(timeout=5))["type"] == "snapshot"
        hub = scene.services.live
        assert hub.clients(scene.domain) == 2
        payload = {"filler": "x" * 4000}
        count = 6000  # ~24 MB the stalled client never reads: far past socket buffers and its queue

        async def publish() -> None:
            for i in range(count):
                hub.publish(scene.domain, "test.tick", {"n": i, **payload})
                if i % 200 == 199:
                    await asyncio.sleep(0.005)  # events arrive over time, as AMI delivers them
        started = time.monotonic()
        publisher = asyncio.create_task(publish())
        got = 0
        while got < count:
            event = await reader.receive_json(timeout=10)
            if event["type"] == "test.tick":
                assert event["data"]["n"] == got
                got += 1
        await publisher
        elapsed = time.monotonic() - started
        print(f"reader received {count} events in {elapsed:.2f}s beside a stalled client")
        assert hub.clients(scene.domain) == 1 and hub.dropped_clients >= 1  # the stalled one was let go
    finally:
        await stalled.close()
        await reader.close()
