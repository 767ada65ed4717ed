"""A small API client for tests: bearer token, JSON in/out, status checks."""
from __future__ import annotations

import secrets
from typing import Any

from aiohttp.test_utils import TestClient


class ApiCaller:
    def __init__(self, client: TestClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    async def call(self, method: str, path: str, json: Any = None, *, raw: bytes | None = None,
                   token: str | None = None) -> tuple[int, Any]:
        headers = {}
        tok = token if token is not None else self.token
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        kwargs: dict[str, Any] = {"headers": headers}
        if raw is not None:
            kwargs["data"] = raw
            headers["Content-Type"] = "application/json"
        elif json is not None:
            kwargs["json"] = json
        resp = await self.client.request(method, "/api/v1" + path, **kwargs)
        body = await resp.json() if resp.content_type == "application/json" else await resp.read()
        return resp.status, body

    async def ok(self, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        got, body = await self.call(method, path, json)
        assert got == status, f"{method} {path} -> {got} {body!r}"
        return body

    async def login(self, username: str, password: str) -> "ApiCaller":
        status, body = await self.call("POST", "/auth/token", {"username": username, "password": password})
        assert status == 200, body
        return ApiCaller(self.client, body["access_token"])

    async def new_user(self, domain: str, role: str, password: str = "s3cret-pass") -> "ApiCaller":
        username = f"{role}-{secrets.token_hex(4)}"
        await self.ok("POST", f"/domains/{domain}/users",
                      {"username": username, "name": role.title(), "role": role, "password": password}, 201)
        caller = await self.login(username, password)
        caller.username = username  # type: ignore[attr-defined]
        return caller


def assert_error(status: int, body: Any, expected_status: int, field: str | None = "__any__") -> None:
    assert status == expected_status, f"expected {expected_status}, got {status}: {body!r}"
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "field"}, err
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"]
    if field != "__any__":
        assert err["field"] == field, err
