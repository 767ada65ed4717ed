"""AriClient against a small, real, local aiohttp server that speaks enough ARI.

Covers what the real Asterisk cannot be made to do on demand: being absent,
dropping the websocket, going half-open, answering slowly or with errors.
"""
from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from ccplane.asterisk.ari import AriClient, AriEvent
from ccplane.errors import AriError

USER, PASSWORD = "tester", "s3cret"


class FakeAri:
    """Just enough of ARI: /ari/events, /ari/asterisk/info and a few test routes."""

    def __init__(self) -> None:
        self.sockets: list[web.WebSocketResponse] = []
        self.connects = 0
        self.event_queries: list[dict[str, str]] = []
        self.info_fails = False
        self.app = web.Application()
        self.app.router.add_get("/ari/events", self.events)
        self.app.router.add_get("/ari/asterisk/info", self.info)
        self.app.router.add_route("*", "/ari/echo", self.echo)
        self.app.router.add_delete("/ari/channels/gone", self.no_content)
        self.app.router.add_get("/ari/slow", self.slow)
        self.app.router.add_get("/ari/boom", self.boom)
        self.app.router.add_get("/ari/recording", self.recording)

    def authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == aiohttp.encode_basic_auth(USER, PASSWORD)

    async def events(self, request: web.Request) -> web.StreamResponse:
        if not self.authorised(request):
            return web.json_response({"message": "Authentication required"}, status=401)
        self.event_queries.append(dict(request.query))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connects += 1
        self.sockets.append(ws)
        async for _ in ws:
            pass
        return ws

    async def info(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return web.json_response({"message": "Authentication required"}, status=401)
        if self.info_fails:
            return web.json_response({"message": "nope"}, status=500)
        return web.json_response({"system": {"version": "22.10.1", "entity_id": "x"}})

    async def echo(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return web.json_response({"message": "Authentication required"}, status=401)
        body = await request.json() if request.can_read_body else None
        return web.json_response(
            {"method": request.method, "query": dict(request.query), "body": body}
        )

    async def no_content(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    async def boom(self, request: web.Request) -> web.Response:
        return web.json_response({"message": "Internal failure"}, status=500)

    async def recording(self, request: web.Request) -> web.Response:
        return web.Response(body=b"RIFF....", content_type="audio/wav")

    async def push(self, event: dict[str, Any]) -> None:
        for ws in self.sockets:
            if not ws.closed:
                await ws.send_str(json.dumps(event))

    async def drop_all(self) -> None:
        for ws in self.sockets:
            await ws.close()


def _reserved_socket() -> socket.socket:
    """A bound but not listening socket: connects to it are refused until listen()."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


async def _serve(app: web.Application, sock: socket.socket) -> web.AppRunner:
    sock.listen(16)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner


async def _eventually(predicate: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def _ari_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("ari-") and not t.done()]


class Proxy:
    """A TCP relay whose current connections can be frozen (half-open link)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.frozen: set[int] = set()
        self.live: set[int] = set()
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self._next_id = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    def freeze_current(self) -> None:
        self.frozen |= self.live

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        conn = self._next_id
        self._next_id += 1
        self.live.add(conn)
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self.writers |= {client_w, up_w}
        try:
            await asyncio.gather(self._pump(conn, client_r, up_w), self._pump(conn, up_r, client_w))
        finally:
            self.live.discard(conn)
            for writer in (client_w, up_w):
                writer.close()

    async def _pump(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if conn not in self.frozen:  # a frozen link swallows everything
                    writer.write(data)
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in self.writers:
            writer.close()  # ends every pump with EOF, so no relay is left running
        await _eventually(lambda: not self.live)


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeAri, str]]:
    server = FakeAri()
    sock = _reserved_socket()
    runner = await _serve(server.app, sock)
    yield server, f"http://127.0.0.1:{sock.getsockname()[1]}"
    await runner.cleanup()


def _client(url: str, password: str = PASSWORD, **kwargs: Any) -> AriClient:
    kwargs.setdefault("reconnect_max_delay", 0.4)
    kwargs.setdefault("timeout", 1.0)
    return AriClient(url, USER, password, "ccplane", **kwargs)


async def test_keeps_retrying_until_a_server_appears() -> None:
    server = FakeAri()
    sock = _reserved_socket()
    client = _client(f"http://127.0.0.1:{sock.getsockname()[1]}")
    connects: list[bool] = []

    async def on_connect() -> None:
        connects.append(client.connected)

    client.on_connect(on_connect)
    await client.start()  # returns at once although nothing listens
    with pytest.raises(asyncio.TimeoutError):
        await client.wait_connected(1.2)  # enough for 0.2+0.4+0.4 s of retries
    assert client.connected is False and client.asterisk_version is None

    runner = await _serve(server.app, sock)
    try:
        await client.wait_connected(3)
        assert client.connected is True
        assert client.asterisk_version == "22.10.1"
        await _eventually(lambda: connects == [True])
        assert server.event_queries == [{"app": "ccplane", "subscribeAll": "false"}]
    finally:
        await client.stop()
        await runner.cleanup()
    assert client.connected is False
    assert _ari_tasks() == []


async def test_server_side_close_reconnects_and_resyncs(fake: tuple[FakeAri, str]) -> None:
    server, url = fake
    client = _client(url)
    calls: list[str] = []
    events: list[AriEvent] = []

    async def on_connect() -> None:
        calls.append("connect")

    async def on_disconnect() -> None:
        calls.append("disconnect")

    async def on_any(event: AriEvent) -> None:
        events.append(event)

    client.on_connect(on_connect)
    client.on_disconnect(on_disconnect)
    client.on_event("*", on_any)
    await client.start()
    try:
        await client.wait_connected(3)
        await _eventually(lambda: calls == ["connect"])
        await server.drop_all()
        await _eventually(lambda: calls == ["connect", "disconnect", "connect"])
        assert client.connected is True and server.connects == 2
        await server.push({"type": "StasisStart", "channel": {"id": "c1"}})
        await _eventually(lambda: [e.channel_id for e in events] == ["c1"])
    finally:
        await client.stop()
    assert calls == ["connect", "disconnect", "connect"]  # stop() is not a loss
    assert _ari_tasks() == []


async def test_half_open_link_is_noticed_by_heartbeat(fake: tuple[FakeAri, str]) -> None:
    server, url = fake
    proxy = Proxy(int(url.rsplit(":", 1)[1]))
    proxy_port = await proxy.start()
    client = _client(f"http://127.0.0.1:{proxy_port}", heartbeat=0.6)
    lost = asyncio.Event()

    async def on_disconnect() -> None:
        lost.set()

    client.on_disconnect(on_disconnect)
    await client.start()
    try:
        await client.wait_connected(3)
        proxy.freeze_current()  # the link stays open but nothing crosses it any more
        await asyncio.wait_for(lost.wait(), 3)
        await client.wait_connected(3)  # through a new, healthy proxy connection
        assert server.connects == 2
    finally:
        await client.stop()
        await proxy.close()
    assert _ari_tasks() == []


async def test_slow_handler_does_not_block_the_reader(fake: tuple[FakeAri, str]) -> None:
    server, url = fake
    client = _client(url)
    seen: list[str] = []
    stuck = asyncio.Event()

    async def slow(event: AriEvent) -> None:
        stuck.set()
        await asyncio.sleep(3600)

    async def fast(event: AriEvent) -> None:
        seen.append(event.data["digit"])

    client.on_event("StasisStart", slow)
    client.on_event("ChannelDtmfReceived", fast)
    await client.start()
    try:
        await client.wait_connected(3)
        await server.push({"type": "StasisStart", "channel": {"id": "c1"}})
        await asyncio.wait_for(stuck.wait(), 3)
        for digit in "12#":
            await server.push({"type": "ChannelDtmfReceived", "digit": digit, "channel": {"id": "c1"}})
        await _eventually(lambda: seen == ["1", "2", "#"])
    finally:
        await client.stop()  # cancels the stuck handler
    assert _ari_tasks() == []


async def test_failing_handlers_and_hooks_are_logged_not_fatal(
    fake: tuple[FakeAri, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, url = fake
    client = _client(url)
    seen: list[str] = []

    async def bad_hook() -> None:
        raise RuntimeError("resync failed")

    async def bad_handler(event: AriEvent) -> None:
        raise RuntimeError("handler bug")

    async def good_handler(event: AriEvent) -> None:
        seen.append(event.type)

    client.on_connect(bad_hook)
    client.on_event("ChannelHangupRequest", bad_handler)
    client.on_event("*", good_handler)
    caplog.set_level(logging.WARNING, logger="ccplane.ari")
    await client.start()
    try:
        await client.wait_connected(3)
        await server.push({"type": "ChannelHangupRequest", "channel": {"id": "c1"}})
        await server.push({"no": "type"})  # junk is dropped, not fatal
        await server.push({"type": "StasisEnd", "channel": {"id": "c1"}})
        await _eventually(lambda: seen == ["ChannelHangupRequest", "StasisEnd"])
        assert client.connected is True and server.connects == 1
    finally:
        await client.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert any("on_connect hook" in m and "bad_hook" in m for m in messages)
    assert any("failed on ChannelHangupRequest (channel c1)" in m for m in messages)
    assert any("undecodable event" in m for m in messages)


async def test_info_failure_still_connects(fake: tuple[FakeAri, str]) -> None:
    server, url = fake
    server.info_fails = True
    client = _client(url)
    await client.start()
    try:
        await client.wait_connected(3)
        assert client.connected is True and client.asterisk_version is None
    finally:
        await client.stop()


async def test_wrong_password_never_connects(fake: tuple[FakeAri, str]) -> None:
    server, url = fake
    client = _client(url, password="wrong")
    await client.start()
    try:
        with pytest.raises(asyncio.TimeoutError):
            await client.wait_connected(0.8)
        with pytest.raises(AriError) as info:
            await client.get("/echo")
        assert info.value.status == 401 and not info.value.retriable
        assert str(info.value) == "GET /echo: 401 Authentication required"
    finally:
        await client.stop()
    assert server.connects == 0


async def test_rest_calls(fake: tuple[FakeAri, str]) -> None:
    _, url = fake
    client = _client(url)  # REST works without start()
    try:
        reply = await client.post("/echo", json={"variables": {"A": "1"}}, early=True, n=3, off=False)
        assert reply == {
            "method": "POST",
            "query": {"early": "true", "n": "3", "off": "false"},
            "body": {"variables": {"A": "1"}},
        }
        assert (await client.put("/echo"))["method"] == "PUT"
        assert (await client.get("/echo", x=None))["query"] == {}
        assert await client.delete("/channels/gone") is None
        assert await client.get("/recording") == b"RIFF...."

        with pytest.raises(AriError) as info:
            await client.get("/no/such/route")
        assert info.value.status == 404 and not info.value.retriable
        assert str(info.value).startswith("GET /no/such/route: 404 ")

        with pytest.raises(AriError) as info:
            await client.get("/boom")
        assert str(info.value) == "GET /boom: 500 Internal failure"
        assert info.value.status == 500 and info.value.retriable

        with pytest.raises(AriError) as info:
            await client.get("/slow")
        assert info.value.status is None and info.value.retriable
        assert "timed out" in str(info.value)
    finally:
        await client.stop()
    with pytest.raises(AriError):
        await client.get("/echo")  # a stopped client refuses work


async def test_connection_refused_is_retriable() -> None:
    sock = _reserved_socket()
    client = _client(f"http://127.0.0.1:{sock.getsockname()[1]}")
    try:
        with pytest.raises(AriError) as info:
            await client.get("/channels")
        assert info.value.status is None and info.value.retriable
        assert str(info.value).startswith("GET /channels: ")
    finally:
        await client.stop()
        sock.close()
