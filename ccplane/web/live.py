"""The live feed: ``GET /api/v1/domains/{d}/live`` upgrades to a websocket
that streams ``{"type", "at", "data"}`` events of that domain only.

A client first gets one ``snapshot`` message (the domain's agents, queues and
active calls), then every event. Each client has its own bounded queue and
sender: a browser that stops reading fills only its own queue, and is closed
(code 1013, "try again later") when that is full — it reconnects and gets a
fresh snapshot — so it can neither hold the event loop nor grow memory.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from aiohttp import WSCloseCode, web

from ..aio import cancel_and_wait
from ..errors import ApiError, Unauthorized
from ..features.domains.services import resolve_domain
from .context import Principal
from .keys import SERVICES

log = logging.getLogger("ccplane.live")

QUEUE_LIMIT = 1000  # messages waiting for one client before it is dropped as too slow
Snapshot = Callable[[str], dict[str, Any]]


class LiveScope(Protocol):
    """What one client may see of its domain's feed (a feature decides: e.g. a
    supervisor only the agents and queues of their monitoring groups)."""

    def snapshot(self, data: dict[str, Any]) -> dict[str, Any]: ...

    def allows(self, type_: str, data: dict[str, Any]) -> bool: ...


# (principal, domain id, slug) -> the client's scope, or None for the whole feed
ScopeOf = Callable[[Principal, int, str], Awaitable["LiveScope | None"]]


@dataclass(eq=False)
class _Client:
    ws: web.WebSocketResponse
    slug: str
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    task: asyncio.Task[None] | None = None
    dropped: bool = False
    scope: LiveScope | None = None


class LiveHub:
    def __init__(self) -> None:
        self._clients: dict[str, set[_Client]] = {}
        self.snapshot: Snapshot = lambda slug: {"agents": [], "queues": [], "calls": []}
        self.scope_of: ScopeOf | None = None
        self.dropped_clients = 0

    def clients(self, slug: str) -> int:
        return len(self._clients.get(slug, ()))

    def publish(self, slug: str, type_: str, data: dict[str, Any]) -> None:
        clients = self._clients.get(slug)
        if not clients:
            return
        message = json.dumps({"type": type_, "at": datetime.now(timezone.utc).isoformat(), "data": data})
        for client in list(clients):
            if client.scope is not None and not client.scope.allows(type_, data):
                continue
            try:
                client.queue.put_nowait(message)
            except asyncio.QueueFull:
                self._drop(client)

    def _drop(self, client: _Client) -> None:
        if client.dropped:
            return
        client.dropped = True
        self.dropped_clients += 1
        self._clients.get(client.slug, set()).discard(client)
        log.warning("live.client_too_slow dropped", extra={"domain": client.slug})
        if client.task is not None:
            client.task.cancel()
        asyncio.ensure_future(_close(client.ws, WSCloseCode.TRY_AGAIN_LATER, b"too slow: reconnect"))

    async def serve(self, slug: str, ws: web.WebSocketResponse, scope: LiveScope | None = None) -> None:
        client = _Client(ws, slug, scope=scope)
        data = self.snapshot(slug)
        if scope is not None:
            data = scope.snapshot(data)
        snapshot = {"type": "snapshot", "at": datetime.now(timezone.utc).isoformat(), "data": data}
        client.queue.put_nowait(json.dumps(snapshot))
        self._clients.setdefault(slug, set()).add(client)  # from here on no event is missed
        client.task = asyncio.create_task(self._send_loop(client), name="live-send")
        try:
            async for _msg in ws:  # the feed is one-way; read only to notice the close
                pass
        finally:
            self._clients.get(slug, set()).discard(client)
            await cancel_and_wait([client.task], "live sender", grace=1.0)

    @staticmethod
    async def _send_loop(client: _Client) -> None:
        while True:
            message = await client.queue.get()
            try:
                await client.ws.send_str(message)
            except (ConnectionError, RuntimeError):
                return  # the client went away; its handler cleans up

    async def close(self) -> None:
        clients = [c for cs in self._clients.values() for c in cs]
        self._clients = {}
        await cancel_and_wait([c.task for c in clients if c.task], "live feed sends", grace=1.0)
        for client in clients:
            await _close(client.ws, WSCloseCode.GOING_AWAY, b"server shutdown")


async def _close(ws: web.WebSocketResponse, code: int, message: bytes) -> None:
    with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):
        async with asyncio.timeout(2):  # a client that stopped reading must not hold us
            await ws.close(code=code, message=message)


def origin_allowed(request: web.Request) -> bool:
    """May the page that opened this websocket use the visitor's cookie? Browsers always send
    ``Origin`` on a websocket handshake, and a page of another site could otherwise open the
    feed with the visitor's session (cross-site websocket hijacking). Allowed: the site's own
    origin (the ``Host`` the request came to, or the ``X-Forwarded-Host`` a trusted proxy
    passed on, over http or https) or one of
    ``server.allowed_origins``. A client without ``Origin`` is not a browser page: no
    visitor's cookie can be ridden there."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    from .keys import SETTINGS
    settings = request.app.get(SETTINGS)
    hosts = {request.host.lower()}
    trusted = settings.server.trusted_proxies if settings is not None else "127.0.0.1,::1"
    forwarded = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip().lower()
    if forwarded and (request.remote or "") in {p.strip() for p in trusted.split(",") if p.strip()}:
        hosts.add(forwarded)  # the host the browser asked a trusted proxy for
    if any(origin in (f"http://{h}", f"https://{h}") for h in hosts):
        return True
    allowed = settings.server.allowed_origins if settings is not None else ""
    return origin in {o.strip().rstrip("/").lower() for o in allowed.split(",") if o.strip()}


def check_origin(request: web.Request) -> None:
    """403 for a cookie-authenticated websocket opened by another site's page."""
    if not origin_allowed(request):
        log.warning("live.origin_refused", extra={"origin": request.headers.get("Origin", "")[:200]})
        raise web.HTTPForbidden(text="origin not allowed")


async def live_feed(request: web.Request) -> web.StreamResponse:
    """The API's feed: a bearer token (header, or ``?access_token=``), never a cookie, so any
    Origin may open it — the token is not ambient authority another site could ride."""
    services = request.app[SERVICES]
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.query.get("access_token", "")
    try:
        if not token:
            raise Unauthorized("missing bearer token (header, or ?access_token= for browsers)")
        principal = await services.auth.principal(token)
        async with services.sessions() as s:
            domain = await resolve_domain(s, principal, request.match_info["domain"])
        hub: LiveHub = services.live
        scope = await hub.scope_of(principal, domain.id, domain.slug) if hub.scope_of is not None else None
    except ApiError as exc:
        return web.json_response(exc.to_json(), status=exc.status)
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    log.info("live.subscribed", extra={"domain": domain.slug, "user": principal.username})
    await services.live.serve(domain.slug, ws, scope)
    return ws
