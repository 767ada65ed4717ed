"""A domain's live websocket feed, read in the background for the whole test:
every event kept in order, with waiters (an event is never lost because the
test was waiting for another one when it arrived)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType

from tests.support.waiting import eventually

Match = Callable[[dict[str, Any]], bool]


class LiveFeed:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []  # (type, data), in the order they came
        self.stamps: list[str] = []  # each event's "at", as sent

    def of(self, kind: str, match: Match | None = None) -> list[dict[str, Any]]:
        return [d for t, d in self.events if t == kind and (match is None or match(d))]

    def timed(self, kind: str, match: Match | None = None) -> list[tuple[datetime, dict[str, Any]]]:
        """(when the event was published, its data)."""
        return [(datetime.fromisoformat(at), d) for (t, d), at in zip(self.events, self.stamps)
                if t == kind and (match is None or match(d))]

    def kinds(self, prefix: str) -> list[str]:
        return [t for t, _ in self.events if t.startswith(prefix)]

    async def wait_for(self, kind: str, match: Match | None = None, *, count: int = 1,
                       timeout: float = 15) -> list[dict[str, Any]]:
        async def seen() -> list[dict[str, Any]] | None:
            found = self.of(kind, match)
            return found if len(found) >= count else None
        return await eventually(seen, timeout=timeout, interval=0.05, what=f"{count}x {kind} on the live feed",
                                details=lambda: str([t for t, _ in self.events][-30:]))


@asynccontextmanager
async def live_feed(client: Any, domain: str, token: str) -> AsyncIterator[LiveFeed]:
    """``client``: the test's aiohttp client of the app; ``token``: whose feed it is."""
    ws = await client.ws_connect(f"/api/v1/domains/{domain}/live?access_token={token}")
    first = await ws.receive_json(timeout=10)
    assert first["type"] == "snapshot", first
    feed = LiveFeed()

    async def read() -> None:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            event = msg.json()
            feed.stamps.append(str(event.get("at")))
            feed.events.append((str(event["type"]), dict(event.get("data") or {})))
    task = asyncio.create_task(read())
    try:
        yield feed
    finally:
        task.cancel()
        await ws.close()
        try:
            await task
        except (asyncio.CancelledError, Exception):  # noqa: BLE001 - closed with the test
            pass
