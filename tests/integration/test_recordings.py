"""Recordings on the real sandbox: MixMonitor started by the dialplan, files
finished by Asterisk and moved into ccplane's store; an attended transfer
(AMI Atxfer from the agent's channel, as the phone's *2) yields the
consultation and the attendance; supervisors hear only their groups' queues."""
from __future__ import annotations

import asyncio
import re
import subprocess
import time
from pathlib import Path
from typing import Any

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
    caller = await scene.call("rec", caller_id="1133334444")
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
    (transferred, xfer), = await scene.recorder.wait_for("AttendedTransfer", timeout=10)
    assert xfer.fields.get("Result") == "Success", xfer.fields
    await asyncio.sleep(TALK)
    await scene.hangup(caller)
    hung = time.monotonic()

    items = await ready_recordings(scene, call_id_of(caller), 2)
    by_kind = {r["kind"]: r for r in items}
    assert set(by_kind) == {"attendance", "consultation"}
    for r in items:
        assert r["call"] == call_id_of(caller) and r["queue"] == "rec" and r["protocol"] is None
        assert r["agent"] == agent.username  # type: ignore[attr-defined]
        assert r["size"] > 44
    # each lasts as the leg it records: the caller's attendance from the agent's answer to
    # the end; the agents' consultation from the target's answer to the transfer
    assert abs(by_kind["attendance"]["duration"] - (hung - answered)) <= 1.0, (by_kind, hung - answered)
    assert abs(by_kind["consultation"]["duration"] - (transferred - consult_answered)) <= 1.0, \
        (by_kind, transferred - consult_answered)
    for kind, r in by_kind.items():
        status, headers, data = await download(scene.root, f"/domains/{scene.domain}/recordings/{r['id']}/audio")
        assert status == 200 and headers["Content-Type"] == "audio/wav" and len(data) == r["size"]
        stats = sox_stat(data, tmp_path, f"{kind}.wav")
        assert stats["RMS     amplitude"] > 0.01, (kind, stats)  # the phones' tones, not silence
        assert abs(stats["Length (seconds)"] - r["duration"]) <= 0.1, (kind, stats, r)
