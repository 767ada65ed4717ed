"""The live feed: ``GET /api/v1/domains/{d}/live`` upgrades to a websocket
that streams ``{"type", "at", "data"}`` events of that domain only."""
from __future__ import annotations

import asyncio
import logging
import weakref
from datetime import datetime, timezone
from typing import Any

from aiohttp import WSCloseCode, web

from ..aio import cancel_and_wait
from ..errors import ApiError, Unauthorized
from ..features.domains.services import resolve_domain
from .keys import SERVICES

log = logging.getLogger("ccplane.live")


class LiveHub:
    def __init__(self) -> None:
        self._subscribers: dict[str, weakref.WeakSet[web.WebSocketResponse]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def subscribe(self, slug: str, ws: web.WebSocketResponse) -> None:
        self._subscribers.setdefault(slug, weakref.WeakSet()).add(ws)

    def publish(self, slug: str, type_: str, data: dict[str, Any]) -> None:
        subs = self._subscribers.get(slug)
        if not subs:
            return
        message = {"type": type_, "at": datetime.now(timezone.utc).isoformat(), "data": data}
        for ws in list(subs):
            if not ws.closed:
                task = asyncio.ensure_future(self._send(ws, message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _send(ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
        try:
            await ws.send_json(message)
        except (ConnectionError, RuntimeError):
            pass  # the client went away; its handler cleans up

    async def close(self) -> None:
        await cancel_and_wait(list(self._tasks), "live feed sends", grace=1.0)
        for subs in self._subscribers.values():
            for ws in list(subs):
                try:  # a client that stopped reading must not hold the shutdown
                    async with asyncio.timeout(2):
                        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
                except (TimeoutError, ConnectionError, RuntimeError):
                    pass


async def live_feed(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.query.get("access_token", "")
    try:
        if not token:
            raise Unauthorized("missing bearer token (header, or ?access_token= for browsers)")
        principal = await services.auth.principal(token)
        async with services.sessions() as s:
            domain = await resolve_domain(s, principal, request.match_info["domain"])
    except ApiError as exc:
        return web.json_response(exc.to_json(), status=exc.status)
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    services.live.subscribe(domain.slug, ws)
    log.info("live.subscribed", extra={"domain": domain.slug, "user": principal.username})
    async for _msg in ws:  # the feed is one-way; read only to notice the close
        pass
    return ws
