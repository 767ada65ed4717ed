"""The abandoned list's position: each caller's place in line when it joined the queue,
as Asterisk told it (QueueCallerJoin), kept on the journey and shown in the report."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from tests.support.telephony import Scene
from tests.support.waiting import eventually


async def test_abandoned_callers_keep_their_place_in_line(scene: Scene) -> None:
    d = scene.domain
    await scene.extension("7401", phone="manual")  # rings and is never answered: everyone waits
    await scene.queue("fila", strategy="ringall", ring_timeout=30, extensions=["7401"])
    await scene.agent(["fila"], "7401")
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    callers = [await scene.call("fila", caller_id=f"119888800{i:02d}") for i in range(1, 4)]
    joined = [int(e.fields["Position"]) for uid in callers
              for _, e in scene.recorder.matching("QueueCallerJoin", Uniqueid=uid)]
    assert joined == [1, 2, 3]
    for uid in reversed(callers):  # the last in line gives up first
        await scene.hangup(uid)
    period = "from={}&to={}".format(*(t.isoformat().replace("+", "%2B") for t in (start, start + timedelta(hours=1))))

    async def listed() -> list[dict[str, Any]] | None:
        items = (await scene.root.ok("GET", f"/domains/{d}/reports/abandoned?{period}"))["items"]
        return items if len(items) == 3 else None
    items = await eventually(listed, timeout=15, what="three abandoned calls in the report")
    assert sorted((a["caller"], a["position"]) for a in items) == [
        ("11988880001", 1), ("11988880002", 2), ("11988880003", 3)]
    csv = await scene.root.client.get(f"/api/v1/domains/{d}/reports/abandoned?{period}&format=csv",
                                      headers={"Authorization": f"Bearer {scene.root.token}"})
    lines = (await csv.read()).decode("utf-8-sig").splitlines()
    sep = ";" if any(line.count(";") > line.count(",") for line in lines) else ","
    header = next(line.split(sep) for line in lines if "position" in line.split(sep))
    row = next(line.split(sep) for line in lines if "11988880003" in line)
    assert row[header.index("position")] == "3", (header, row)
