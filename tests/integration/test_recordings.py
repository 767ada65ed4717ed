"""Recordings on the real sandbox: MixMonitor started by the dialplan, files
finished by Asterisk and moved into ccplane's store; an attended transfer
(AMI Atxfer from the agent's channel, as the phone's *2) yields the
consultation and the attendance; supervisors hear only their groups' queues."""
from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType

from tests.support.api import ApiCaller, assert_error
from tests.support.telephony import Scene
from tests.support.waiting import eventually

TALK = 2.0  # seconds each part of a conversation is held
EXTRA_EVENTS = ("DialEnd", "AttendedTransfer", "BridgeEnter")


def call_id_of(caller_uid: str) -> str:
    return caller_uid.rsplit("-", 1)[0] + "-1"


async def ready_recordings(scene: Scene, call_id: str, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    async def ready() -> list[dict[str, Any]] | None:
        page = await scene.root.ok("GET", f"/domains/{scene.domain}/recordings?call={call_id}")
        items = page["items"]
        return items if len(items) == count and all(r["status"] == "ready" for r in items) else None
    return await eventually(ready, timeout=timeout, what=f"{count} finished recordings of {call_id}")


async def talking_caller(scene: Scene, queue: str, caller_id: str) -> str:
    """A caller that keeps sending audio (music on hold from its far end, also while the
    agent holds it), as a person on the line would; returns its uniqueid in the queue."""
    token = secrets.token_hex(6)
    caller_uid = f"c{token}-2"
    await scene.services.ami.action({
        "Action": "Originate", "Channel": f"Local/{scene.qname(queue)}@ccplane-queues",
        "Application": "MusicOnHold", "Data": "default", "CallerID": f"Caller <{caller_id}>", "Async": "true",
        "ChannelId": f"c{token}-1", "OtherChannelId": caller_uid})
    await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=caller_uid)
    scene.callers.append(caller_uid)
    return caller_uid


async def answered_at(scene: Scene, channel_prefix: str) -> float:
    """When the channel dialled as ``channel_prefix…`` answered (its DialEnd ANSWER)."""
    async def found() -> float | None:
        return next((t for t, e in scene.recorder.matching("DialEnd", DialStatus="ANSWER")
                     if str(e.fields.get("DestChannel", "")).startswith(channel_prefix)), None)
    return await eventually(found, timeout=10, interval=0.02, what=f"{channel_prefix} answered")


async def download(caller: ApiCaller, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    resp = await caller.client.get("/api/v1" + path, headers={"Authorization": f"Bearer {caller.token}",
                                                              **(headers or {})})
    return resp.status, resp.headers, await resp.read()


def sox_stat(data: bytes, tmp: Path, name: str) -> dict[str, float]:
    path = tmp / name
    path.write_bytes(data)
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    stats = {}
    for line in out.splitlines():
        m = re.match(r"^([A-Za-z ()]+?):\s+(-?[0-9.]+)", line)
        if m:
            stats[m.group(1).strip()] = float(m.group(2))
    return stats


async def test_attended_transfer_yields_consultation_and_attendance(scene: Scene, tmp_path: Path) -> None:
    scene.services.ami.on_event(scene.recorder, names=EXTRA_EVENTS)
    await scene.extension("7601", phone="auto")
    await scene.extension("7602", phone="auto")  # the transfer target (its phone plays a tone too)
    await scene.queue("rec", strategy="ringall", ring_timeout=5, extensions=["7601"], record=True)
    agent = await scene.agent(["rec"], "7601")
    caller = await talking_caller(scene, "rec", "1133334444")
    (_, connect), = await scene.recorder.wait_for("AgentConnect", Uniqueid=caller, timeout=10)
    answered = time.monotonic()
    agent_channel = str(connect.fields["DestChannel"])
    await asyncio.sleep(TALK)

    # the agent's attended transfer, as the phone's *2: consult 7602 with the caller on hold
    await scene.services.ami.action({"Action": "Atxfer", "Channel": agent_channel, "Exten": "7602",
                                     "Context": f"ccplane-d-{scene.domain}"})
    consult_answered = await answered_at(scene, f"PJSIP/{scene.domain}-7602")
    await asyncio.sleep(TALK)
    # the transferring agent hangs up: the transfer completes
    await scene.services.ami.action({"Action": "Hangup", "Channel": agent_channel})
    transferred, xfer = (await scene.recorder.wait_for("AttendedTransfer", timeout=10))[0]
    assert xfer.fields.get("Result") == "Success", xfer.fields
    await asyncio.sleep(TALK)
    await scene.hangup(caller)
    hung = time.monotonic()

    items = await ready_recordings(scene, call_id_of(caller), 2)
    by_kind = {r["kind"]: r for r in items}
    call = await scene.root.ok("GET", f"/domains/{scene.domain}/calls/{call_id_of(caller)}")
    assert sorted(call["recordings"]) == sorted(str(r["id"]) for r in items)
    assert set(by_kind) == {"attendance", "consultation"}
    for r in items:
        # the attendance's protocol (the first agent's; the transfer opened the second one)
        assert r["call"] == call_id_of(caller) and r["queue"] == "rec" and r["protocol"] == call["protocols"][0], \
            (r, call["protocols"])
        assert r["agent"] == agent.username  # type: ignore[attr-defined]
        assert r["size"] > 44
    # each lasts as the leg it records: the caller's attendance from the agent's answer to
    # the end; the agents' consultation from the target's answer to the transfer
    assert abs(by_kind["attendance"]["duration"] - (hung - answered)) <= 1.0, (by_kind, hung - answered)
    assert abs(by_kind["consultation"]["duration"] - (transferred - consult_answered)) <= 1.0, \
        (by_kind, transferred - consult_answered)
    print(f"attendance: recorded {by_kind['attendance']['duration']:.2f} s, leg {hung - answered:.2f} s; "
          f"consultation: recorded {by_kind['consultation']['duration']:.2f} s, leg {transferred - consult_answered:.2f} s")
    for kind, r in by_kind.items():
        status, headers, data = await download(scene.root, f"/domains/{scene.domain}/recordings/{r['id']}/audio")
        assert status == 200 and headers["Content-Type"] == "audio/wav" and len(data) == r["size"]
        stats = sox_stat(data, tmp_path, f"{kind}.wav")
        assert stats["RMS     amplitude"] > 0.01, (kind, stats)  # the phones' tones, not silence
        assert abs(stats["Length (seconds)"] - r["duration"]) <= 0.1, (kind, stats, r)
        print(f"{kind}: sox RMS amplitude {stats['RMS     amplitude']:.3f}, length {stats['Length (seconds)']:.2f} s")

    # the list's filters (protocol, agent, period) and a domain administrator, who sees every recording
    d, mine = scene.domain, {str(r["id"]) for r in items}

    async def listed(query: str, who: ApiCaller = scene.root) -> set[str]:
        return {str(r["id"]) for r in (await who.ok("GET", f"/domains/{d}/recordings?{query}"))["items"]}
    assert await listed(f"protocol={call['protocols'][0]}") == mine
    assert await listed("protocol=19990101000001") == set()
    assert await listed(f"agent={agent.username}") == mine  # type: ignore[attr-defined]
    assert await listed("agent=ninguem") == set()
    around = "from={}&to={}".format(*(time.strftime("%Y-%m-%dT%H:%M:%S%%2B00:00", time.gmtime(t))
                                      for t in (time.time() - 600, time.time() + 60)))
    assert mine <= await listed(around)
    assert await listed("from=2001-01-01T00:00:00%2B00:00&to=2001-01-02T00:00:00%2B00:00") == set()
    status, body = await scene.root.call("GET", f"/domains/{d}/recordings?from=ontem")
    assert_error(status, body, 422, "from")
    admin_name = f"adm-{secrets.token_hex(4)}"
    await scene.root.ok("POST", f"/domains/{d}/users", {"username": admin_name, "name": "Adm", "role": "admin",
                                                        "password": "s3cret-pass"}, 201)
    admin = await scene.root.login(admin_name, "s3cret-pass")
    assert await listed(f"call={call_id_of(caller)}", admin) == mine  # no monitoring group needed


async def next_event(ws: Any, types: tuple[str, ...], timeout: float = 10) -> dict[str, Any]:
    async def find() -> dict[str, Any]:
        while True:
            msg = await ws.receive()
            assert msg.type == WSMsgType.TEXT, msg
            event = msg.json()
            if event["type"] in types:
                return event
    return await asyncio.wait_for(find(), timeout)


async def test_supervisors_hear_and_watch_only_their_groups_queues(scene: Scene, app_client: Any,
                                                                    settings: Any) -> None:
    d = scene.domain
    await scene.extension("7701", phone="auto")
    await scene.extension("7702", phone="auto")
    await scene.queue("sin", strategy="ringall", ring_timeout=5, extensions=["7701"], record=True)
    await scene.queue("sout", strategy="ringall", ring_timeout=5, extensions=["7702"], record=True)
    await scene.root.ok("POST", f"/domains/{d}/monitoring-groups", {"name": "Grupo in", "queues": ["sin"]}, 201)
    await scene.root.ok("POST", f"/domains/{d}/monitoring-groups", {"name": "Grupo out", "queues": ["sout"]}, 201)
    supervisors = []
    for group in ("Grupo in", "Grupo out"):
        name = f"sup-{secrets.token_hex(4)}"
        user = await scene.root.ok("POST", f"/domains/{d}/users", {
            "username": name, "name": "Sup", "role": "supervisor", "password": "s3cret-pass",
            "monitoring_groups": [group]}, 201)
        assert user["monitoring_groups"] == [group]
        supervisors.append(await scene.root.login(name, "s3cret-pass"))
    inside, outside = supervisors
    agent_in = await scene.agent(["sin"], "7701")
    agent_out = await scene.agent(["sout"], "7702")

    # the live feed: the supervisor of "Grupo in" sees its agent and queue only
    ws = await app_client.ws_connect(f"/api/v1/domains/{d}/live?access_token={inside.token}")
    try:
        snapshot = await next_event(ws, ("snapshot",))
        assert [a["username"] for a in snapshot["data"]["agents"]] == [agent_in.username]  # type: ignore[attr-defined]
        call_out = await scene.call("sout", caller_id="1144445555")
        call_in = await scene.call("sin", caller_id="1155556666")
        event = await next_event(ws, ("queue.caller_joined", "queue.caller_left", "call.new", "call.answered"))
        assert event["data"].get("queue") == "sin", event  # nothing of "sout" came first
        for caller in (call_out, call_in):
            await scene.recorder.wait_for("AgentConnect", Uniqueid=caller, timeout=10)
        await asyncio.sleep(TALK)
        for caller in (call_out, call_in):
            await scene.hangup(caller)
        while True:  # up to the end of the "sin" call, "sout" never shows
            event = await next_event(ws, ("queue.caller_joined", "queue.caller_left", "call.new", "call.answered",
                                          "call.ended", "agent.state"))
            assert event["data"].get("queue") in ("sin", None), event
            assert event["data"].get("username") in (None, agent_in.username), event  # type: ignore[attr-defined]
            if event["type"] == "call.ended" and event["data"]["id"] == call_id_of(call_in):
                break
    finally:
        await ws.close()

    (rec_in,) = await ready_recordings(scene, call_id_of(call_in), 1)
    (rec_out,) = await ready_recordings(scene, call_id_of(call_out), 1)
    assert (rec_in["queue"], rec_in["agent"]) == ("sin", agent_in.username)  # type: ignore[attr-defined]
    assert (rec_out["queue"], rec_out["agent"]) == ("sout", agent_out.username)  # type: ignore[attr-defined]

    # lists: each supervisor their group's queue; the agent nothing
    page = await inside.ok("GET", f"/domains/{d}/recordings")
    assert (page["total"], [r["id"] for r in page["items"]]) == (1, [rec_in["id"]])
    page = await outside.ok("GET", f"/domains/{d}/recordings")
    assert (page["total"], [r["id"] for r in page["items"]]) == (1, [rec_out["id"]])
    assert await agent_in.ok("GET", f"/domains/{d}/recordings") == {"items": [], "total": 0}
    assert (await scene.root.ok("GET", f"/domains/{d}/recordings"))["total"] == 2
    # one recording: 404 for whoever may not hear it
    for who, rec in ((inside, rec_out), (outside, rec_in), (agent_in, rec_in)):
        status, body = await who.call("GET", f"/domains/{d}/recordings/{rec['id']}")
        assert_error(status, body, 404, "id")
        status, _, _ = await download(who, f"/domains/{d}/recordings/{rec['id']}/audio")
        assert status == 404

    # the supervisor in the group plays it, seeking: 206 with exactly the bytes asked
    audio = f"/domains/{d}/recordings/{rec_in['id']}/audio"
    status, _, whole = await download(inside, audio)
    assert status == 200 and len(whole) == rec_in["size"] and whole[:4] == b"RIFF"
    size = len(whole)
    status, headers, part = await download(inside, audio, {"Range": "bytes=100-1099"})
    assert status == 206 and part == whole[100:1100]
    assert headers["Content-Range"] == f"bytes 100-1099/{size}" and headers["Accept-Ranges"] == "bytes"
    status, headers, part = await download(inside, audio, {"Range": "bytes=-10"})
    assert status == 206 and part == whole[-10:] and headers["Content-Range"] == f"bytes {size - 10}-{size - 1}/{size}"
    status, headers, part = await download(inside, audio, {"Range": f"bytes={size - 5}-"})
    assert status == 206 and part == whole[-5:]
    for bad in (f"bytes={size}-", "bytes=9-3", "items=0-1", "bytes=0-1,4-5"):
        status, headers, body = await download(inside, audio, {"Range": bad})
        assert status == 416, (bad, status)
        assert headers["Content-Range"] == f"bytes */{size}"

    # a file that vanished from the store: listed as missing, never a 500
    from ccplane.features.recordings.models import Recording
    async with scene.services.sessions() as s:
        row = await s.get(Recording, rec_in["id"])
        target = Path(settings.recordings.dir) / str(row.domain_id) / row.file
    assert target.read_bytes() == whole
    target.unlink()
    status, body = await inside.call("GET", f"/domains/{d}/recordings/{rec_in['id']}")
    assert status == 200 and body["status"] == "missing"
    page = await scene.root.ok("GET", f"/domains/{d}/recordings?queue=sin")
    assert [r["status"] for r in page["items"]] == ["missing"]
    status, _, body = await download(inside, audio)
    assert status == 404 and b"missing" in body


async def test_internal_call_to_a_recorded_extension(scene: Scene) -> None:
    scene.services.ami.on_event(scene.recorder, names=EXTRA_EVENTS)
    await scene.extension("7801", phone="auto")
    ext = await scene.root.ok("PATCH", f"/domains/{scene.domain}/extensions/7801", {"record": True})
    assert ext["record"] is True
    token = secrets.token_hex(6)
    await scene.services.ami.action({
        "Action": "Originate", "Channel": f"Local/7801@ccplane-d-{scene.domain}", "Application": "Playback",
        "Data": "tt-monkeys&tt-monkeys", "CallerID": "Ramal <7800>", "Async": "true",
        "ChannelId": f"i{token}-1", "OtherChannelId": f"i{token}-2"})
    answered = await answered_at(scene, f"PJSIP/{scene.domain}-7801")
    await asyncio.sleep(TALK)
    await scene.services.ami.action({"Action": "Hangup", "Channel": f"i{token}-1"})
    hung = time.monotonic()
    (rec,) = await ready_recordings(scene, f"i{token}-1", 1)
    assert (rec["kind"], rec["queue"], rec["agent"]) == ("internal", None, None)
    assert abs(rec["duration"] - (hung - answered)) <= 1.0, (rec, hung - answered)
    # not a call-center recording: an agent or a supervisor of no group sees nothing of it
    supervisor = await scene.root.new_user(scene.domain, "supervisor")
    assert await supervisor.ok("GET", f"/domains/{scene.domain}/recordings") == {"items": [], "total": 0}


async def test_retention_purges_on_the_scheduler(root: ApiCaller, domain: str, services: Any,
                                                 settings: Any) -> None:
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import select

    from ccplane.features.domains.models import Domain
    from ccplane.features.recordings.models import Recording
    store_dir = Path(settings.recordings.dir)
    now = datetime.now(timezone.utc)
    async with services.sessions() as s:
        domain_id = await s.scalar(select(Domain.id).where(Domain.slug == domain))
        for name, age in (("old", 3), ("new", 1)):
            path = store_dir / str(domain_id) / f"{domain}-{name}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"RIFF")
            s.add(Recording(domain_id=domain_id, file=path.name, kind="internal", call_id=f"{domain}-{name}",
                            status="ready", started_at=now - timedelta(days=age), size=4, duration=0.0))
        await s.commit()
    status, body = await root.call("PUT", f"/domains/{domain}/recording-policy", {"retention_days": 0})
    assert_error(status, body, 422, "retention_days")
    agent = await root.new_user(domain, "agent")
    status, body = await agent.call("PUT", f"/domains/{domain}/recording-policy", {"retention_days": 2})
    assert_error(status, body, 403)
    assert await root.ok("PUT", f"/domains/{domain}/recording-policy", {"retention_days": 2}) == {"retention_days": 2}

    async def purged() -> bool:
        page = await root.ok("GET", f"/domains/{domain}/recordings")
        return [r["call"] for r in page["items"]] == [f"{domain}-new"]
    await eventually(purged, timeout=10, what="the old recording purged by the scheduler job")
    assert not (store_dir / str(domain_id) / f"{domain}-old.wav").exists()
    assert (store_dir / str(domain_id) / f"{domain}-new.wav").exists()
    jobs = await services.scheduler.jobs(f"recordings.purge.{domain_id}")
    # the next run: when the one left falls due (it is a day old: in a day), a day at most
    (next_run,) = jobs.values()
    assert timedelta(hours=23) < next_run - now <= timedelta(days=1, minutes=1), next_run
    assert await root.ok("GET", f"/domains/{domain}/recording-policy") == {"retention_days": 2}
    assert await root.ok("PUT", f"/domains/{domain}/recording-policy", {"retention_days": None}) == {
        "retention_days": None}
    assert await services.scheduler.jobs(f"recordings.purge.{domain_id}") == {}
