"""Verified access tokens are cached for a few seconds (AuthService.principal): a
request with a token seen just before reads no user, membership or token family; and
every change that revokes or narrows a token still shows at the very next request,
with the token's principal cached: role change, deletion, deactivation,
password change, refresh (the older access token is replaced), a reused refresh token."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.support.api import ApiCaller, assert_error


@contextmanager
def statements(services: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()))
    engine = services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _auth_reads(seen: list[str]) -> list[str]:
    """The token check's reads: the user by id, the token's family (the endpoint itself
    may join users for other reasons)."""
    return [s for s in seen if s.startswith("SELECT") and ("FROM users WHERE users.id" in s
                                                           or "FROM refresh_families" in s)]


async def test_a_token_seen_just_before_reads_no_auth_rows(root: ApiCaller, domain: str, services: Any) -> None:
    admin = await root.new_user(domain, "admin")
    with statements(services) as first:
        await admin.ok("GET", f"/domains/{domain}/extensions")
    assert _auth_reads(first), first  # the first request verifies against the database
    with statements(services) as second:
        await admin.ok("GET", f"/domains/{domain}/extensions")
    assert second and not _auth_reads(second), second


async def test_role_change_shows_at_once(root: ApiCaller, domain: str) -> None:
    admin = await root.new_user(domain, "admin")
    await admin.ok("POST", f"/domains/{domain}/extensions", {"number": "2101", "name": "A", "secret": "secret-2101"},
                   201)
    await root.ok("PATCH", f"/domains/{domain}/users/{admin.username}", {"role": "agent"})
    got, body = await admin.call("POST", f"/domains/{domain}/extensions",
                                 {"number": "2102", "name": "B", "secret": "secret-2102"})
    assert_error(got, body, 403)


async def test_deletion_and_deactivation_show_at_once(root: ApiCaller, domain: str) -> None:
    supervisor = await root.new_user(domain, "supervisor")
    agent = await root.new_user(domain, "agent")
    await supervisor.ok("GET", f"/domains/{domain}/extensions")
    await agent.ok("GET", f"/domains/{domain}/extensions")
    await root.ok("PATCH", f"/domains/{domain}/users/{supervisor.username}", {"active": False})
    got, body = await supervisor.call("GET", f"/domains/{domain}/extensions")
    assert_error(got, body, 401)
    await root.ok("DELETE", f"/domains/{domain}/users/{agent.username}", status=204)
    got, body = await agent.call("GET", f"/domains/{domain}/extensions")
    assert_error(got, body, 401)


async def test_password_change_and_refresh_revoke_cached_tokens(root: ApiCaller, domain: str) -> None:
    admin = await root.new_user(domain, "admin", password="first-password")
    got, pair = await admin.call("POST", "/auth/token", {"username": admin.username, "password": "first-password"})
    assert got == 200
    await admin.ok("GET", f"/domains/{domain}/extensions")  # cached
    got, _ = await admin.call("GET", f"/domains/{domain}/extensions", token=pair["access_token"])
    assert got == 200  # cached too
    got, renewed = await admin.call("POST", "/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert got == 200
    got, body = await admin.call("GET", f"/domains/{domain}/extensions", token=pair["access_token"])
    assert_error(got, body, 401)  # replaced by the refresh
    got, _ = await admin.call("GET", f"/domains/{domain}/extensions", token=renewed["access_token"])
    assert got == 200
    # the old refresh token again: its whole family is revoked, the renewed access token too
    got, body = await admin.call("POST", "/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert_error(got, body, 401)
    got, body = await admin.call("GET", f"/domains/{domain}/extensions", token=renewed["access_token"])
    assert_error(got, body, 401)
    await admin.ok("GET", f"/domains/{domain}/extensions")  # the first login's token, cached
    await root.ok("PATCH", f"/domains/{domain}/users/{admin.username}", {"password": "second-password"})
    got, body = await admin.call("GET", f"/domains/{domain}/extensions")
    assert_error(got, body, 401)
