"""queue_log stays readable by the tools people already use: after a scripted stretch
of work (answered calls, a pause with a reason, a max-no-answer pause, wrap-ups),
every line of the test's queues and agents names the agent one way (its username),
each pause is logged once, and per-agent totals parsed from queue_log the way
QueueMetrics-style parsers read it equal ccplane's own agent-activity report."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ccplane.asterisk.sandbox import SandboxState
from tests.support.telephony import Scene
from tests.support.waiting import eventually


def parse(lines: list[str], agents: set[str]) -> dict[str, dict[str, Any]]:
    """Per agent: calls (CONNECT), talk seconds (COMPLETE*), pause seconds by reason
    (PAUSE/PAUSEALL .. UNPAUSE/UNPAUSEALL, queue-wide lines only, as the tools pair them)."""
    out: dict[str, dict[str, Any]] = {a: {"calls": 0, "talk": 0, "pauses": {}, "pause_lines": 0} for a in agents}
    open_pause: dict[str, tuple[int, str]] = {}
    for line in lines:
        t, _call, queue, agent, verb, *data = line.split("|")
        if agent not in out:
            continue
        o = out[agent]
        if verb == "CONNECT":
            o["calls"] += 1
        elif verb in ("COMPLETECALLER", "COMPLETEAGENT"):
            o["talk"] += int(data[1])
        elif verb == "PAUSEALL":
            o["pause_lines"] += 1
            if agent in open_pause:  # a new reason closes the previous pause
                since, reason = open_pause.pop(agent)
                o["pauses"][reason] = o["pauses"].get(reason, 0) + int(t) - since
            open_pause[agent] = (int(t), data[0] if data else "")
        elif verb == "UNPAUSEALL" and agent in open_pause:
            since, reason = open_pause.pop(agent)
            o["pauses"][reason] = o["pauses"].get(reason, 0) + int(t) - since
    return out


async def test_queue_log_names_each_agent_once_and_adds_up_to_the_report(scene: Scene,
                                                                          sandbox: SandboxState) -> None:
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    await scene.extension("7961", phone="auto")
    await scene.extension("7962", phone="manual")  # rings out: max-no-answer pauses it
    await scene.queue("qla", strategy="ringall", ring_timeout=3, wrapup_time=1, extensions=["7961"])
    await scene.queue("qlb", strategy="ringall", ring_timeout=2, retry=1, max_no_answer=1, extensions=["7962"])
    ana = await scene.agent(["qla"], "7961")
    bia = await scene.agent(["qlb"], "7962")
    names = {ana.username, bia.username}  # type: ignore[attr-defined]
    me = f"/domains/{scene.domain}/agents/{ana.username}"  # type: ignore[attr-defined]

    async def state(agent: Any, wanted: str) -> bool:
        return bool((await scene.agent_state(agent))["state"] == wanted)
    for _ in range(2):  # two answered calls, each with its wrap-up
        caller = await scene.call("qla")
        await scene.recorder.wait_for("AgentConnect", Uniqueid=caller, timeout=10)
        await asyncio.sleep(1.2)
        await scene.hangup(caller)
        await eventually(lambda: state(ana, "available"), timeout=8, what="wrap-up over")
    await ana.ok("POST", me + "/pause", {"reason": "treinamento"})
    await asyncio.sleep(2.2)
    await ana.ok("POST", me + "/unpause")
    missed = await scene.call("qlb")  # bia's phone never answers: one ring-out, then paused
    await eventually(lambda: state(bia, "paused"), timeout=10, what="max-no-answer pause")
    await scene.hangup(missed)
    await bia.ok("POST", f"/domains/{scene.domain}/agents/{bia.username}/unpause")  # type: ignore[attr-defined]
    for agent in (ana, bia):
        await agent.ok("DELETE", f"/domains/{scene.domain}/agents/{agent.username}/session", status=204)  # type: ignore[attr-defined]

    queue_log = Path(sandbox.config_dir).parent / "log" / "queue_log"
    queues = {scene.qname("qla"), scene.qname("qlb")}

    async def ours() -> list[str] | None:
        lines = [ln for ln in queue_log.read_text(errors="replace").splitlines()
                 if len(ln.split("|")) > 4 and (ln.split("|")[2] in queues or ln.split("|")[3] in names)]
        return lines if any("|REMOVEMEMBER|" in ln and bia.username in ln for ln in lines) else None  # type: ignore[attr-defined]
    lines = await eventually(ours, timeout=10, what="the test's lines in queue_log")

    # one agent field: every line of our queues names an agent by username (or NONE)
    fields = {ln.split("|")[3] for ln in lines if ln.split("|")[2] in queues}
    assert fields <= names | {"NONE"}, fields
    parsed = parse(lines, names)
    # the max-no-answer pause is logged once (Asterisk's member pause), not a second time by ccplane
    mna = [ln for ln in lines if ln.split("|")[3] == bia.username and "max-no-answer" in ln  # type: ignore[attr-defined]
           and ln.split("|")[2] == "NONE"]
    assert len(mna) == 1, mna

    period = (f"from={start.isoformat().replace('+', '%2B')}"
              f"&to={(start + timedelta(hours=1)).isoformat().replace('+', '%2B')}")

    async def report() -> dict[str, Any] | None:
        items = (await scene.root.ok("GET", f"/domains/{scene.domain}/reports/agent-activity?{period}"))["items"]
        rows = {r["agent"]: r for r in items if r["agent"] in names}
        done = len(rows) == 2 and rows[ana.username]["calls"] == 2 and \
            rows[bia.username]["max_no_answer_pauses"] == 1  # type: ignore[attr-defined]
        return rows if done else None
    rows = await eventually(report, timeout=10, what="the agent-activity report")
    a, b = rows[ana.username], rows[bia.username]  # type: ignore[attr-defined]
    pa, pb = parsed[ana.username], parsed[bia.username]  # type: ignore[attr-defined]
    assert pa["calls"] == a["calls"] == 2 and pb["calls"] == b["calls"] == 0
    assert abs(pa["talk"] - a["talk_total"]) <= 2, (pa, a)  # queue_log has whole seconds, one rounding per call
    # pauses by reason: queue_log's whole seconds against the report's spans
    assert abs(pa["pauses"]["treinamento"] - a["pauses"]["treinamento"]) <= 1, (pa, a)
    # the wrap-up hold is taken at the answer (so no call is offered at the hangup): its pause
    # code "wrapup" spans the call and the wrap-up that follows
    assert abs(pa["pauses"]["wrapup"] - (a["in_call_total"] + a["wrapup_total"])) <= 2, (pa, a)
    assert abs(pb["pauses"]["max-no-answer"] - b["pauses"]["max-no-answer"]) <= 1, (pb, b)
