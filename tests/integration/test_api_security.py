"""Authentication, roles and domain isolation."""
from __future__ import annotations

from typing import Any

from tests.support.api import ApiCaller, assert_error

EXT = {"number": "2001", "name": "Reception", "secret": "secret-2001"}


async def test_every_endpoint_needs_a_token(app_client: Any, domain: str) -> None:
    anon = ApiCaller(app_client)
    for method, path in (("GET", "/domains"), ("POST", "/domains"), ("GET", f"/domains/{domain}"),
                         ("GET", f"/domains/{domain}/users"), ("GET", f"/domains/{domain}/extensions"),
                         ("POST", f"/domains/{domain}/extensions"),
                         ("DELETE", f"/domains/{domain}/extensions/2001")):
        got, body = await anon.call(method, path, {})
        assert_error(got, body, 401)
        got, body = await anon.call(method, path, {}, token="forged.token")
        assert_error(got, body, 401)


async def test_health_and_openapi_are_public(app_client: Any) -> None:
    anon = ApiCaller(app_client)
    got, body = await anon.call("GET", "/health")
    assert got == 200 and set(body) >= {"status", "database", "ami", "ari", "asterisk_version"}
    got, spec = await anon.call("GET", "/openapi.json")
    assert got == 200 and spec["openapi"].startswith("3.")
    ext_post = spec["paths"]["/api/v1/domains/{domain}/extensions"]["post"]
    schema_name = ext_post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = spec["components"]["schemas"][schema_name]
    assert set(schema["required"]) == {"number", "name", "secret"}
    assert schema["additionalProperties"] is False


async def test_login_refresh_and_password_change_revokes(root: ApiCaller, domain: str) -> None:
    admin = await root.new_user(domain, "admin", password="first-password")
    got, body = await admin.call("POST", "/auth/token", {"username": admin.username, "password": "wrong-pass"})
    assert_error(got, body, 401)
    got, pair = await admin.call("POST", "/auth/token", {"username": admin.username,
                                                         "password": "first-password"})
    assert got == 200 and pair["token_type"] == "bearer" and pair["expires_in"] > 0
    got, renewed = await admin.call("POST", "/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert got == 200 and renewed["access_token"]
    got, body = await admin.call("POST", "/auth/refresh", {"refresh_token": pair["access_token"]})
    assert_error(got, body, 401)
    await root.ok("PATCH", f"/domains/{domain}/users/{admin.username}", {"password": "second-password"})
    got, body = await admin.call("GET", f"/domains/{domain}/extensions", token=pair["access_token"])
    assert_error(got, body, 401)
    got, body = await admin.call("POST", "/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert_error(got, body, 401)
    await admin.login(admin.username, "second-password")


async def test_inactive_user_cannot_log_in_but_stays_listed(root: ApiCaller, domain: str) -> None:
    agent = await root.new_user(domain, "agent", password="agent-password")
    await root.ok("PATCH", f"/domains/{domain}/users/{agent.username}", {"active": False})
    got, body = await agent.call("GET", f"/domains/{domain}/extensions")
    assert_error(got, body, 401)
    got, body = await agent.call("POST", "/auth/token", {"username": agent.username,
                                                         "password": "agent-password"})
    assert_error(got, body, 401)
    listed = await root.ok("GET", f"/domains/{domain}/users")
    assert {"username": agent.username, "active": False}.items() <= next(
        u for u in listed["items"] if u["username"] == agent.username).items()


async def test_roles(root: ApiCaller, domain: str) -> None:
    admin = await root.new_user(domain, "admin")
    supervisor = await root.new_user(domain, "supervisor")
    agent = await root.new_user(domain, "agent")
    await admin.ok("POST", f"/domains/{domain}/extensions", EXT, 201)
    for caller in (supervisor, agent):
        got, body = await caller.call("POST", f"/domains/{domain}/extensions", {**EXT, "number": "2002"})
        assert_error(got, body, 403)
        got, body = await caller.call("POST", f"/domains/{domain}/users",
                                      {"username": "x-" + domain, "name": "X", "role": "agent",
                                       "password": "password1"})
        assert_error(got, body, 403)
    got, body = await agent.call("GET", f"/domains/{domain}/users")
    assert_error(got, body, 403)
    await supervisor.ok("GET", f"/domains/{domain}/users")
    got, body = await admin.call("POST", "/domains", {"slug": "nope-" + domain, "name": "No"})
    assert_error(got, body, 403)
    got, body = await admin.call("POST", f"/domains/{domain}/users",
                                 {"username": "su-" + domain, "name": "Su", "role": "superuser",
                                  "password": "password1"})
    assert_error(got, body, 403, "role")
    mine = await admin.ok("GET", "/domains")
    assert [d["slug"] for d in mine["items"]] == [domain] and mine["total"] == 1


async def test_domain_isolation_is_404(root: ApiCaller, domain: str, other_domain: str) -> None:
    await root.ok("POST", f"/domains/{other_domain}/extensions", EXT, 201)
    theirs = await root.new_user(other_domain, "agent")
    admin = await root.new_user(domain, "admin")
    for method, path, body in (
        ("GET", f"/domains/{other_domain}", None),
        ("PATCH", f"/domains/{other_domain}", {"name": "hijack"}),
        ("GET", f"/domains/{other_domain}/users", None),
        ("GET", f"/domains/{other_domain}/users/{theirs.username}", None),
        ("PATCH", f"/domains/{other_domain}/users/{theirs.username}", {"active": False}),
        ("DELETE", f"/domains/{other_domain}/users/{theirs.username}", None),
        ("POST", f"/domains/{other_domain}/users", {"username": "evil-" + domain, "name": "E",
                                                     "role": "admin", "password": "password1"}),
        ("GET", f"/domains/{other_domain}/extensions", None),
        ("GET", f"/domains/{other_domain}/extensions/2001", None),
        ("PATCH", f"/domains/{other_domain}/extensions/2001", {"name": "hijack"}),
        ("DELETE", f"/domains/{other_domain}/extensions/2001", None),
        ("POST", f"/domains/{other_domain}/extensions", {**EXT, "number": "2009"}),
    ):
        got, resp = await admin.call(method, path, body)
        # Issue 9: the domain is checked before anything else (body, role), so
        # even a root-only operation on another domain is the same 404.
        assert_error(got, resp, 404, "domain")
    # a user of domain A cannot reach B's user by naming it in A either
    got, resp = await admin.call("GET", f"/domains/{domain}/users/{theirs.username}")
    assert_error(got, resp, 404, "username")
    ext = await root.ok("GET", f"/domains/{other_domain}/extensions/2001")
    assert ext["name"] == EXT["name"]
    assert (await root.ok("GET", f"/domains/{other_domain}/users/{theirs.username}"))["active"] is True


async def test_domain_delete_refuses_non_empty(root: ApiCaller, domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/extensions", EXT, 201)
    got, body = await root.call("DELETE", f"/domains/{domain}")
    assert_error(got, body, 409, "domain")
    await root.ok("DELETE", f"/domains/{domain}/extensions/2001", status=204)
    await root.ok("DELETE", f"/domains/{domain}", status=204)
    got, body = await root.call("GET", f"/domains/{domain}")
    assert_error(got, body, 404)


async def test_password_reset_token_and_self_service_change(root: ApiCaller, domain: str) -> None:
    agent = await root.new_user(domain, "agent", password="old-password")
    admin = await root.new_user(domain, "admin")
    status, body = await agent.call("POST", f"/domains/{domain}/users/{admin.username}/reset-token")
    assert_error(status, body, 403)  # attendants do not manage the team
    issued = await admin.ok("POST", f"/domains/{domain}/users/{agent.username}/reset-token", status=201)
    await agent.ok("POST", "/auth/reset", {"reset_token": issued["reset_token"], "new_password": "brand-new-pw"},
                   status=204)
    status, body = await agent.call("GET", f"/domains/{domain}/extensions")
    assert_error(status, body, 401)  # every earlier token is revoked
    status, body = await agent.call("POST", "/auth/reset", {"reset_token": issued["reset_token"],
                                                            "new_password": "again-new-pw"})
    assert_error(status, body, 401)  # one time only
    fresh = await agent.login(agent.username, "brand-new-pw")
    status, body = await fresh.call("POST", "/auth/password", {"current_password": "wrong-one",
                                                               "new_password": "third-password"})
    assert_error(status, body, 401)
    await fresh.ok("POST", "/auth/password", {"current_password": "brand-new-pw",
                                              "new_password": "third-password"}, status=204)
    await agent.login(agent.username, "third-password")
