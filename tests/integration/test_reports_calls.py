"""Reports over real calls on the sandbox: answered by a baresip agent, abandoned
in queue, unanswered offers then overflowed on the queue's timeout, blacklisted,
and answered then blind-transferred by the agent through the API to another phone.
Expectations come from what the test did, not from ccplane's output."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from tests.integration.test_journeys import call_id_of, did_for, ended_journey
from tests.integration.test_transfers import target_answered
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
    await scene.extension("7401", phone="auto")
    await scene.extension("7402", phone="auto")  # the blind transfer's target
    await scene.queue("rt", strategy="ringall", ring_timeout=10, extensions=["7401"])
    dani = await scene.agent(["rt"], "7401")
    scene.services.ami.on_event(scene.recorder, names=("BlindTransfer", "DialEnd"))
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
    # answered by dani, who hands it blind to 7402 through the API; the caller hangs up there
    moved = await scene.call("rt", caller_id="1133330005")
    await scene.recorder.wait_for("AgentConnect", Uniqueid=moved, timeout=15)
    status, body = await dani.call("POST", f"/domains/{scene.domain}/calls/{call_id_of(moved)}/transfer",
                                   {"mode": "blind", "to": "7402"})
    assert status == 202, body
    [(_, bt)] = await scene.recorder.wait_for("BlindTransfer", timeout=10)
    assert bt.fields.get("Result") == "Success"
    await target_answered(scene, "7402")
    await scene.hangup(moved)
    ids = [call_id_of(answered), call_id_of(abandoned), call_id_of(overflowed), blocked.outer, call_id_of(moved)]
    for call in ids:
        await ended_journey(scene, call, timeout=40)

    period = (f"from={start.isoformat().replace('+', '%2B')}"
              f"&to={(start + timedelta(hours=1)).isoformat().replace('+', '%2B')}&short_abandon=0")
    base = f"/domains/{scene.domain}/reports"
    qn = (await scene.root.ok("GET", f"{base}/quantitative?{period}"))["items"][0]
    # five calls: two answered (ra's, and rt's that was transferred), one each abandoned/overflowed/blacklisted
    assert (qn["total"], qn["answered"], qn["abandoned"], qn["overflowed"], qn["blacklisted"], qn["transferred"]) \
        == (5, 2, 1, 1, 1, 1)
    by_queue = {r["queue"]: r for r in (await scene.root.ok("GET", f"{base}/listing?{period}"))["items"]}
    assert (by_queue["ra"]["answered"], by_queue["rb"]["abandoned"], by_queue["rc"]["overflowed"]) == (1, 1, 1)
    assert (by_queue["rt"]["answered"], by_queue["rt"]["transferred"], by_queue["ra"]["transferred"]) == (1, 1, 0)
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
    row = next(r for r in rows if r["call"] == call_id_of(moved))
    [leg] = [leg for leg in row["legs"] if leg["kind"] == "transfer"]  # the one blind transfer dani made
    assert (leg["result"], leg["number"], leg["agent"]) == ("blind", "7402", dani.username)  # type: ignore[attr-defined]
    assert row["transfers"] == f"blind:{leg['detail']}" and leg["detail"].startswith("7402@")
    assert [leg["agent"] for leg in row["legs"] if leg["kind"] == "agent"][:1] == [dani.username]  # type: ignore[attr-defined]
    assert not any(r["transfers"] for r in rows if r["call"] != call_id_of(moved))
