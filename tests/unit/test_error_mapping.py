"""The error middleware maps database refusals to the client's errors: an
integrity error is a 409 with a message, never 503 "database unavailable"."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from ccplane.errors import TooManyRequests
from ccplane.web.middlewares import error_middleware


class _Orig(Exception):
    pass


async def _client(aiohttp_client: Any, exc: Exception) -> Any:
    async def boom(request: web.Request) -> web.Response:
        raise exc
    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/boom", boom)
    return await aiohttp_client(app)


async def test_integrity_error_is_409(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, IntegrityError("INSERT ...", {}, _Orig("FOREIGN KEY constraint failed")))
    resp = await client.get("/boom")
    assert resp.status == 409
    assert (await resp.json())["error"]["code"] == "conflict"


async def test_data_error_is_422(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, DataError("INSERT ...", {}, _Orig("value too long")))
    resp = await client.get("/boom")
    assert resp.status == 422


async def test_an_outage_is_still_503(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, OperationalError("SELECT 1", {}, _Orig("connection refused")))
    resp = await client.get("/boom")
    assert resp.status == 503


async def test_429_carries_retry_after(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, TooManyRequests("slow down", retry_after=2.2))
    resp = await client.get("/boom")
    assert resp.status == 429 and resp.headers["Retry-After"] == "3"
