"""The live websocket: agent.state and queue events, one domain only."""
from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import WSMsgType

from tests.support.telephony import Scene


async def next_event(ws: Any, type_: str, timeout: float = 5, **data: Any) -> dict[str, Any]:
    async def find() -> dict[str, Any]:
        while True:
            msg = await ws.receive()
            assert msg.type == WSMsgType.TEXT, msg
            event = msg.json()
            if event["type"] == type_ and all(event["data"].get(k) == v for k, v in data.items()):
                return event
    return await asyncio.wait_for(find(), timeout)


async def test_live_feed_streams_agent_and_queue_events(scene: Scene, app_client: Any, other_domain: str) -> None:
    await scene.extension("5001", phone="auto")
    await scene.queue("live", strategy="ringall", ring_timeout=3, extensions=["5001"])
    headers = {"Authorization": f"Bearer {scene.root.token}"}
    ws = await app_client.ws_connect(f"/api/v1/domains/{scene.domain}/live", headers=headers)
    other = await app_client.ws_connect(f"/api/v1/domains/{other_domain}/live?access_token={scene.root.token}")
    try:
        for sock in (ws, other):  # each socket starts with its own domain's snapshot
            first = await next_event(sock, "snapshot")
            assert set(first["data"]) == {"agents", "queues", "calls", "service_levels"}
        agent = await scene.agent(["live"], "5001")
        event = await next_event(ws, "agent.state", username=agent.username)  # type: ignore[attr-defined]
        assert event["data"]["state"] == "available" and event["at"]
        await agent.ok("POST", f"/domains/{scene.domain}/agents/{agent.username}/pause",  # type: ignore[attr-defined]
                       {"reason": "meeting"})
        event = await next_event(ws, "agent.state", state="paused")
        assert event["data"]["pause_reason"] == "meeting"
        await scene.call("live", caller_id="1133334444")
        event = await next_event(ws, "queue.caller_joined", queue="live")
        assert event["data"]["caller"] == "1133334444"
        # nothing of this domain reached the other domain's feed
        try:
            msg = await asyncio.wait_for(other.receive(), 0.5)
            raise AssertionError(f"other domain received {msg!r}")
        except asyncio.TimeoutError:
            pass
    finally:
        await ws.close()
        await other.close()


async def test_live_feed_needs_a_token_of_the_domain(scene: Scene, app_client: Any, other_domain: str) -> None:
    resp = await app_client.get(f"/api/v1/domains/{scene.domain}/live")
    assert resp.status == 401
    admin = await scene.root.new_user(other_domain, "admin")
    resp = await app_client.get(f"/api/v1/domains/{scene.domain}/live?access_token={admin.token}")
    assert resp.status == 404 and (await resp.json())["error"]["field"] == "domain"
