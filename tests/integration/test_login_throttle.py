"""Issue 9 item 5: team and app logins are throttled per account and per address."""
from __future__ import annotations

from typing import Any

from tests.support.api import ApiCaller, assert_error

CPF = "52998224725"


async def test_team_login_is_throttled_per_account(root: ApiCaller, services: Any, domain: str) -> None:
    admin = await root.new_user(domain, "admin", password="right-password")
    free = services.auth.throttle.account_free
    for _ in range(free + 1):
        got, body = await root.call("POST", "/auth/token", {"username": admin.username, "password": "wrong"})
        assert_error(got, body, 401)
    resp = await root.client.post("/api/v1/auth/token",
                                  json={"username": admin.username, "password": "right-password"})
    assert_error(resp.status, await resp.json(), 429)
    assert int(resp.headers["Retry-After"]) >= 1  # even the right password waits its turn
    other = await root.new_user(domain, "agent", password="other-password")  # logs in: others unaffected
    assert other.token


async def test_team_login_is_throttled_per_address(root: ApiCaller, services: Any) -> None:
    services.auth.throttle.address_free = 3
    for i in range(4):
        got, body = await root.call("POST", "/auth/token", {"username": f"nobody-{i}", "password": "x"})
        assert_error(got, body, 401)
    got, body = await root.call("POST", "/auth/token", {"username": "nobody-else", "password": "x"})
    assert_error(got, body, 429)


async def test_app_cpf_login_is_throttled(root: ApiCaller, services: Any, domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/monitored-persons",
                  {"name": "Joana", "cpf": CPF, "phone": "11987654321", "password": "app-password"}, 201)
    for _ in range(services.alerts.throttle.account_free + 1):
        got, body = await root.call("POST", f"/app/{domain}/login", {"cpf": CPF, "password": "wrong"})
        assert_error(got, body, 401)
    resp = await root.client.post(f"/api/v1/app/{domain}/login", json={"cpf": CPF, "password": "app-password"})
    assert_error(resp.status, await resp.json(), 429)
    assert "Retry-After" in resp.headers
    assert services.alerts.throttle is services.auth.throttle  # one count per address for both logins
