"""Every write endpoint refuses bad input with the API.md error format and writes nothing."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from ccplane.db.models import Domain, Extension, Membership, User
from tests.support.api import ApiCaller, assert_error

LONG = "x" * 500


async def counts(services: Any) -> dict[str, int]:
    async with services.sessions() as s:
        return {m.__tablename__: await s.scalar(select(func.count()).select_from(m))
                for m in (Domain, User, Membership, Extension)}


def cases(valid: dict[str, Any], field_types: dict[str, Any],
          optional: tuple[str, ...] = ()) -> list[tuple[str, Any, int, str | None]]:
    """(label, body, expected status, expected error field) for one endpoint."""
    out: list[tuple[str, Any, int, str | None]] = []
    for key in valid:
        if key in optional:
            continue
        body = {k: v for k, v in valid.items() if k != key}
        out.append((f"missing {key}", body, 422, key))
    for key, wrong in field_types.items():
        out.append((f"wrong type {key}", {**valid, key: wrong}, 422, key))
    out.append(("unknown field", {**valid, "bogus": 1}, 422, "bogus"))
    for key, value in valid.items():
        if isinstance(value, str):
            out.append((f"oversize {key}", {**valid, key: LONG}, 422, key))
    out.append(("not an object", [valid], 422, None))
    return out


DOMAIN = {"slug": "zz-valid", "name": "Valid"}
USER = {"username": "valid-user", "name": "Valid", "role": "agent", "password": "long-enough"}
EXT = {"number": "4321", "name": "Valid", "kind": "sip", "secret": "secret-4321"}


@pytest.mark.parametrize("label,body,status,field",
                         cases(DOMAIN, {"slug": 12, "name": ["x"]}))
async def test_create_domain_bad_input(root: ApiCaller, services: Any, label: str, body: Any,
                                       status: int, field: str | None) -> None:
    before = await counts(services)
    got, resp = await root.call("POST", "/domains", body)
    assert_error(got, resp, status, field)
    assert await counts(services) == before, label


@pytest.mark.parametrize("label,body,status,field",
                         cases(USER, {"username": 5, "role": "emperor", "password": 12345678, "name": None}))
async def test_create_user_bad_input(root: ApiCaller, services: Any, domain: str, label: str, body: Any,
                                     status: int, field: str | None) -> None:
    before = await counts(services)
    got, resp = await root.call("POST", f"/domains/{domain}/users", body)
    assert_error(got, resp, status, field)
    assert await counts(services) == before, label


@pytest.mark.parametrize("label,body,status,field",
                         cases(EXT, {"number": 4321, "kind": "fax", "secret": True, "name": 7},
                               optional=("kind",)))
async def test_create_extension_bad_input(root: ApiCaller, services: Any, domain: str, label: str,
                                          body: Any, status: int, field: str | None) -> None:
    before = await counts(services)
    rendered = await services.renderer.render()
    got, resp = await root.call("POST", f"/domains/{domain}/extensions", body)
    assert_error(got, resp, status, field)
    assert await counts(services) == before, label
    assert await services.renderer.render() == rendered


async def test_config_injection_is_refused(root: ApiCaller, services: Any, domain: str) -> None:
    before = await counts(services)
    for field, value in (("name", "x]\n[evil"), ("name", "a;b"), ("secret", "abc]\n[evil")):
        got, resp = await root.call("POST", f"/domains/{domain}/extensions", {**EXT, field: value})
        assert_error(got, resp, 422, field)
    assert await counts(services) == before


async def test_malformed_json_and_empty_body(root: ApiCaller, services: Any, domain: str) -> None:
    before = await counts(services)
    got, resp = await root.call("POST", f"/domains/{domain}/extensions", raw=b"{not json")
    assert_error(got, resp, 400, None)
    got, resp = await root.call("POST", f"/domains/{domain}/extensions", raw=b"")
    assert_error(got, resp, 400, None)
    assert await counts(services) == before


async def test_duplicates_are_409_and_write_nothing(root: ApiCaller, services: Any, domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/extensions", EXT, 201)
    user = {**USER, "username": f"dup-{domain}"}
    await root.ok("POST", f"/domains/{domain}/users", user, 201)
    before = await counts(services)
    got, resp = await root.call("POST", f"/domains/{domain}/extensions", {**EXT, "name": "Again"})
    assert_error(got, resp, 409, "number")
    got, resp = await root.call("POST", f"/domains/{domain}/users", user)
    assert_error(got, resp, 409, "username")
    got, resp = await root.call("POST", "/domains", {"slug": domain, "name": "dup"})
    assert_error(got, resp, 409, "slug")
    assert await counts(services) == before


async def test_updates_refuse_bad_input(root: ApiCaller, services: Any, domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/extensions", EXT, 201)
    user = {**USER, "username": f"upd-{domain}"}
    await root.ok("POST", f"/domains/{domain}/users", user, 201)
    ext_path = f"/domains/{domain}/extensions/{EXT['number']}"
    user_path = f"/domains/{domain}/users/{user['username']}"
    for path, body, field in (
        (ext_path, {"kind": "fax"}, "kind"),
        (ext_path, {"name": None}, "name"),
        (ext_path, {"number": "9999"}, "number"),
        (ext_path, {"secret": "short"}, "secret"),
        (user_path, {"role": "root"}, "role"),
        (user_path, {"active": "yes"}, "active"),
        (user_path, {"password": "short"}, "password"),
        (f"/domains/{domain}", {"name": LONG}, "name"),
        (f"/domains/{domain}", {"slug": "renamed"}, "slug"),
    ):
        got, resp = await root.call("PATCH", path, body)
        assert_error(got, resp, 422, field)
    assert (await root.ok("GET", ext_path))["name"] == EXT["name"]
    assert (await root.ok("GET", user_path))["role"] == "agent"


async def test_list_paging_validation(root: ApiCaller, domain: str) -> None:
    got, resp = await root.call("GET", f"/domains/{domain}/extensions?limit=0")
    assert_error(got, resp, 422, "limit")
    got, resp = await root.call("GET", f"/domains/{domain}/extensions?limit=abc")
    assert_error(got, resp, 422, "limit")
    got, resp = await root.call("GET", f"/domains/{domain}/extensions?offset=-1")
    assert_error(got, resp, 422, "offset")


async def test_configuration_lists_page_too(root: ApiCaller, domain: str) -> None:
    """API.md: every list takes ?limit=&offset= and answers {items, total} (the blacklist as
    one of the lists a domain holds whole: routes, trunks, IVRs, call groups...)."""
    numbers = [f"1198888{i:04d}" for i in range(7)]
    for number in numbers:
        await root.ok("POST", f"/domains/{domain}/blacklist", {"number": number}, 201)
    everything = await root.ok("GET", f"/domains/{domain}/blacklist")
    assert everything["total"] == 7 and len(everything["items"]) == 7
    page = await root.ok("GET", f"/domains/{domain}/blacklist?limit=3&offset=5")
    assert page["total"] == 7 and page["items"] == everything["items"][5:]
    for path in ("blacklist", "routes", "trunks", "outbound-routes", "ivrs", "call-groups"):
        got, resp = await root.call("GET", f"/domains/{domain}/{path}?limit=0")
        assert_error(got, resp, 422, "limit")
        got, resp = await root.call("GET", f"/domains/{domain}/{path}?offset=-1")
        assert_error(got, resp, 422, "offset")
        assert (await root.ok("GET", f"/domains/{domain}/{path}?limit=1&offset=0"))["total"] >= 0


async def test_new_is_reserved_for_the_pages_that_create(root: ApiCaller, app_client: Any, domain: str) -> None:
    """/admin/queues/new (users, IVRs, monitoring groups alike) is the creation form: an
    object named "new" could never be opened there, so the name is refused up front."""
    base = f"/domains/{domain}"
    for path, body, field in (
            ("/queues", {"name": "new", "strategy": "ringall"}, "name"),
            ("/ivrs", {"name": "new", "root": {"kind": "hangup"}}, "name"),
            ("/users", {"username": "New", "name": "Ana", "role": "agent", "password": "senha-boa-123"}, "username"),
            ("/monitoring-groups", {"name": "new"}, "name")):
        status, body_out = await root.call("POST", base + path, body)
        assert_error(status, body_out, 422, field)
        assert "reserved" in body_out["error"]["message"], body_out
        assert (await root.ok("GET", base + path))["total"] == 0  # nothing written
    await root.ok("POST", base + "/queues", {"name": "newer", "strategy": "ringall"}, 201)  # only the word itself
