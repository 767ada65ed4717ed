"""Call groups (ring groups of the PABX) on the real sandbox: a group reached
through an inbound route rings its extensions together and the journey says who
answered; a sequential group nobody answers sends the caller to its no-answer
destination; the call-group report counts both, from what the test did."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.support.api import assert_error
from tests.support.telephony import Scene
from tests.support.waiting import eventually


async def _ended(scene: Scene, call_id: str, timeout: float = 20) -> dict[str, Any]:
    async def ended() -> dict[str, Any] | None:
        status, body = await scene.root.call("GET", f"/domains/{scene.domain}/calls/{call_id}")
        return body if status == 200 and body["ended_at"] else None
    return await eventually(ended, timeout=timeout, what=f"journey {call_id} ended and stored")


async def _originate(scene: Scene, exten: str, context: str, caller: str) -> str:
    token = f"g{secrets.token_hex(6)}"
    await scene.services.ami.action({"Action": "Originate", "Channel": f"Local/{exten}@{context}",
                                     "Application": "Wait", "Data": "60", "CallerID": f"X <{caller}>",
                                     "Async": "true", "ChannelId": f"{token}-1", "OtherChannelId": f"{token}-2"})
    scene.callers.append(f"{token}-2")
    return f"{token}-1"


async def test_call_group_bad_input(scene: Scene) -> None:
    await scene.extension("8101")
    base = f"/domains/{scene.domain}/call-groups"
    ok = {"name": "recepcao", "number": "8100", "extensions": ["8101"]}
    for body, status, field in (({**ok, "extensions": ["8199"]}, 422, "extensions"),
                                ({**ok, "extensions": ["8101", "8101"]}, 422, "extensions"),
                                ({**ok, "number": "8101"}, 409, "number"),
                                ({**ok, "strategy": "random"}, 422, "strategy"),
                                ({**ok, "ring_timeout": 1}, 422, "ring_timeout"),
                                ({**ok, "no_answer": {"type": "callgroup", "target": "recepcao"}}, 422,
                                 "no_answer.target"),
                                ({**ok, "no_answer": {"type": "queue", "target": "nope"}}, 422, "no_answer.target")):
        got, out = await scene.root.call("POST", base, body)
        assert_error(got, out, status, field)
    assert (await scene.root.ok("GET", base))["total"] == 0, "a refused group was half-written"
    await scene.root.ok("POST", base, ok, 201)
    got, out = await scene.root.call("POST", base, {**ok, "number": "8102"})
    assert_error(got, out, 409, "name")
    got, out = await scene.root.call("POST", base, {**ok, "name": "outro"})
    assert_error(got, out, 409, "number")
    did = "55" + str(int(scene.domain[1:], 16) % 10**8).zfill(8)
    route = await scene.root.ok("POST", f"/domains/{scene.domain}/routes",  # API.md's spelling
                                {"did": did, "destination": {"type": "call_group", "target": "recepcao"}}, 201)
    assert route["destination"] == {"type": "call_group", "target": "recepcao"}
    alias = await scene.root.ok("POST", f"/domains/{scene.domain}/routes",  # the older one is taken too
                                {"did": did + "8", "destination": {"type": "callgroup", "target": "recepcao"}}, 201)
    assert alias["destination"] == {"type": "call_group", "target": "recepcao"}
    second = await scene.root.ok("POST", base, {"name": "fundos", "number": "8103", "extensions": ["8101"],
                                                "no_answer": {"type": "call_group", "target": "recepcao"}}, 201)
    assert second["no_answer"] == {"type": "call_group", "target": "recepcao"}
    got, out = await scene.root.call("DELETE", f"{base}/recepcao")
    assert_error(got, out, 409, "name")
    got, out = await scene.root.call("POST", f"/domains/{scene.domain}/routes",
                                     {"did": did + "9", "destination": {"type": "callgroup", "target": "nope"}})
    assert_error(got, out, 422, "destination.target")
    agent = await scene.root.new_user(scene.domain, "agent")
    got, out = await agent.call("POST", base, {**ok, "name": "x", "number": "8109"})
    assert got == 403, out


async def test_ringall_group_through_a_route_then_sequential_to_no_answer(scene: Scene) -> None:
    d = scene.domain
    await scene.extension("8201", phone="manual")  # rings, never answers
    await scene.extension("8202", phone="auto")
    await scene.extension("8203", phone="auto")   # the sequential group's no-answer destination
    await scene.root.ok("POST", f"/domains/{d}/call-groups",
                        {"name": "vendas", "number": "8200", "strategy": "ringall", "ring_timeout": 15,
                         "extensions": ["8201", "8202"]}, 201)
    await scene.root.ok("POST", f"/domains/{d}/call-groups",
                        {"name": "suporte", "number": "8210", "strategy": "sequential", "ring_timeout": 5,
                         "extensions": ["8201"], "no_answer": {"type": "extension", "target": "8203"}}, 201)
    out = await scene.services.ami.command(f"dialplan show {d}_vendas@ccplane-callgroups")
    assert f"PJSIP/{d}-8201&PJSIP/{d}-8202,15" in out, out
    did = "56" + str(int(d[1:], 16) % 10**8).zfill(8)
    await scene.root.ok("POST", f"/domains/{d}/routes",
                        {"did": did, "destination": {"type": "callgroup", "target": "vendas"}}, 201)
    t0 = datetime.now(timezone.utc) - timedelta(minutes=1)

    # 1. a carrier call to the DID: both extensions ring at once, 8202 answers
    first = await _originate(scene, did, "ccplane-inbound", "11987654321")
    await scene.recorder.wait_for("UserEvent", timeout=10, UserEvent="CcplaneCallGroup", Group="vendas")

    async def answered() -> bool:
        status, body = await scene.root.call("GET", f"/domains/{d}/calls/{first}")
        return status == 200 and body["answered_at"] is not None
    await eventually(answered, timeout=10, what="the group call answered")
    await scene.services.ami.action({"Action": "Hangup", "Channel": first})
    journey = await _ended(scene, first)
    assert journey["direction"] == "inbound" and journey["caller"] == "11987654321"
    group = [leg for leg in journey["legs"] if leg["kind"] == "callgroup"]
    assert len(group) == 1 and group[0]["result"] == "answered" and group[0]["extension"] == "8202", journey
    exts = {leg["extension"]: leg["result"] for leg in journey["legs"] if leg["kind"] == "extension"}
    assert exts["8202"] == "answered" and exts["8201"] != "answered", journey

    # 2. an extension dials the sequential group's number: nobody answers in 5 s -> 8203
    second = await _originate(scene, "8210", f"ccplane-d-{d}", "8202")

    async def reached_no_answer() -> bool:
        status, body = await scene.root.call("GET", f"/domains/{d}/calls/{second}")
        return status == 200 and any(leg["kind"] == "extension" and leg["extension"] == "8203"
                                     and leg["answered_at"] for leg in body["legs"])
    await eventually(reached_no_answer, timeout=15, what="the no-answer destination answered")
    await scene.services.ami.action({"Action": "Hangup", "Channel": second})
    journey = await _ended(scene, second)
    group = [leg for leg in journey["legs"] if leg["kind"] == "callgroup"]
    assert len(group) == 1 and group[0]["result"] == "no_answer", journey
    waited = datetime.fromisoformat(group[0]["ended_at"]) - datetime.fromisoformat(group[0]["started_at"])
    assert 4 <= waited.total_seconds() <= 7, waited

    # 3. the report counts what the test did
    q = f"from={t0.isoformat()}&to={(datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat()}"
    report = await scene.root.ok("GET", f"/domains/{d}/reports/call-group?{q.replace('+', '%2B')}")
    rows = {r["group"]: r for r in report["items"]}
    assert rows["vendas"]["received"] == 1 and rows["vendas"]["answered"] == 1, rows
    assert rows["vendas"]["answered_by"] == "8202:1" and rows["vendas"]["talk_total"] > 0, rows
    assert rows["suporte"]["received"] == 1 and rows["suporte"]["unanswered"] == 1, rows
    assert rows["suporte"]["answered"] == 0 and rows["suporte"]["answered_pct"] == 0.0, rows
