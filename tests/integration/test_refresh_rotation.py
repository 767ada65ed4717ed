"""Issue 9 item 6: refresh tokens rotate; a reused one revokes its whole login."""
from __future__ import annotations

import asyncio
from typing import Any

from tests.support.api import ApiCaller, assert_error


async def _login(root: ApiCaller, username: str, password: str) -> dict[str, Any]:
    got, pair = await root.call("POST", "/auth/token", {"username": username, "password": password})
    assert got == 200, pair
    return pair


async def test_refresh_rotates_and_ends_the_previous_access_token(root: ApiCaller, domain: str) -> None:
    admin = await root.new_user(domain, "admin", password="right-password")
    first = await _login(root, admin.username, "right-password")
    got, second = await root.call("POST", "/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert got == 200 and second["refresh_token"] != first["refresh_token"]
    got, body = await root.call("GET", f"/domains/{domain}", token=first["access_token"])
    assert_error(got, body, 401)  # replaced by the refresh
    got, _ = await root.call("GET", f"/domains/{domain}", token=second["access_token"])
    assert got == 200
    got, third = await root.call("POST", "/auth/refresh", {"refresh_token": second["refresh_token"]})
    assert got == 200
    got, _ = await root.call("GET", f"/domains/{domain}", token=third["access_token"])
    assert got == 200


async def test_reused_refresh_token_revokes_its_family_only(root: ApiCaller, domain: str) -> None:
    admin = await root.new_user(domain, "admin", password="right-password")
    stolen = await _login(root, admin.username, "right-password")
    other_login = await _login(root, admin.username, "right-password")  # another device
    got, victim = await root.call("POST", "/auth/refresh", {"refresh_token": stolen["refresh_token"]})
    assert got == 200
    got, body = await root.call("POST", "/auth/refresh", {"refresh_token": stolen["refresh_token"]})  # the thief
    assert_error(got, body, 401)
    for token in (victim["access_token"],):
        got, body = await root.call("GET", f"/domains/{domain}", token=token)
        assert_error(got, body, 401)
    got, body = await root.call("POST", "/auth/refresh", {"refresh_token": victim["refresh_token"]})
    assert_error(got, body, 401)
    got, _ = await root.call("GET", f"/domains/{domain}", token=other_login["access_token"])
    assert got == 200  # the other login is untouched
    await _login(root, admin.username, "right-password")


async def test_concurrent_refreshes_with_one_token_let_one_win(root: ApiCaller, domain: str) -> None:
    admin = await root.new_user(domain, "admin", password="right-password")
    pair = await _login(root, admin.username, "right-password")
    results = await asyncio.gather(*(root.call("POST", "/auth/refresh", {"refresh_token": pair["refresh_token"]})
                                     for _ in range(4)))
    assert sorted(status for status, _ in results)[0] == 200
    assert [status for status, _ in results].count(200) <= 1
