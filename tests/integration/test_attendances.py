"""Protocols and qualification on the real sandbox: an agent (baresip) answers a
queue call, is told the protocol on the live feed as the call connects, finds
it on the call and in the attendances list, and qualifies it; the rules on who
may qualify and with what."""
from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType

from ccplane.features.attendances.services import allocate
from ccplane.features.domains.models import Domain
from tests.support.api import assert_error
from tests.support.telephony import Scene
from tests.support.waiting import eventually


def call_id_of(caller_uid: str) -> str:
    return caller_uid.rsplit("-", 1)[0] + "-1"


async def next_event(ws: Any, kind: str, timeout: float = 10) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        while True:
            msg = await ws.receive(timeout=timeout)
            assert msg.type == WSMsgType.TEXT, msg
            event = msg.json()
            if event["type"] == kind:
                return dict(event["data"])
    return await asyncio.wait_for(read(), timeout)


async def test_protocol_on_connect_then_qualification(scene: Scene, app_client: Any, other_domain: str) -> None:
    await scene.extension("7401", phone="auto")
    await scene.queue("qa", ring_timeout=5, extensions=["7401"], dispositions=["sale", "no-sale", "callback"])
    agent = await scene.agent(["qa"], "7401")
    other_agent = await scene.root.new_user(scene.domain, "agent")
    supervisor = await scene.root.new_user(scene.domain, "supervisor")
    stranger = await scene.root.new_user(other_domain, "admin")
    ws = await app_client.ws_connect(f"/api/v1/domains/{scene.domain}/live?access_token={agent.token}")
    try:
        assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        caller = await scene.call("qa", caller_id="1144445555")
        started = await next_event(ws, "attendance.started")
    finally:
        await ws.close()
    protocol = started["protocol"]
    assert re.fullmatch(r"\d{8}\d{6}", protocol), protocol
    assert started["agent"] == agent.username and started["queue"] == "qa"  # type: ignore[attr-defined]
    assert started["call"] == call_id_of(caller)
    active = await agent.ok("GET", f"/domains/{scene.domain}/calls")
    assert [c["protocol"] for c in active["items"]] == [protocol]
    await scene.hangup(caller)

    async def closed() -> dict[str, Any] | None:
        page = await agent.ok("GET", f"/domains/{scene.domain}/attendances?protocol={protocol}")
        return page["items"][0] if page["total"] == 1 and page["items"][0]["ended_at"] else None
    row = await eventually(closed, timeout=10, what="attendance closed")
    assert row["talk_time"] is not None and row["talk_time"] >= 0 and row["disposition"] is None
    async def stored() -> dict[str, Any] | None:
        status, body = await scene.root.call("GET", f"/domains/{scene.domain}/calls/{call_id_of(caller)}")
        return body if status == 200 and body["ended_at"] else None
    call = await eventually(stored, timeout=10, what="journey stored")
    assert call["protocols"] == [protocol] and call["protocol"] == protocol

    url = f"/domains/{scene.domain}/attendances/{protocol}/qualification"
    status, body = await agent.call("PUT", url, {"disposition": "maybe", "description": "x"})
    assert status == 422 and body["error"]["field"] == "disposition", body
    status, body = await agent.call("PUT", url, {"description": "no disposition"})
    assert status == 422 and body["error"]["field"] == "disposition", body
    status, body = await other_agent.call("PUT", url, {"disposition": "sale"})
    assert status == 403, body
    status, body = await stranger.call("PUT", f"/domains/{scene.domain}/attendances/{protocol}/qualification",
                                       {"disposition": "sale"})
    assert status == 404, body
    status, body = await agent.call("PUT", f"/domains/{scene.domain}/attendances/19990101000001/qualification",
                                    {"disposition": "sale"})
    assert status == 404, body
    unchanged = await agent.ok("GET", f"/domains/{scene.domain}/attendances?protocol={protocol}")
    assert unchanged["items"][0]["disposition"] is None  # nothing half-written by the refusals
    done = await agent.ok("PUT", url, {"disposition": "sale", "description": "Plano anual"})
    assert (done["disposition"], done["description"], done["qualified_by"]) == (
        "sale", "Plano anual", agent.username)  # type: ignore[attr-defined]
    again = await supervisor.ok("PUT", url, {"disposition": "callback"})
    assert again["qualified_by"] == supervisor.username  # type: ignore[attr-defined]

    # filters: agent, queue, period; an agent sees only their own
    mine = await agent.ok("GET", f"/domains/{scene.domain}/attendances?queue=qa")
    assert [a["protocol"] for a in mine["items"]] == [protocol] and mine["total"] == 1
    theirs = await other_agent.ok("GET", f"/domains/{scene.domain}/attendances")
    assert theirs == {"items": [], "total": 0}
    by_agent = await supervisor.ok("GET", f"/domains/{scene.domain}/attendances?agent={agent.username}")  # type: ignore[attr-defined]
    assert by_agent["total"] == 1
    later = await supervisor.ok("GET", f"/domains/{scene.domain}/attendances?from=2999-01-01T00:00:00Z")
    assert later["total"] == 0
    status, body = await supervisor.call("GET", f"/domains/{scene.domain}/attendances?from=yesterday")
    assert status in (400, 422) and body["error"]["field"] == "from", body
    assert (await stranger.call("GET", f"/domains/{scene.domain}/attendances"))[0] == 404


async def test_protocols_allocated_concurrently_are_unique_and_in_order(services: Any, domain: str) -> None:
    from sqlalchemy import select
    async with services.sessions() as s:
        domain_id = await s.scalar(select(Domain.id).where(Domain.slug == domain))

    async def one() -> str:
        async with services.sessions() as s:
            protocol = await allocate(s, domain_id, "20261206")
            await s.commit()
            return protocol
    got = await asyncio.gather(*(one() for _ in range(40)))
    assert sorted(got) == [f"20261206{n:06d}" for n in range(1, 41)]
    async with services.sessions() as s:  # another day starts again at 1
        assert await allocate(s, domain_id, "20261207") == "20261207000001"
        await s.commit()


async def test_the_protocol_day_is_the_domains_day(scene: Scene) -> None:
    """A domain's time zone sets its protocols' day: of two zones 25 hours apart
    one is never on UTC's date, and the protocol carries that zone's date."""
    now = datetime.now(UTC)
    zone = "Pacific/Kiritimati" if now.hour >= 10 else "Pacific/Pago_Pago"  # UTC+14 / UTC-11
    local_day = now.astimezone(ZoneInfo(zone)).strftime("%Y%m%d")
    assert local_day != now.strftime("%Y%m%d")
    status, body = await scene.root.call("PATCH", f"/domains/{scene.domain}", {"timezone": "Mars/Olympus"})
    assert_error(status, body, 422, "timezone")
    changed = await scene.root.ok("PATCH", f"/domains/{scene.domain}", {"timezone": zone})
    assert changed["timezone"] == zone
    await scene.extension("7402", phone="auto")
    await scene.queue("tz", ring_timeout=5, extensions=["7402"])
    agent = await scene.agent(["tz"], "7402")
    caller = await scene.call("tz")

    async def protocol() -> str | None:
        page = await agent.ok("GET", f"/domains/{scene.domain}/attendances")
        return str(page["items"][0]["protocol"]) if page["total"] else None
    got = await eventually(protocol, timeout=10, what="the attendance's protocol")
    await scene.hangup(caller)
    if datetime.now(UTC).astimezone(ZoneInfo(zone)).strftime("%Y%m%d") == local_day:  # not across a midnight
        assert got.startswith(local_day), (got, zone)
