"""Issue 13, the supervisor panel's feed: the service level over a sliding 24 h is one
server-side figure per domain and queue, pushed as ``queue.service_level`` (a call older
than the window leaves it while the panel stays open), and the call quality a WebRTC
phone reports is pushed as ``call.quality`` — both scoped by monitoring group, and the
server's work does not grow with the number of panels open."""
from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
from sqlalchemy import event, select

from ccplane.features.calls.models import CallRecord
from ccplane.features.domains.models import Domain
from tests.integration.conftest import scene  # noqa: F401 - the real-sandbox Scene fixture
from tests.integration.test_web_pages import _login
from tests.support.api import ApiCaller
from tests.support.waiting import eventually


async def _user(root: ApiCaller, domain: str, role: str, **extra: Any) -> tuple[str, str]:
    username, password = f"{role[:2]}{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users", {"username": username, "name": f"{role.title()} Teste",
                                                       "role": role, "password": password, **extra}, 201)
    return username, password


async def _next(ws: Any, match: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
    """The next message of the feed that ``match``es (others are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            msg = json.loads((await ws.receive()).data)
            if match(msg):
                return msg


async def _quiet(ws: Any, match: Callable[[dict[str, Any]], bool], seconds: float) -> list[dict[str, Any]]:
    """The messages matching ``match`` within ``seconds`` (expected: none)."""
    seen: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                msg = json.loads((await ws.receive()).data)
                if match(msg):
                    seen.append(msg)
    except TimeoutError:
        pass
    return seen


async def _calls(services: Any, slug: str, now: datetime,
                 rows: list[tuple[str, float, float | None, str | None, str | None]]) -> None:
    """Journeys as the calls feature writes them: (queue, age in minutes, wait, answered or the end
    reason, agent)."""
    async with services.sessions() as s:
        domain_id = await s.scalar(select(Domain.id).where(Domain.slug == slug))
        for queue, age, wait, outcome, agent in rows:
            started = now - timedelta(minutes=age)
            s.add(CallRecord(domain_id=domain_id, call_id=f"sl-{secrets.token_hex(6)}", direction="inbound",
                             status="ended", state="ended", queue=queue, agent=agent, started_at=started,
                             answered_at=started + timedelta(seconds=wait or 0) if outcome == "answered" else None,
                             ended_at=started + timedelta(minutes=1), wait_seconds=wait,
                             end_reason="hangup" if outcome == "answered" else outcome, source="live"))
        await s.commit()


def _browser(app_client: Any) -> aiohttp.ClientSession:
    """Another browser: its own cookies (session), the same server."""
    return aiohttp.ClientSession(base_url=str(app_client.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True))


def _recent(html: str) -> dict[str, Any]:
    m = re.search(r"window\.RECENT_AGENTS = (\{.*?\});", html)
    assert m, html[:2000]
    return dict(json.loads(m.group(1)))


def _figures(html: str) -> dict[str, Any]:
    m = re.search(r"window\.FIGURES = (\{.*?\});", html)
    assert m, html[:2000]
    return dict(json.loads(m.group(1)))


async def test_the_service_level_window_slides_on_the_server_for_every_panel(
        app_client: Any, root: ApiCaller, domain: str, services: Any) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "suporte"}, 201)
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "vendas"}, 201)
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "g-suporte", "queues": ["suporte"]}, 201)
    sv_user, sv_pass = await _user(root, domain, "supervisor", monitoring_groups=["g-suporte"])
    ad_user, ad_pass = await _user(root, domain, "admin")
    window = services.service_levels
    now = datetime.now(timezone.utc)
    offset = timedelta(0)
    window.clock = lambda: datetime.now(timezone.utc) + offset  # the test moves the panel's clock
    await _calls(services, domain, now, [
        ("suporte", 23 * 60 + 50, 8, "answered", "ana"),  # within the target, leaves the window in 10 minutes
        ("suporte", 60, 45, "answered", "bia"),           # answered late: counts, not within
        ("suporte", 120, 35, "abandon", None),            # abandoned after the target: counts
        ("suporte", 90, 5, "abandon", None),              # abandoned before the target: does not count
        ("suporte", 25 * 60, 3, "answered", "caio"),      # older than the window already
        ("vendas", 23 * 60 + 55, 4, "answered", "bia"),   # another group's queue, also leaving
        ("vendas", 30, 6, "answered", "davi")])

    # the supervisor's page and feed: their group's queue only
    assert (await _login(app_client, sv_user, sv_pass)).status == 302
    before = window.computations
    html = await (await app_client.get("/supervisor")).text()
    assert _figures(html) == {"suporte": {"within": 1, "counted": 3}}
    # who took calls of the supervisor's queues in the window: listed as logged out (none is logged in)
    assert _recent(html) == {"ana": ["suporte"], "bia": ["suporte"]}
    sv_feeds = [await app_client.ws_connect("/live") for _ in range(3)]
    snapshot = await _next(sv_feeds[0], lambda m: m["type"] == "snapshot")
    assert [(f["queue"], f["within"], f["counted"], f["window"]) for f in snapshot["data"]["service_levels"]] == [
        ("suporte", 1, 3, 86400)]
    # an administrator (another browser) sees every queue, from the same computation
    admin = _browser(app_client)
    assert (await _login(admin, ad_user, ad_pass)).status == 302
    html = await (await admin.get("/supervisor")).text()
    assert _figures(html) == {"suporte": {"within": 1, "counted": 3}, "vendas": {"within": 2, "counted": 2}}
    assert _recent(html) == {"ana": ["suporte"], "bia": ["suporte", "vendas"], "davi": ["vendas"]}
    ad_feed = await admin.ws_connect("/live")
    await _next(ad_feed, lambda m: m["type"] == "snapshot")
    assert window.computations - before <= 1  # two pages, four feeds: at most one query

    # a quarter of an hour later, with the panels left open: the oldest calls leave the figures
    await window.stop()
    window.interval = 0.3
    await window.start()
    offset = timedelta(minutes=15)
    for ws in sv_feeds:
        got = await _next(ws, lambda m: m["type"] == "queue.service_level")
        assert (got["data"]["queue"], got["data"]["within"], got["data"]["counted"]) == ("suporte", 0, 2)
    seen = {}
    while len(seen) < 2:
        got = await _next(ad_feed, lambda m: m["type"] == "queue.service_level")
        seen[got["data"]["queue"]] = (got["data"]["within"], got["data"]["counted"])
    assert seen == {"suporte": (0, 2), "vendas": (1, 1)}
    # nothing changes any more: nothing more is sent, and the vendas figure never reached the supervisor
    assert await _quiet(sv_feeds[0], lambda m: m["type"] == "queue.service_level", 1.0) == []
    computed = window.computations
    await asyncio.sleep(1.0)
    rounds = window.computations - computed
    assert 1 <= rounds <= 5, rounds  # one query per round for the domain, whatever the feeds open
    html = await (await app_client.get("/supervisor")).text()
    assert _figures(html) == {"suporte": {"within": 0, "counted": 2}}
    assert _recent(html) == {"bia": ["suporte"]}  # ana's call left the window
    for ws in [*sv_feeds, ad_feed]:
        await ws.close()
    await admin.close()


async def test_call_quality_is_pushed_on_the_feed_at_the_same_cost_for_any_number_of_panels(
        app_client: Any, root: ApiCaller, services: Any, scene: Any) -> None:  # noqa: F811
    domain = scene.domain
    await scene.extension("7651", phone="auto")
    await scene.queue("suporte", extensions=["7651"])
    await scene.queue("vendas")
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "g-suporte", "queues": ["suporte"]}, 201)
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "g-vendas", "queues": ["vendas"]}, 201)
    sv_user, sv_pass = await _user(root, domain, "supervisor", monitoring_groups=["g-suporte"])
    other_user, other_pass = await _user(root, domain, "supervisor", monitoring_groups=["g-vendas"])
    agent = await scene.agent(["suporte"], "7651")
    username = agent.username  # type: ignore[attr-defined]
    caller = await scene.call("suporte", caller_id="11955556666")

    async def answered() -> bool:
        items = (await root.ok("GET", f"/domains/{domain}/calls"))["items"]
        return any(c.get("agent") == username and c.get("answered_at") for c in items)
    await eventually(answered, timeout=15, what="the agent's phone answered")
    call_id = next(c["id"] for c in (await root.ok("GET", f"/domains/{domain}/calls"))["items"]
                   if c.get("agent") == username)
    assert (await _login(app_client, sv_user, sv_pass)).status == 302
    other = _browser(app_client)
    assert (await _login(other, other_user, other_pass)).status == 302
    other_feed = await other.ws_connect("/live")
    await _next(other_feed, lambda m: m["type"] == "snapshot")

    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1
    engine = services.engine.sync_engine
    reads = 0
    real = services.webrtc.for_call

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return await real(*args, **kwargs)
    services.webrtc.for_call = counted
    event.listen(engine, "before_cursor_execute", count)
    costs: dict[int, int] = {}
    status, body = await agent.call("POST", f"/domains/{domain}/agents/{username}/call-quality",
                                    {"call": call_id, "packets_sent": 300, "packets_received": 290,
                                     "packets_lost": 5, "jitter_ms": 9, "rtt_ms": 40})
    assert status == 200, body  # the leg's row exists: both measured reports update it
    try:
        for panels, lost in ((1, 10), (12, 20)):
            feeds = [await app_client.ws_connect("/live") for _ in range(panels)]
            for ws in feeds:
                await _next(ws, lambda m: m["type"] == "snapshot")
            statements = 0
            status, body = await agent.call("POST", f"/domains/{domain}/agents/{username}/call-quality",
                                            {"call": call_id, "packets_sent": 900, "packets_received": 880,
                                             "packets_lost": lost, "jitter_ms": 12.5, "rtt_ms": 40})
            assert status == 200, body
            for ws in feeds:  # every panel is told, without asking
                got = await _next(ws, lambda m: m["type"] == "call.quality")
                data = got["data"]
                assert (data["id"], data["agent"], data["queue"], data["packets_lost"]) == (
                    call_id, username, "suporte", lost)
                assert data["mos"] == body["mos"] and data["jitter_ms"] == 12.5
            costs[panels] = statements
            for ws in feeds:
                await ws.close()
    finally:
        event.remove(engine, "before_cursor_execute", count)
        services.webrtc.for_call = real
    assert reads == 0  # no panel asked for the figures
    assert costs[1] == costs[12] and costs[1] > 0, costs  # the report's own queries, however many panels
    # the supervisor of another group's queue is not told about this call
    assert await _quiet(other_feed, lambda m: m["type"] == "call.quality", 1.0) == []
    await other_feed.close()
    await other.close()
    await scene.hangup(caller)
