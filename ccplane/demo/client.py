"""A small client of ccplane's own HTTP API (the demo provisions and drives
everything through it, as an integrator would)."""
from __future__ import annotations

from typing import Any

import aiohttp


class ApiError(Exception):
    def __init__(self, status: int, body: Any, what: str) -> None:
        super().__init__(f"{what} -> {status} {body!r}")
        self.status, self.body = status, body


class Api:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str | None = None) -> None:
        self.session, self.base_url, self.token = session, base_url.rstrip("/"), token

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.request(method, self.base_url + "/api/v1" + path, json=body,
                                        headers=headers) as resp:
            data = await resp.json() if resp.content_type == "application/json" else await resp.read()
            return resp.status, data

    async def ok(self, method: str, path: str, body: Any = None, *, expect: tuple[int, ...] = (200, 201, 204)) -> Any:
        status, data = await self.call(method, path, body)
        if status not in expect:
            raise ApiError(status, data, f"{method} {path}")
        return data

    async def login(self, username: str, password: str) -> "Api":
        data = await Api(self.session, self.base_url).ok("POST", "/auth/token",
                                                          {"username": username, "password": password})
        return Api(self.session, self.base_url, str(data["access_token"]))

    async def ensure(self, collection: str, key: str, body: dict[str, Any], *, method: str = "PATCH") -> Any:
        """Create ``body`` in ``collection``; if it exists (409), update it to ``body``."""
        status, data = await self.call("POST", collection, body)
        if status == 201:
            return data
        if status != 409:
            raise ApiError(status, data, f"POST {collection}")
        update = {k: v for k, v in body.items() if k != key}
        return await self.ok(method, f"{collection}/{body[key]}", update)
