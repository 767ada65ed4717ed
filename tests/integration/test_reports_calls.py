"""Reports over real calls on the sandbox: answered by a baresip agent, abandoned
in queue, unanswered offers then overflowed on the queue's timeout, blacklisted.
Expectations come from what the test did, not from ccplane's output."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from tests.integration.test_journeys import call_id_of, did_for, ended_journey
from tests.support.ivr import Caller
from tests.support.telephony import Scene


async def test_reports_of_real_calls(scene: Scene) -> None:
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    await scene.extension("7101", phone="auto")
    await scene.extension("7201", phone="manual")  # rings, never answers
    await scene.extension("7301", phone="manual")
    await scene.extension("7399")  # the overflow destination (no phone)
    await scene.queue("ra", strategy="ringall", ring_timeout=5, extensions=["7101"])
    await scene.queue("rb", strategy="ringall", ring_timeout=10, extensions=["7201"])
    await scene.queue("rc", strategy="linear", ring_timeout=2, retry=1, max_wait=4, extensions=["7301"],
                      overflow={"type": "extension", "target": "7399"})
    ana = await scene.agent(["ra"], "7101")
    bia = await scene.agent(["rb"], "7201")
    caio = await scene.agent(["rc"], "7301")
    did = did_for(scene, "5513")
    await scene.root.ok("POST", f"/domains/{scene.domain}/routes",
                        {"did": did, "destination": {"type": "queue", "target": "ra"}}, 201)
    await scene.root.ok("POST", f"/domains/{scene.domain}/blacklist", {"number": "11955554444"}, 201)

    answered = await scene.call("ra", caller_id="1133330001")
    await scene.recorder.wait_for("AgentConnect", Uniqueid=answered, timeout=10)
    abandoned = await scene.call("rb", caller_id="1133330002")
    await scene.recorder.wait_for("AgentCalled", Uniqueid=abandoned, timeout=10)
    overflowed = await scene.call("rc", caller_id="1133330003")
    await asyncio.sleep(1)  # the conversation and the abandoned caller's wait
    await scene.hangup(answered)
    await scene.hangup(abandoned)
    blocked = await Caller(scene.services, scene.recorder, did, caller_id="11955554444").dial()
    ids = [call_id_of(answered), call_id_of(abandoned), call_id_of(overflowed), blocked.outer]
    for call in ids:
        await ended_journey(scene, call, timeout=40)

    period = (f"from={start.isoformat().replace('+', '%2B')}"
              f"&to={(start + timedelta(hours=1)).isoformat().replace('+', '%2B')}&short_abandon=0")
    base = f"/domains/{scene.domain}/reports"
    qn = (await scene.root.ok("GET", f"{base}/quantitative?{period}"))["items"][0]
    assert (qn["total"], qn["answered"], qn["abandoned"], qn["overflowed"], qn["blacklisted"]) == (4, 1, 1, 1, 1)
    by_queue = {r["queue"]: r for r in (await scene.root.ok("GET", f"{base}/listing?{period}"))["items"]}
    assert (by_queue["ra"]["answered"], by_queue["rb"]["abandoned"], by_queue["rc"]["overflowed"]) == (1, 1, 1)
    ab = (await scene.root.ok("GET", f"{base}/abandoned?{period}"))["items"]
    assert [a["call"] for a in ab] == [call_id_of(abandoned)]  # not the overflowed timeout
    act = {r["agent"]: r for r in (await scene.root.ok("GET", f"{base}/agent-activity?{period}"))["items"]}
    assert act[ana.username]["calls"] == 1  # type: ignore[attr-defined]
    assert act[bia.username]["offers"] >= 1 and act[bia.username]["offers_unanswered"] == 0  # type: ignore[attr-defined]
    assert act[caio.username]["offers_no_answer"] >= 1 and act[caio.username]["calls"] == 0  # type: ignore[attr-defined]
    rows = []
    page = await scene.root.ok("GET", f"{base}/detailed?{period}&limit=2")
    rows += page["items"]
    while page["next"]:
        page = await scene.root.ok("GET", f"{base}/detailed?{period}&limit=2&after={page['next']}")
        rows += page["items"]
    assert sorted(r["call"] for r in rows) == sorted(ids)
