"""Reports over stored journeys: a set of journeys whose figures the test knows
(computed here from what it stored, not from ccplane), read through the API in
every format. The journeys are written as the journey store writes them (this
test does not place real calls: see the report for that gap)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from typing import Any

import openpyxl
from sqlalchemy import select

from ccplane.features.calls.models import CallLeg, CallRecord
from ccplane.features.domains.models import Domain
from tests.support.api import ApiCaller

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)  # 09:00 in America/Sao_Paulo


def _call(n: int, start: timedelta, end_reason: str, *, wait: float | None, talk: float | None,
          queue: str | None = "q1",
          agent: str | None = None, caller: str = "11999990000", direction: str = "inbound") -> dict[str, Any]:
    s = T0 + start
    answered = s + timedelta(seconds=wait or 0) if talk is not None else None
    end = (answered + timedelta(seconds=talk)) if answered and talk is not None else s + timedelta(seconds=wait or 1)
    return dict(call_id=f"rep-{n}-{id(start)}", direction=direction, status="ended", state="ended", caller=caller,
                did="3000" if direction == "inbound" else None, queue=queue, agent=agent, started_at=s,
                answered_at=answered, ended_at=end, end_reason=end_reason, wait_seconds=wait, talk_seconds=talk)


async def test_reports_figures(services: Any, root: ApiCaller, domain: str) -> None:
    calls = [  # (call, legs) -- the scenario
        (_call(1, timedelta(0), "caller_hangup", wait=8, talk=60, agent="ana"),
         [("queue", None, "answered", 0, 8), ("offer", "bia", "no_answer", 0, 4), ("offer", "ana", "answered", 4, 8),
          ("agent", "ana", "caller", 8, 68)]),
        (_call(2, timedelta(minutes=5), "agent_hangup", wait=30, talk=40, agent="bia"),
         [("queue", None, "answered", 0, 30), ("offer", "bia", "answered", 25, 30), ("agent", "bia", "agent", 30, 70)]),
        (_call(3, timedelta(hours=1), "abandon", wait=45, talk=None, caller="11988887777"),
         [("queue", None, "abandon", 0, 45), ("offer", "ana", "lost", 10, 45)]),
        (_call(4, timedelta(hours=1, minutes=1), "abandon", wait=3, talk=None),  # a short abandon
         [("queue", None, "abandon", 0, 3)]),
        (_call(5, timedelta(hours=2), "overflow", wait=20, talk=None),
         [("queue", None, "timeout", 0, 20)]),
        (_call(6, timedelta(hours=2, minutes=1), "blacklist", wait=None, talk=None, queue=None), []),
        (_call(7, timedelta(hours=3), "callee_hangup", wait=None, talk=30, queue=None, direction="internal",
               caller="2001"),
         [("extension", None, "answered", 0, 30)]),
        # reaches 11988887777 back later (answered): call 3 is marked reached_back
        (_call(8, timedelta(hours=4), "caller_hangup", wait=2, talk=10, agent="ana", caller="11988887777"),
         [("queue", None, "answered", 0, 2), ("offer", "ana", "answered", 0, 2), ("agent", "ana", "caller", 2, 12)]),
    ]
    async with services.sessions() as s:
        dom = await s.scalar(select(Domain).where(Domain.slug == domain))
        for record, legs in calls:
            # as the journey store keeps them: the offer legs' ring time summed, a transfer leg or not
            rings = [b - a for kind, _, _, a, b in legs if kind == "offer"]
            row = CallRecord(domain_id=dom.id, source="live", ring_seconds=float(sum(rings)) if rings else None,
                             transferred=any(kind == "transfer" for kind, *_ in legs), **record)
            s.add(row)
            await s.flush()
            for seq, (kind, agent, result, a, b) in enumerate(legs):
                st = record["started_at"] + timedelta(seconds=a)
                s.add(CallLeg(call_pk=row.id, seq=seq, kind=kind, agent=agent,
                              queue="q1" if kind != "extension" else None,
                              started_at=st, ended_at=record["started_at"] + timedelta(seconds=b), result=result,
                              answered_at=st if kind == "agent" or (kind == "extension" and result == "answered")
                              else None))
        await s.commit()
    period = f"from={T0.isoformat().replace('+', '%2B')}&to={(T0 + timedelta(days=1)).isoformat().replace('+', '%2B')}"
    base = f"/domains/{domain}/reports"

    qn = (await root.ok("GET", f"{base}/quantitative?{period}"))["items"][0]
    assert (qn["total"], qn["answered"], qn["unanswered"], qn["abandoned"], qn["short_abandoned"], qn["overflowed"],
            qn["blacklisted"]) == (8, 4, 4, 2, 1, 1, 1)
    assert (qn["abandoned_0_10"], qn["abandoned_30_60"]) == (1, 1)
    assert qn["answered_pct"] == 50.0
    # the same instants written in São Paulo's offset select the same calls (SQLite stores UTC text)
    brt = timezone(timedelta(hours=-3))
    local = (f"from={T0.astimezone(brt).isoformat().replace('+', '%2B')}"
             f"&to={(T0 + timedelta(hours=2)).astimezone(brt).isoformat().replace('+', '%2B')}")
    assert (await root.ok("GET", f"{base}/quantitative?{local}"))["items"][0]["total"] == 4  # calls 1-4

    sm = (await root.ok("GET", f"{base}/summary?{period}&service_level=20"))["items"][0]
    # queued waits 8, 30, 45, 3, 20, 2; answered-with-queue waits 8, 30, 2; short abandon (3 s) not counted
    assert sm["wait_max"] == 45 and sm["wait_avg"] == round((8 + 30 + 45 + 3 + 20 + 2) / 6, 3)
    assert sm["asa"] == round((8 + 30 + 2) / 3, 3)
    assert sm["talk_total"] == 140 and sm["talk_max"] == 60
    assert sm["abandoned"] == 1 and sm["abandon_rate_pct"] == round(100 * 1 / 5, 2)
    # within 20 s: calls 1, 7 (no wait), 8 = 3 of answered 4 + abandoned after 20 s 1
    assert sm["answered_within_sl"] == 3 and sm["service_level_pct"] == round(100 * 3 / 5, 2)
    assert sm["ring_avg"] == round((8 + 5 + 35 + 2) / 4, 3)  # offer time per call that had offers (1, 2, 3, 8)

    hours = (await root.ok("GET", f"{base}/quantitative?{period}&group_by=hour"))["items"]
    assert [(h["hour"], h["total"]) for h in hours] == [("2026-03-02 09:00", 2), ("2026-03-02 10:00", 2),
                                                       ("2026-03-02 11:00", 2), ("2026-03-02 12:00", 1),
                                                       ("2026-03-02 13:00", 1)]
    # the domain's own zone buckets them when the query names none (Manaus: UTC-4, an hour before São Paulo)
    await root.ok("PATCH", f"/domains/{domain}", {"timezone": "America/Manaus"})
    manaus = await root.ok("GET", f"{base}/quantitative?{period}&group_by=hour")
    assert manaus["header"]["timezone"] == "America/Manaus"
    assert [h["hour"] for h in manaus["items"]][:2] == ["2026-03-02 08:00", "2026-03-02 09:00"]
    named = await root.ok("GET", f"{base}/quantitative?{period}&group_by=hour&timezone=America/Sao_Paulo")
    assert named["header"]["timezone"] == "America/Sao_Paulo" and named["items"] == hours
    await root.ok("PATCH", f"/domains/{domain}", {"timezone": "America/Sao_Paulo"})
    agent_rows = (await root.ok("GET", f"{base}/summary?{period}&group_by=agent"))["items"]
    assert [r["agent"] for r in agent_rows] == ["ana", "bia", None]  # no agent last, on either database
    by_agent = {r["agent"]: r for r in agent_rows}
    assert by_agent["ana"]["total"] == 2 and by_agent["bia"]["talk_total"] == 40

    listing = (await root.ok("GET", f"{base}/listing?{period}&queues=q1"))["items"]
    assert len(listing) == 1 and listing[0]["queue"] == "q1" and listing[0]["total"] == 6

    ab = (await root.ok("GET", f"{base}/abandoned?{period}"))["items"]
    assert [(a["caller"], a["wait"], a["short"], a["reached_back"]) for a in ab] == [
        ("11988887777", 45, False, True), ("11999990000", 3, True, False)]  # no overflow in the list

    act = {r["agent"]: r for r in (await root.ok("GET", f"{base}/agent-activity?{period}"))["items"]}
    assert (act["ana"]["offers"], act["ana"]["offers_unanswered"], act["ana"]["calls"], act["ana"]["talk_total"]) \
        == (3, 0, 2, 70)
    assert (act["bia"]["offers"], act["bia"]["offers_no_answer"], act["bia"]["calls"]) == (2, 1, 1)

    page = await root.ok("GET", f"{base}/detailed?{period}&limit=3")
    seen = [r["call"] for r in page["items"]]
    while page["next"]:
        page = await root.ok("GET", f"{base}/detailed?{period}&limit=3&after={page['next']}")
        seen += [r["call"] for r in page["items"]]
    assert seen == [c["call_id"] for c, _ in calls]
    # call 1's attendance (qualified) and its recording: protocol, qualification and audio link
    from ccplane.features.attendances.models import Attendance
    from ccplane.features.recordings.models import Recording
    async with services.sessions() as s:
        dom = await s.scalar(select(Domain).where(Domain.slug == domain))
        c1 = calls[0][0]
        s.add(Attendance(domain_id=dom.id, protocol="20260302000001", call_id=c1["call_id"], agent="ana",
                         queue="q1", started_at=c1["answered_at"], disposition="venda"))
        s.add(Recording(domain_id=dom.id, file=f"rep-{domain}.wav", kind="attendance", call_id=c1["call_id"],
                        status="ready", started_at=c1["answered_at"]))
        c2 = calls[1][0]  # call 2: two attendances, the later one not qualified
        s.add(Attendance(domain_id=dom.id, protocol="20260302000003", call_id=c2["call_id"], agent="bia",
                         queue="q1", started_at=c2["answered_at"] + timedelta(seconds=5)))
        s.add(Attendance(domain_id=dom.id, protocol="20260302000002", call_id=c2["call_id"], agent="bia",
                         queue="q1", started_at=c2["answered_at"], disposition="duvida"))
        await s.commit()
        rec_id = await s.scalar(select(Recording.id).where(Recording.call_id == c1["call_id"]))
    first = (await root.ok("GET", f"{base}/detailed?{period}&limit=1"))["items"][0]
    assert first["agents_tried"] == "bia:no_answer ana:answered" and len(first["legs"]) == 4
    assert first["protocols"] == "20260302000001" and first["qualification"] == "20260302000001:venda"
    assert first["recordings"] == f"/api/v1/domains/{domain}/recordings/{rec_id}/audio"

    # a caller name a spreadsheet would run as a formula: quoted in the export, as given in JSON
    from sqlalchemy import update
    async with services.sessions() as s:
        await s.execute(update(CallRecord).where(CallRecord.call_id == c1["call_id"])
                        .values(caller_name="=HYPERLINK(1)"))
        await s.commit()
    assert (await root.ok("GET", f"{base}/detailed?{period}&limit=1"))["items"][0]["caller_name"] == "=HYPERLINK(1)"
    status, body = await root.call("GET", f"{base}/detailed?{period}&format=csv")
    assert status == 200 and body[:3] == b"\xef\xbb\xbf"
    lines = list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))
    assert lines[0] == ["report", "detailed"] and lines[1] == ["domain", domain] and lines[6][0] == "timezone"
    assert lines[8][0] == "call" and len(lines) == 9 + len(calls)
    assert lines[9][lines[8].index("caller_name")] == "'=HYPERLINK(1)"
    assert lines[9][lines[8].index("transfers")] == "" and lines[9][lines[8].index("wait")] == "8.0"
    # every exported row is the JSON row's flat columns (one statement per page, formatted apart)
    items = (await root.ok("GET", f"{base}/detailed?{period}&limit=100"))["items"]
    assert items[1]["protocols"] == "20260302000002 20260302000003"  # in time order
    assert items[1]["qualification"] == "20260302000002:duvida" and items[1]["recordings"] is None
    assert lines[9:] == [["" if r[c] is None else "'" + r[c] if c == "caller_name" and r[c][0] == "=" else str(r[c])
                          for c in lines[8]] for r in items]

    status, body = await root.call("GET", f"{base}/detailed?{period}&format=xlsx")
    assert status == 200
    rows_x = [list(r) for r in openpyxl.load_workbook(io.BytesIO(body), read_only=True).active.iter_rows(values_only=True)]
    head_x = rows_x[8]
    assert head_x[0] == "call" and len(rows_x) == 9 + len(calls)
    assert rows_x[9][head_x.index("wait")] == 8 and isinstance(rows_x[9][head_x.index("talk")], (int, float))
    assert rows_x[9][head_x.index("caller_name")] == "'=HYPERLINK(1)"

    status, body = await root.call("GET", f"{base}/summary?{period}&group_by=queue&format=xlsx")
    assert status == 200
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:2] == ("report", "summary")[:2] or values[0][:2] == ["report", "summary"]
    head = values[8]
    q1 = next(r for r in values[9:] if r[0] == "q1")
    assert isinstance(q1[head.index("total")], (int, float)) and q1[head.index("total")] == 6

    agent = await root.new_user(domain, "agent")
    status, _ = await agent.call("GET", f"{base}/summary?{period}")
    assert status == 403
    status, err = await root.call("GET", f"{base}/nonsense?{period}")
    assert status == 404 and err["error"]["field"] == "kind"
    status, err = await root.call("GET", f"{base}/summary?{period}&timezone=Mars/Base")
    assert status == 422 and err["error"]["field"] == "timezone"
