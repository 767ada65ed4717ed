"""Scheduled callbacks on the real sandbox: the agent's phone (baresip) rings at
the callback's time, then the customer's number reaches the carrier (a second
Asterisk through a trunk); a time missed while ccplane was stopped runs right
after it starts again, with the delay recorded."""
from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.sandbox import SandboxState
from ccplane.features.callbacks import engine as callback_engine
from ccplane.features.callbacks.models import Callback
from ccplane.features.ivr.system_prompts import system_prompt
from ccplane.scheduler import JOBS_TABLE
from ccplane.settings import Settings
from tests.support.api import ApiCaller, assert_error
from tests.support.carrier import carrier_trunk, mobile, silent_mobile
from tests.support.live import LiveFeed, live_feed
from tests.support.replicas import answering, free_port, leading, request, serve
from tests.support.journeys import journey, ts
from tests.support.telephony import Recorder, Scene
from tests.support.waiting import eventually

WALL = time.time() - time.monotonic()  # Recorder stamps are monotonic; callbacks are wall-clock times


def dial_recorder(services: Any) -> Recorder:
    recorder = Recorder()
    services.ami.on_event(recorder, names=("DialBegin", "UserEvent"))
    return recorder


async def rung_at(recorder: Recorder, endpoint: str, timeout: float) -> float:
    """Wall-clock time of the first DialBegin to the agent's phone."""
    async def dialled() -> float | None:
        for t, e in recorder.events:
            if e.name == "DialBegin" and str(e.fields.get("DestChannel", "")).startswith(f"PJSIP/{endpoint}-"):
                return t + WALL
        return None
    return await eventually(dialled, timeout=timeout, interval=0.05, what=f"the agent's phone {endpoint} rung")


async def callback_state(root: ApiCaller, domain: str, cid: int, *status: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        cb = await root.ok("GET", f"/domains/{domain}/callbacks/{cid}")
        return cb if cb["status"] in status else None
    return await eventually(reached, timeout=20, what=f"callback {cid} {status}")


async def press(scene: Scene, caller_uid: str, digits: str) -> None:
    """The caller (the Local ;2 half in the queue) presses ``digits``: real DTMF from its ;1 half."""
    outer = caller_uid.removesuffix("-2") + "-1"
    for digit in digits:
        await scene.services.ami.action({"Action": "PlayDTMF", "Channel": outer, "Digit": digit, "Duration": "120"})


async def ask_for_callback(scene: Scene, caller_uid: str, key: str, number: str = "1") -> None:
    """The waiting caller presses the queue's callback key, then ``number`` + # ("1": call back
    the number I am calling from), and the request is reported."""
    await press(scene, caller_uid, key)
    await scene.recorder.wait_for("Newexten", Uniqueid=caller_uid, Application="Read", timeout=10)
    await press(scene, caller_uid, number + "#")
    await scene.recorder.wait_for("UserEvent", UserEvent="CcplaneCallbackRequest", Uniqueid=caller_uid, timeout=20)


async def test_scheduled_callback_rings_the_agent_at_its_time_then_the_customer(
        scene: Scene, carrier: SandboxState, carrier_events: Recorder) -> None:
    await carrier_trunk(scene.root, scene.domain, carrier)
    await scene.extension("1001", phone="auto")
    await scene.queue("retorno", strategy="ringall", ring_timeout=10, extensions=["1001"])
    agent = await scene.agent(["retorno"], "1001")
    dials = dial_recorder(scene.services)
    number = mobile()
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=10)
    cb = await agent.ok("POST", f"/domains/{scene.domain}/callbacks",
                        {"number": f"+55 {number[:2]} {number[2:]}", "at": at.isoformat(), "note": "retornar"}, 201)
    assert (cb["status"], cb["agent"], cb["number"], cb["kind"]) == ("scheduled", agent.username, number, "scheduled")

    rang = await rung_at(dials, f"{scene.domain}-1001", timeout=25)
    assert abs(rang - at.timestamp()) <= 2.0, f"rang {rang - at.timestamp():+.2f}s from its time"
    got = await carrier_events.wait_for("UserEvent", UserEvent="CarrierCall", Number=number, timeout=15)
    assert got[0][0] + WALL > rang  # the agent first, then the customer
    running = await callback_state(scene.root, scene.domain, cb["id"], "calling_customer")
    assert running["routed_to"] == "agent" and running["call"] and running["delay"] < 2.0

    async def talking() -> bool:
        return bool((await scene.root.ok("GET", f"/domains/{scene.domain}/callbacks/{cb['id']}"))[
            "customer_answered_at"])
    await eventually(talking, timeout=10, what="the customer answered")
    # the conversation ends: the agent's side hangs up
    await scene.services.ami.action({"Action": "Hangup", "Channel": running["call"]})
    done = await callback_state(scene.root, scene.domain, cb["id"], "completed")
    assert done["outcome"] == "answered" and done["ended_at"]
    # reported stages were stored from the live events, then taken out of the outbox
    async def outbox_clear() -> bool:
        items = await scene.services.ami.action({"Action": "DBGetTree", "Family": "ccplane-outbox"})
        return not [i for i in items if str(i.get("Val", "")).startswith(f"CcplaneCallback|Domain={scene.domain}|")]
    await eventually(outbox_clear, timeout=5, what="the callback's reports deleted from the outbox")


async def test_callback_of_an_offline_agent_goes_to_its_queue(scene: Scene) -> None:
    await scene.extension("1002", phone="auto")
    await scene.queue("vendas", strategy="ringall", ring_timeout=10, extensions=["1002"])
    await scene.agent(["vendas"], "1002")
    away = await scene.root.new_user(scene.domain, "agent")  # never logged into a queue
    dials = dial_recorder(scene.services)
    at = datetime.now(UTC) + timedelta(seconds=1)
    cb = await scene.root.ok("POST", f"/domains/{scene.domain}/callbacks",
                             {"number": "1133334444", "at": at.isoformat(), "agent": away.username,  # type: ignore[attr-defined]
                              "queue": "vendas"}, 201)
    await rung_at(dials, f"{scene.domain}-1002", timeout=15)  # the queue's free agent takes it
    # this domain has no outbound route: once the agent answers, the customer leg
    # cannot be placed, and the callback says so
    done = await callback_state(scene.root, scene.domain, cb["id"], "failed")
    assert (done["routed_to"], done["outcome"]) == ("queue", "failed"), done
    assert done["agent_answered_at"] and done["call"]

    refused = await scene.root.ok("POST", f"/domains/{scene.domain}/callbacks",
                                  {"number": "1133334444", "at": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
                                   "agent": away.username, "queue": "vendas", "offline_to_queue": False}, 201)  # type: ignore[attr-defined]
    failed = await callback_state(scene.root, scene.domain, refused["id"], "failed")
    assert failed["outcome"] == "agent_offline" and failed["routed_to"] is None


async def test_cancel_reschedule_and_bad_input(scene: Scene) -> None:
    await scene.queue("q1")
    base = f"/domains/{scene.domain}/callbacks"
    later = datetime.now(UTC) + timedelta(hours=1)
    cb = await scene.root.ok("POST", base, {"number": "11987654321", "at": later.isoformat(), "queue": "q1"}, 201)
    jobs = await scene.services.scheduler.jobs("callbacks.run.")
    assert f"callbacks.run.{cb['id']}" in jobs
    moved = await scene.root.ok("POST", f"{base}/{cb['id']}/reschedule",
                                {"at": (later + timedelta(hours=1)).isoformat(), "note": "depois do almoço"})
    assert moved["note"] == "depois do almoço" and moved["at"] != cb["at"]
    jobs = await scene.services.scheduler.jobs("callbacks.run.")
    assert abs(jobs[f"callbacks.run.{cb['id']}"].timestamp() - (later + timedelta(hours=1)).timestamp()) < 1
    cancelled = await scene.root.ok("POST", f"{base}/{cb['id']}/cancel")
    assert cancelled["status"] == "cancelled"
    assert f"callbacks.run.{cb['id']}" not in await scene.services.scheduler.jobs("callbacks.run.")
    status, body = await scene.root.call("POST", f"{base}/{cb['id']}/cancel")
    assert_error(status, body, 409, "status")
    listed = await scene.root.ok("GET", f"{base}?status=cancelled")
    assert listed["total"] == 1 and listed["items"][0]["id"] == cb["id"]

    for payload, field in (({"number": "123", "at": later.isoformat(), "queue": "q1"}, "number"),
                           ({"number": "11887654321", "at": later.isoformat(), "queue": "q1"}, "number"),
                           ({"number": "11987654321", "at": "2026-12-01T10:00:00", "queue": "q1"}, "at"),
                           ({"number": "11987654321", "at": "2001-01-01T10:00:00Z", "queue": "q1"}, "at"),
                           ({"number": "11987654321", "at": later.isoformat(), "queue": "ghost"}, "queue"),
                           ({"number": "11987654321", "at": later.isoformat()}, "queue"),
                           ({"number": "11987654321", "at": later.isoformat(), "agent": "nobody"}, "agent")):
        status, body = await scene.root.call("POST", base, payload)
        assert_error(status, body, 422, field)
    assert (await scene.root.ok("GET", base))["total"] == 1  # nothing half-written


async def test_callback_missed_while_ccplane_was_stopped_runs_after_restart_with_its_delay(
        aiohttp_client: Any, settings: Settings, sandbox: SandboxState, app_client: Any, services: Any) -> None:
    from ccplane.app import create_app
    from ccplane.web.keys import SERVICES
    username, password = f"root-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    await services.auth.create_root(username, password)
    root = await ApiCaller(app_client).login(username, password)
    slug = f"t{secrets.token_hex(4)}"
    await root.ok("POST", "/domains", {"slug": slug, "name": slug}, 201)
    scene = Scene(root, services, slug, sandbox.sip_port)
    try:
        await scene.extension("1003", phone="auto")
        await scene.queue("q", strategy="ringall", ring_timeout=10, extensions=["1003"])
        agent = await scene.agent(["q"], "1003")
        at = datetime.now(UTC) + timedelta(seconds=4)
        cb = await agent.ok("POST", f"/domains/{slug}/callbacks", {"number": "11987650000", "at": at.isoformat()}, 201)
        await app_client.close()  # ccplane stops before the callback's time
        stopped = time.time()
        assert stopped < at.timestamp()
        while time.time() < at.timestamp() + 3:  # ...and stays down across it
            await __import__("asyncio").sleep(0.5)
        app2 = create_app(settings)
        services2 = app2[SERVICES]
        dials = dial_recorder(services2)  # before start-up: the missed callback runs during it
        restarted = time.time()
        client2 = await aiohttp_client(app2)
        rang = await rung_at(dials, f"{slug}-1003", timeout=15)
        assert rang - restarted < 5, "runs right after start-up"
        root2 = await ApiCaller(client2).login(username, password)
        # no outbound route in this domain: the customer leg fails at once, after the agent answered
        ran = await callback_state(root2, slug, cb["id"], "failed")
        assert ran["delay"] >= restarted - at.timestamp() - 1.0, ran
        assert ran["delay"] >= 2.5 and ran["attempts"] == 1 and ran["agent_answered_at"], ran
        scene.services = services2
    finally:
        await scene.close()


async def test_a_callback_runs_once_when_two_runs_race(scene: Scene) -> None:
    """Two replicas firing the same job (or a job replayed after a failover): one call."""
    await scene.extension("1004", phone="auto")
    await scene.queue("dupla", strategy="ringall", ring_timeout=10, extensions=["1004"])
    agent = await scene.agent(["dupla"], "1004")
    dials = dial_recorder(scene.services)
    at = datetime.now(UTC) + timedelta(hours=1)
    cb = await agent.ok("POST", f"/domains/{scene.domain}/callbacks", {"number": "11987651111", "at": at.isoformat()},
                        201)
    await asyncio.gather(*(scene.services.callbacks.run(cb["id"]) for _ in range(3)))
    ran = await callback_state(scene.root, scene.domain, cb["id"], "failed")  # no outbound route here
    assert ran["attempts"] == 1 and ran["agent_answered_at"]
    await rung_at(dials, f"{scene.domain}-1004", timeout=5)
    calls = {str(e.fields.get("Linkedid")) for _, e in dials.events
             if e.name == "DialBegin" and str(e.fields.get("DestChannel", "")).startswith(f"PJSIP/{scene.domain}-1004-")}
    assert calls == {ran["call"]}, calls


async def test_in_queue_callback_keeps_the_callers_place_agent_first_one_call_per_number(
        scene: Scene, carrier: SandboxState, carrier_events: Recorder) -> None:
    await carrier_trunk(scene.root, scene.domain, carrier)
    await scene.extension("3001", phone="auto")
    q = await scene.queue("espera", strategy="ringall", ring_timeout=10, extensions=["3001"], callback_key="5",
                          callback_retries=1, callback_retry_delay=30, callback_expiry=600)
    assert (q["callback_key"], q["callback_retries"]) == ("5", 1)
    agent = await scene.agent(["espera"], "3001")
    await agent.ok("POST", f"/domains/{scene.domain}/agents/{agent.username}/pause", {"reason": "reunião"})  # type: ignore[attr-defined]
    async with live_feed(scene.root.client, scene.domain, scene.root.token) as feed:
        await _in_queue_callback_keeps_the_callers_place(scene, carrier_events, agent, feed)


async def _in_queue_callback_keeps_the_callers_place(scene: Scene, carrier_events: Recorder, agent: ApiCaller,
                                                     feed: LiveFeed) -> None:
    number = mobile()
    first = await scene.call("espera", "1130000001")
    asker = await scene.call("espera", number)  # position 2
    third = await scene.call("espera", "1130000003")

    async def ask_callback(caller_uid: str) -> None:
        await ask_for_callback(scene, caller_uid, "5")

    await ask_callback(asker)
    base = f"/domains/{scene.domain}/callbacks"

    async def the_callback() -> dict[str, Any] | None:
        items = (await scene.root.ok("GET", base))["items"]
        return items[0] if items and items[0]["call"] else None
    cb = await eventually(the_callback, timeout=10, what="the in-queue callback placed")
    assert (cb["kind"], cb["number"], cb["queue"], cb["position"], cb["routed_to"]) == \
        ("in_queue", number, "espera", 2, "queue")
    [started] = await feed.wait_for("callback.started", lambda d: d["id"] == cb["id"])
    assert (started["kind"], started["number"], started["routed_to"], started["call"], started["status"],
            started["attempts"]) == ("in_queue", number, "queue", cb["call"], "calling_agent", 1), started
    [scheduled] = feed.of("callback.scheduled", lambda d: d["id"] == cb["id"])
    assert (scheduled["number"], scheduled["queue"], scheduled["position"]) == (number, "espera", 2), scheduled
    placeholder = cb["call"].removesuffix("-a") + "-b"
    joined = await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=placeholder, timeout=10)
    assert joined[0][1].fields.get("Position") == "2", joined[0][1].fields  # the caller's place, kept

    # the same number asks again (another call): no second callback, no second call
    again = await scene.call("espera", number)
    await ask_callback(again)

    async def request_stored() -> bool:
        items = await scene.services.ami.action({"Action": "DBGetTree", "Family": "ccplane-outbox"})
        return not [i for i in items if str(i.get("Key", "")).endswith(f"{again}-cbr")]
    await eventually(request_stored, timeout=5, what="the second request handled")
    assert (await scene.root.ok("GET", base))["total"] == 1
    [dup] = await feed.wait_for("callback.duplicate")
    assert dup == {"id": cb["id"], "number": number, "queue": "espera"}, dup
    assert feed.kinds("callback.") == ["callback.scheduled", "callback.started", "callback.duplicate"]

    # the agent frees up: the first caller, then the callback (agent first, then the
    # customer at the carrier), and only then the third caller
    await agent.ok("POST", f"/domains/{scene.domain}/agents/{agent.username}/unpause")  # type: ignore[attr-defined]
    await scene.recorder.wait_for("AgentConnect", Uniqueid=first, timeout=15)
    await scene.hangup(first)
    connected = await scene.recorder.wait_for("AgentConnect", Uniqueid=placeholder, timeout=20)
    got = await carrier_events.wait_for("UserEvent", UserEvent="CarrierCall", Number=number, timeout=15)
    assert got[0][0] > connected[0][0]  # the agent answered before the customer was called
    assert not [t for t, _ in scene.recorder.matching("AgentCalled", Uniqueid=third) if t < connected[0][0]]
    running = await callback_state(scene.root, scene.domain, cb["id"], "calling_customer")

    async def talking() -> bool:
        return bool((await scene.root.ok("GET", f"{base}/{cb['id']}"))["customer_answered_at"])
    await eventually(talking, timeout=10, what="the customer answered")
    await scene.services.ami.action({"Action": "Hangup", "Channel": running["call"]})
    done = await callback_state(scene.root, scene.domain, cb["id"], "completed")
    assert done["outcome"] == "answered"
    assert len(carrier_events.matching("UserEvent", UserEvent="CarrierCall", Number=number)) == 1
    [completed] = await feed.wait_for("callback.completed", lambda d: d["id"] == cb["id"])
    assert (completed["outcome"], completed["status"], completed["call"]) == ("answered", "completed", cb["call"])
    assert completed["agent_answered_at"] and completed["customer_answered_at"] and completed["ended_at"]
    assert feed.kinds("callback.") == ["callback.scheduled", "callback.started", "callback.duplicate",
                                       "callback.agent_answered", "callback.customer_answered",
                                       "callback.completed"]
    # the journey of the caller who asked records why it left the queue: for a callback
    asked = await journey(scene, asker.removesuffix("-2") + "-1")
    assert (asked["caller"], asked["queue"], asked["answered_at"], asked["ended_reason"]) == \
        (number, "espera", None, "overflow"), asked
    assert [(leg["kind"], leg["queue"], leg["result"], leg["detail"]) for leg in asked["legs"]] == \
        [("queue", "espera", "callback", "callback")], asked["legs"]
    # the callback's own call: the agent first (through the queue, at the kept place), then the customer
    call = await journey(scene, cb["call"])
    assert (call["caller"], call["queue"], call["agent"]) == (number, "espera", agent.username), call  # type: ignore[attr-defined]
    legs = {leg["kind"]: leg for leg in call["legs"]}
    assert [leg["kind"] for leg in call["legs"]] == ["queue", "offer", "agent", "external"], call["legs"]
    assert call["direction"] == "outbound"  # ccplane called the customer back
    assert (legs["queue"]["queue"], legs["queue"]["result"]) == ("espera", "answered")
    assert (legs["agent"]["agent"], legs["agent"]["queue"]) == (agent.username, "espera")  # type: ignore[attr-defined]
    assert (legs["external"]["number"], legs["external"]["result"]) == (number, "answered")
    assert ts(legs["agent"]["answered_at"]) <= ts(legs["external"]["started_at"]) <= ts(legs["external"]["answered_at"])
    assert len(call["protocols"]) == 1  # the agent's attendance of the callback
    await scene.hangup(third)


async def test_ivr_callback_node_leaves_a_callback_at_the_end_of_the_queues_line(scene: Scene) -> None:
    from tests.support.ivr import Caller
    await scene.queue("ura")
    await scene.root.ok("POST", f"/domains/{scene.domain}/ivrs",
                        {"name": "retorno", "root": {"type": "callback", "target": "ura"}}, 201)
    status, body = await scene.root.call("POST", f"/domains/{scene.domain}/ivrs",
                                         {"name": "ruim", "root": {"type": "callback", "target": "ghost"}})
    assert_error(status, body, 422, "root.target")
    did = "3" + str(secrets.randbelow(10**9)).zfill(9)
    await scene.root.ok("POST", f"/domains/{scene.domain}/routes",
                        {"did": did, "destination": {"type": "ivr", "target": "retorno"}}, 201)
    number = mobile()
    caller = await Caller(scene.services, scene.recorder, did, caller_id=number).dial()
    try:
        await scene.recorder.wait_for("Newexten", Uniqueid=caller.inner, Application="Read", timeout=10)
        await caller.press("1#")
        await scene.recorder.wait_for("UserEvent", UserEvent="CcplaneCallbackRequest", Uniqueid=caller.inner,
                                      timeout=20)

        async def placed() -> dict[str, Any] | None:
            items = (await scene.root.ok("GET", f"/domains/{scene.domain}/callbacks"))["items"]
            return items[0] if items and items[0]["call"] else None
        cb = await eventually(placed, timeout=10, what="the callback placed")
        assert (cb["kind"], cb["number"], cb["queue"], cb["position"], cb["status"]) == \
            ("in_queue", number, "ura", None, "calling_agent")
        await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=cb["call"].removesuffix("-a") + "-b",
                                      Queue=scene.qname("ura"), timeout=10)
        await scene.services.ami.action({"Action": "Hangup", "Channel": cb["call"]})
    finally:
        await caller.hangup()


# -- two real replicas on one database ---------------------------------------------------

async def _jobs_of(scene: Scene, callback_id: int) -> int:
    async with scene.services.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(JOBS_TABLE)
                                  .where(JOBS_TABLE.c.id == f"callbacks.run.{callback_id}")) or 0)


async def _replicas_place_one_call(scene: Scene, app_client: Any, settings: Settings, sandbox: SandboxState,
                                   carrier: SandboxState, carrier_events: Recorder, tmp_path: Path, *, kill: str) -> None:
    """Two ``ccplane serve`` replicas on the test database (SQLite: flock;
    PostgreSQL: advisory lock); the callback is scheduled through the leader.
    Asterisk's own view (a separate AMI session on the sandbox, the carrier's
    calls) must show the agent rung once and the customer called once.

    ``kill``: "before" kills the leader (SIGKILL) 0.5 s before the callback's
    time, the standby takes over and runs it; "never" keeps both alive; "after"
    kills the leader once the agent's phone rings (and the leader stored the
    call's id), the standby follows the call it did not place to its end."""
    await carrier_trunk(scene.root, scene.domain, carrier)
    await scene.extension("1006", phone="auto")
    await scene.queue("replicas", strategy="ringall", ring_timeout=10, extensions=["1006"])
    agent = await scene.agent(["replicas"], "1006")
    await app_client.close()  # the test's own app leaves: only the two replicas remain
    watch = AmiClient("127.0.0.1", sandbox.ami_port, sandbox.ami_username, sandbox.ami_secret)
    dials = Recorder()
    watch.on_event(dials, names=("DialBegin", "OriginateResponse"))
    await watch.start()
    await watch.wait_connected(10)
    ports = free_port(), free_port()
    logs = [tmp_path / "replica-0.log", tmp_path / "replica-1.log"]
    procs = [serve(settings, ports[0], log=logs[0])]
    try:
        await eventually(lambda: leading(ports[0]), timeout=25, what="the first replica leading")
        procs.append(serve(settings, ports[1], log=logs[1]))
        await eventually(lambda: answering(ports[1], "standby"), timeout=25, what="the second replica standing by")
        number = mobile()
        at = datetime.now(UTC) + timedelta(seconds=3)
        status, cb = await request(ports[0], "POST", f"/domains/{scene.domain}/callbacks",
                                   {"number": number, "at": at.isoformat()}, token=agent.token)
        assert status == 201, cb
        assert await _jobs_of(scene, cb["id"]) == 1  # stored on the shared database, for whichever replica leads
        if kill == "before":
            while time.time() < at.timestamp() - 0.5:  # the leader dies just before the callback's time
                await asyncio.sleep(0.05)
            os.kill(procs[0].pid, signal.SIGKILL)
            procs[0].wait(10)
            assert time.time() < at.timestamp(), "killed before the callback's time"
        runner = ports[0] if kill == "never" else ports[1]
        endpoint = f"{scene.domain}-1006"
        rang = await rung_at(dials, endpoint, timeout=30)
        if kill == "after":
            async def placed() -> dict[str, Any] | None:  # the leader stored the call it placed
                got, body = await request(ports[0], "GET", f"/domains/{scene.domain}/callbacks/{cb['id']}",
                                          token=scene.root.token)
                return body if got == 200 and body["call"] else None
            await eventually(placed, timeout=10, what="the leader recording its call")
            os.kill(procs[0].pid, signal.SIGKILL)
            procs[0].wait(10)
            await eventually(lambda: leading(ports[1]), timeout=25, what="the standby taking over")
        await carrier_events.wait_for("UserEvent", UserEvent="CarrierCall", Number=number, timeout=15)

        async def state(*wanted: str) -> dict[str, Any] | None:
            got, body = await request(runner, "GET", f"/domains/{scene.domain}/callbacks/{cb['id']}",
                                      token=scene.root.token)
            return body if got == 200 and body["status"] in wanted else None
        running = await eventually(lambda: state("calling_customer"), timeout=15, what="calling the customer")
        assert running["attempts"] == 1 and running["routed_to"] == "agent", running
        late = rang - at.timestamp()
        # the delay recorded is the lateness Asterisk saw (the claim comes just before the Originate)
        assert running["delay"] is not None and late - 1.0 <= running["delay"] <= late + 0.1, (running["delay"], late)
        if kill != "before":
            assert late <= 2.0, f"rang {late:+.2f}s from its time"
        await watch.action({"Action": "Hangup", "Channel": running["call"]})
        done = await eventually(lambda: state("completed", "failed"), timeout=15, what="the callback ended")
        assert (done["status"], done["outcome"], done["attempts"]) == ("completed", "answered", 1), done
        if kill != "never":
            assert await leading(ports[1]), "the standby took over"
        else:  # the standby is still there and still standing by
            assert await answering(ports[1], "standby")
        assert await _jobs_of(scene, cb["id"]) == 0  # the job is gone: no later start-up runs it again
        # once, never twice: one Originate, one call to the agent's phone, one to the customer
        originated = {str(e.fields.get("Uniqueid")) for _, e in dials.events
                      if e.name == "OriginateResponse" and str(e.fields.get("Uniqueid", "")).startswith(f"cb{cb['id']}-")}
        agent_calls = {str(e.fields.get("Linkedid")) for _, e in dials.events
                       if e.name == "DialBegin" and str(e.fields.get("DestChannel", "")).startswith(f"PJSIP/{endpoint}-")}
        customer_calls = carrier_events.matching("UserEvent", UserEvent="CarrierCall", Number=number)
        assert len(originated) == 1 and agent_calls == {running["call"]}, (originated, agent_calls)
        assert len(customer_calls) == 1, customer_calls
    except BaseException:
        for path in logs:  # what the replicas said, for the failure's report
            if path.exists():
                print(f"--- {path.name} ---\n" + path.read_text(errors="replace")[-6000:])
        raise
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(10)
        await watch.stop()


async def test_two_replicas_leader_killed_before_the_time_standby_runs_it_once(
        scene: Scene, app_client: Any, settings: Settings, sandbox: SandboxState, carrier: SandboxState,
        carrier_events: Recorder, tmp_path: Path) -> None:
    await _replicas_place_one_call(scene, app_client, settings, sandbox, carrier, carrier_events, tmp_path, kill="before")


async def test_two_replicas_both_alive_at_the_time_run_it_once(
        scene: Scene, app_client: Any, settings: Settings, sandbox: SandboxState, carrier: SandboxState,
        carrier_events: Recorder, tmp_path: Path) -> None:
    await _replicas_place_one_call(scene, app_client, settings, sandbox, carrier, carrier_events, tmp_path, kill="never")


async def test_two_replicas_leader_killed_while_the_agent_rings_standby_follows_the_one_call(
        scene: Scene, app_client: Any, settings: Settings, sandbox: SandboxState, carrier: SandboxState,
        carrier_events: Recorder, tmp_path: Path) -> None:
    await _replicas_place_one_call(scene, app_client, settings, sandbox, carrier, carrier_events, tmp_path, kill="after")


async def test_reaper_gives_up_a_callback_whose_call_vanished_and_spares_a_live_one(scene: Scene) -> None:
    """A callback under way whose call Asterisk no longer has (a restarted Asterisk,
    a leader that died between its claim and its Originate) does not stay
    'calling' forever: two looks of the reaper in a row find no channel of it and
    it ends failed/lost; a callback whose agent is still ringing is never touched;
    a report still in the outbox that arrives afterwards tells what really happened."""
    await scene.extension("1007", phone="manual")  # rings, nobody answers
    await scene.queue("reaper", strategy="ringall", ring_timeout=10, extensions=["1007"])
    agent = await scene.agent(["reaper"], "1007")
    dials = dial_recorder(scene.services)
    svc = scene.services.callbacks
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    ringing = await agent.ok("POST", f"/domains/{scene.domain}/callbacks", {"number": "11987652222", "at": later}, 201)
    vanished = await agent.ok("POST", f"/domains/{scene.domain}/callbacks", {"number": "11987653333", "at": later},
                              201)
    await svc.run(ringing["id"])
    await rung_at(dials, f"{scene.domain}-1007", timeout=5)
    # the other one was claimed by a leader that died before its Originate
    async with scene.services.sessions() as s:
        await s.execute(update(Callback).where(Callback.id == vanished["id"]).values(
            status="calling_customer", started_at=datetime.now(UTC), call_id=f"cb{vanished['id']}-dead-a",
            attempts=1))
        await s.commit()
    real_clock = svc.clock
    svc.clock = lambda: real_clock() + timedelta(seconds=45)  # both started long enough ago to be checked
    try:
        mine = {ringing["id"], vanished["id"]}  # (other tests' domains share this database)
        assert mine.isdisjoint(await svc.reap())  # first look: the vanished one is only suspected
        assert (await scene.root.ok("GET", f"/domains/{scene.domain}/callbacks/{vanished['id']}"))["status"] == \
            "calling_customer"
        assert mine & set(await svc.reap()) == {vanished["id"]}  # second look: given up
    finally:
        svc.clock = real_clock
    lost = await scene.root.ok("GET", f"/domains/{scene.domain}/callbacks/{vanished['id']}")
    assert (lost["status"], lost["outcome"]) == ("failed", "lost") and lost["ended_at"], lost
    alive = await scene.root.ok("GET", f"/domains/{scene.domain}/callbacks/{ringing['id']}")
    assert alive["status"] == "calling_agent" and alive["outcome"] is None, alive  # its agent still rings
    # the customer's final report, replayed late from the outbox, wins over 'lost'
    await svc.on_report({"Callback": str(vanished["id"]), "Stage": "customer_done", "Status": "ANSWER",
                         "At": str(int(time.time()))})
    told = await scene.root.ok("GET", f"/domains/{scene.domain}/callbacks/{vanished['id']}")
    assert (told["status"], told["outcome"]) == ("completed", "answered"), told
    # the reaper re-arms itself on the scheduler (leader only, survives restarts)
    assert "callbacks.reaper" in await scene.services.scheduler.jobs("callbacks.reaper")


# -- customers who do not answer, numbers keyed in, one agent for two callbacks --------------

async def paused_agent(scene: Scene, queue: str, extension: str, key: str, **fields: Any) -> ApiCaller:
    """A queue with callback key ``key`` and one agent (baresip, answers) on a break."""
    await scene.extension(extension, phone="auto")
    await scene.queue(queue, strategy="ringall", ring_timeout=10, wrapup_time=0, extensions=[extension],
                      callback_key=key, **fields)
    agent = await scene.agent([queue], extension)
    await agent.ok("POST", f"/domains/{scene.domain}/agents/{agent.username}/pause", {"reason": "reunião"})  # type: ignore[attr-defined]
    return agent


async def unpause(scene: Scene, agent: ApiCaller) -> None:
    await agent.ok("POST", f"/domains/{scene.domain}/agents/{agent.username}/unpause")  # type: ignore[attr-defined]


async def test_in_queue_callback_whose_customer_does_not_answer_goes_back_in_line_until_its_retries_run_out(
        scene: Scene, carrier: SandboxState, carrier_events: Recorder, monkeypatch: Any) -> None:
    monkeypatch.setattr(callback_engine, "CUSTOMER_RING", 3)  # the customer's phone rings 3 s
    await carrier_trunk(scene.root, scene.domain, carrier)
    agent = await paused_agent(scene, "insiste", "3101", "5", callback_retries=1, callback_retry_delay=5,
                               callback_expiry=600)
    number = silent_mobile()  # the carrier lets it ring, nobody answers
    async with live_feed(scene.root.client, scene.domain, scene.root.token) as feed:
        asker = await scene.call("insiste", number)
        await ask_for_callback(scene, asker, "5")
        [first] = await feed.wait_for("callback.started")
        cid = first["id"]
        await unpause(scene, agent)
        [retry] = await feed.wait_for("callback.retry", lambda d: d["id"] == cid, timeout=30)
        missed = time.time()
        # back in line: not failed, scheduled again retry_delay seconds after the miss, the attempt counted
        assert (retry["status"], retry["outcome"], retry["attempts"], retry["ended_at"]) == \
            ("scheduled", "no_answer", 1, None), retry
        assert abs(ts(retry["at"]) - (missed + 5)) <= 2.0, (retry["at"], missed)
        assert retry["agent_answered_at"]  # the agent took it; the customer did not answer
        [failed] = await feed.wait_for("callback.failed", lambda d: d["id"] == cid, timeout=40)
        started = feed.of("callback.started", lambda d: d["id"] == cid)
    # the second try joined the queue again, at its time, as a new call
    assert len(started) == 2 and started[0]["call"] != started[1]["call"], started
    assert ts(started[1]["started_at"]) >= ts(retry["at"]) - 0.5, (started[1]["started_at"], retry["at"])
    await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=started[1]["call"].removesuffix("-a") + "-b",
                                  Queue=scene.qname("insiste"), timeout=1)
    # ...and the retry limit (1) stops it: failed for good, no job left, two calls to the customer in all
    assert (failed["status"], failed["outcome"], failed["attempts"]) == ("failed", "no_answer", 2), failed
    assert len(feed.of("callback.retry")) == 1
    assert [k for k in feed.kinds("callback.") if k not in ("callback.agent_answered",)] == [
        "callback.scheduled", "callback.started", "callback.retry", "callback.started", "callback.failed"]
    assert f"callbacks.run.{cid}" not in await scene.services.scheduler.jobs("callbacks.run.")
    calls = carrier_events.matching("UserEvent", UserEvent="CarrierCall", Number=number)
    assert [e.fields.get("Answer") for _, e in calls] == ["never", "never"], calls
    final = await scene.root.ok("GET", f"/domains/{scene.domain}/callbacks/{cid}")
    assert (final["status"], final["outcome"], final["attempts"]) == ("failed", "no_answer", 2), final
    # each try's journey: the agent took it, then the customer's number rang unanswered
    for run in started:
        j = await journey(scene, run["call"])
        assert [leg["kind"] for leg in j["legs"]] == ["queue", "offer", "agent", "external"], j["legs"]
        agent_leg, external = j["legs"][2], j["legs"][3]
        assert agent_leg["agent"] == agent.username and agent_leg["answered_at"], agent_leg  # type: ignore[attr-defined]
        assert (external["number"], external["answered_at"], external["result"]) == \
            (number, None, "no_answer"), external
        assert ts(external["ended_at"]) - ts(external["started_at"]) >= 2.5, external  # it rang its 3 s


async def test_a_keyed_in_number_is_checked_then_called_back_and_the_caller_hung_up(
        scene: Scene, carrier: SandboxState, carrier_events: Recorder) -> None:
    await carrier_trunk(scene.root, scene.domain, carrier)
    agent = await paused_agent(scene, "digita", "3201", "7")
    own = "1130000077"  # the number the caller calls from: not the one they key in
    keyed = mobile()
    async with live_feed(scene.root.client, scene.domain, scene.root.token) as feed:
        caller = await scene.call("digita", own)
        await press(scene, caller, "7")
        await scene.recorder.wait_for("Newexten", Uniqueid=caller, Application="Read", timeout=10)
        await press(scene, caller, "12345#")  # not a Brazilian number: told so, and asked again

        def playbacks() -> list[str]:
            return [str(e.fields.get("AppData")) for _, e in scene.recorder.matching(
                "Newexten", Uniqueid=caller, Application="Playback")]
        await scene.recorder.wait_for("Newexten", Uniqueid=caller, Application="Read", count=2, timeout=15)
        assert playbacks() == [system_prompt("retorno-invalido")], playbacks()
        assert not scene.recorder.matching("UserEvent", UserEvent="CcplaneCallbackRequest", Uniqueid=caller)
        await press(scene, caller, f"0{keyed}#")  # with the trunk prefix 0, as people dial
        [(_, request)] = await scene.recorder.wait_for("UserEvent", UserEvent="CcplaneCallbackRequest",
                                                       Uniqueid=caller, timeout=20)
        assert request.fields.get("Number") == f"0{keyed}"
        # the confirmation, then the dialplan hangs the caller up (the test never does)
        [(hung_at, _)] = await scene.recorder.wait_for("Hangup", Uniqueid=caller, timeout=20)
        assert playbacks() == [system_prompt("retorno-invalido"), system_prompt("retorno-agendado")]
        confirmed_at = scene.recorder.matching("Newexten", Uniqueid=caller, Application="Playback")[-1][0]
        after = [str(e.fields.get("Application")) for t, e in scene.recorder.matching("Newexten", Uniqueid=caller)
                 if t > confirmed_at]
        # the dialplan's own Hangup() right after the confirmation (then only the hangup handlers)
        assert after[:1] == ["Hangup"] and hung_at >= confirmed_at, after
        [started] = await feed.wait_for("callback.started")
        assert (started["number"], started["kind"], started["queue"]) == (keyed, "in_queue", "digita"), started
        # the keyed number is the one called back
        await unpause(scene, agent)
        await carrier_events.wait_for("UserEvent", UserEvent="CarrierCall", Number=keyed, timeout=20)
        running = await callback_state(scene.root, scene.domain, started["id"], "calling_customer")

        async def talking() -> bool:
            return bool((await scene.root.ok("GET", f"/domains/{scene.domain}/callbacks/{started['id']}"))[
                "customer_answered_at"])
        await eventually(talking, timeout=10, what="the customer answered")
        await scene.services.ami.action({"Action": "Hangup", "Channel": running["call"]})
        await feed.wait_for("callback.completed", lambda d: d["id"] == started["id"])
    assert not [e for _, e in carrier_events.matching("UserEvent", UserEvent="CarrierCall")
                if str(e.fields.get("Number")) in (own, "12345")]
    assert (await scene.root.ok("GET", f"/domains/{scene.domain}/callbacks"))["total"] == 1


async def test_a_caller_who_keys_three_invalid_numbers_is_told_each_time_and_no_callback_is_left(
        scene: Scene) -> None:
    await paused_agent(scene, "errado", "3202", "8")
    caller = await scene.call("errado", "1130000088")
    await press(scene, caller, "8")
    for attempt, typed in enumerate(("123#", "11812345678#", "00#"), 1):  # short; a mobile without its 9; no DDD
        await scene.recorder.wait_for("Newexten", Uniqueid=caller, Application="Read", count=attempt, timeout=15)
        await press(scene, caller, typed)
    await scene.recorder.wait_for("Hangup", Uniqueid=caller, timeout=20)
    told = [str(e.fields.get("AppData")) for _, e in scene.recorder.matching(
        "Newexten", Uniqueid=caller, Application="Playback")]
    assert told == [system_prompt("retorno-invalido")] * 3, told
    assert len(scene.recorder.matching("Newexten", Uniqueid=caller, Application="Read")) == 3
    assert not scene.recorder.matching("UserEvent", UserEvent="CcplaneCallbackRequest", Uniqueid=caller)
    assert (await scene.root.ok("GET", f"/domains/{scene.domain}/callbacks"))["total"] == 0


async def test_two_in_queue_callbacks_and_one_free_agent_never_two_callbacks_in_flight(
        scene: Scene, carrier: SandboxState, carrier_events: Recorder) -> None:
    await carrier_trunk(scene.root, scene.domain, carrier)
    agent = await paused_agent(scene, "uma", "3301", "5")
    numbers = [mobile(), mobile()]
    callers = [await scene.call("uma", n) for n in numbers]
    async with live_feed(scene.root.client, scene.domain, scene.root.token) as feed:
        for i, caller in enumerate(callers, 1):
            await ask_for_callback(scene, caller, "5")
            cb = (await feed.wait_for("callback.started", count=i))[-1]
            # its place kept in the line before the next caller asks (see the report: a caller
            # who asks while the one ahead is still confirming would claim the same place)
            await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=cb["call"].removesuffix("-a") + "-b",
                                          timeout=10)
        started = feed.of("callback.started")
        assert [s["number"] for s in started] == numbers and [s["position"] for s in started] == [1, 2], started
        ours = {s["call"]: s["id"] for s in started}

        # in flight, from Asterisk's own channel list: callbacks with a real channel (the agent's
        # phone, the trunk to the customer) beside their Local placeholders
        timed: list[tuple[float, set[str]]] = []

        async def sample() -> None:
            while True:
                at = time.monotonic()
                channels = await scene.services.ami.action({"Action": "CoreShowChannels"})
                timed.append((at, {str(c.get("Linkedid")) for c in channels if str(c.get("Linkedid")) in ours
                                   and str(c.get("Channel", "")).startswith("PJSIP/")}))
                await asyncio.sleep(0.1)
        sampler = asyncio.create_task(sample())
        try:
            await unpause(scene, agent)
            hung: list[float] = []
            for cb in started:  # served in line: the first asker's callback, then the second's
                await carrier_events.wait_for("UserEvent", UserEvent="CarrierCall", Number=cb["number"], timeout=20)
                await feed.wait_for("callback.customer_answered", lambda d, i=cb["id"]: bool(d["id"] == i))
                hung.append(time.monotonic())
                await scene.services.ami.action({"Action": "Hangup", "Channel": cb["call"]})
                await feed.wait_for("callback.completed", lambda d, i=cb["id"]: bool(d["id"] == i))

            async def all_gone() -> bool:  # a look once both are over: none of their channels left
                return bool(timed) and not timed[-1][1]
            await eventually(all_gone, timeout=10, what="both callbacks' channels gone")
        finally:
            sampler.cancel()
    samples = [seen for _, seen in timed]
    # while the first conversation lasted (until the test hung it up), only the first callback
    # had channels: the second was not started beside it (after the hangup, the first's
    # channels may take a moment to go while the second starts ringing the agent)
    during_first = [seen for at, seen in timed if at < hung[0]]
    assert during_first and all(seen <= {started[0]["call"]} for seen in during_first), \
        [seen for seen in during_first if len(seen) > 1][:3]
    assert [next(iter(s)) for s in samples if s][0] == started[0]["call"]  # the first in line went first
    assert {c for s in samples for c in s} == set(ours)  # ...and both were seen in flight
    assert all(seen <= {started[1]["call"]} for at, seen in timed if at > hung[0] + 2), timed[-5:]
    second = carrier_events.matching("UserEvent", UserEvent="CarrierCall", Number=numbers[1])
    assert len(second) == 1 and second[0][0] > hung[0]  # called once the first conversation was over
