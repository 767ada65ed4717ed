"""Issue 9: what an outside fuzzing and security run found — bad input that
used to be committed or answered 500/503 is refused with a 4xx that names it."""
from __future__ import annotations

import json
from typing import Any, AsyncIterator

import pytest
from sqlalchemy import select, update

from ccplane.features.alerts.models import AlertAppConfig
from ccplane.features.domains.models import Domain
from tests.support.api import ApiCaller, assert_error

CPF = "52998224725"


async def _person_and_app(root: ApiCaller, domain: str) -> ApiCaller:
    await root.ok("POST", f"/domains/{domain}/monitored-persons",
                  {"name": "Joana", "cpf": CPF, "phone": "11987654321", "password": "app-password"}, 201)
    token = await root.ok("POST", f"/app/{domain}/login", {"cpf": CPF, "password": "app-password"})
    return ApiCaller(root.client, token["access_token"])


@pytest.mark.parametrize("field", ["colors", "texts", "ack_deadlines", "show_logo", "app_name"])
async def test_alert_app_null_is_refused_and_nothing_is_written(root: ApiCaller, domain: str, field: str) -> None:
    await root.ok("PUT", f"/domains/{domain}/alert-app", {"app_name": "Vigia", "colors": {"primary": "#112233"}})
    before = await root.ok("GET", f"/domains/{domain}/alert-app")
    got, body = await root.call("PUT", f"/domains/{domain}/alert-app", {field: None})
    assert_error(got, body, 422, field)
    assert await root.ok("GET", f"/domains/{domain}/alert-app") == before


async def test_alert_app_routing_fields_may_still_be_cleared(root: ApiCaller, domain: str) -> None:
    await root.ok("PUT", f"/domains/{domain}/alert-app", {"call_number": "190"})
    out = await root.ok("PUT", f"/domains/{domain}/alert-app", {"call_number": None})
    assert out["call_number"] is None


async def test_bad_stored_alert_app_settings_never_break_reads(root: ApiCaller, services: Any,
                                                               domain: str) -> None:
    app = await _person_and_app(root, domain)
    await root.ok("PUT", f"/domains/{domain}/alert-app", {"ack_deadlines": {"red": 20}, "colors": {"a": "#000000"}})
    async with services.sessions() as s:
        domain_id = await s.scalar(select(Domain.id).where(Domain.slug == domain))
        # What a hand edit or an older release could leave behind.
        await s.execute(update(AlertAppConfig).where(AlertAppConfig.domain_id == domain_id).values(
            colors=None, texts="garbage", ack_deadlines={"red": "soon", "yellow": 30, "purple": 1},
            app_name=""))
        await s.commit()
    services.alerts._forget_routing(domain_id)
    team = await root.ok("GET", f"/domains/{domain}/alert-app")
    mine = await app.ok("GET", f"/app/{domain}/config")
    assert team == mine
    assert team["colors"] == {} and team["app_name"] == "Canal de Alertas"
    assert team["ack_deadlines"] == {"red": 15, "yellow": 30}  # the bad red falls back, yellow stays
    assert team["texts"]["red"]["message"]  # the defaults


async def test_offsets_and_ids_beyond_64_bits_are_4xx(root: ApiCaller, domain: str) -> None:
    for path in ("/domains", f"/domains/{domain}/users", f"/domains/{domain}/monitored-persons",
                 f"/domains/{domain}/alerts"):
        got, body = await root.call("GET", f"{path}?offset={2**63}")
        assert_error(got, body, 422, "offset")
    got, body = await root.call("GET", f"/domains/{domain}/alerts?person={2**64}")
    assert_error(got, body, 422, "person")
    for path in (f"/domains/{domain}/alerts/{2**64}/ack", f"/domains/{domain}/alerts/{'9' * 400}/ack"):
        got, body = await root.call("POST", path)
        assert_error(got, body, 404, "id")
    got, body = await root.call("GET", f"/domains/{domain}/monitored-persons/{2**63}")
    assert_error(got, body, 404, "id")


@pytest.mark.parametrize("depth", [100, 600, 5000, 100_000])
async def test_deeply_nested_json_is_refused(root: ApiCaller, domain: str, depth: int) -> None:
    raw = b'{"slug": "deep", "name": ' + b"[" * depth + b"]" * depth + b"}"
    got, body = await root.call("POST", "/domains", raw=raw)
    assert_error(got, body, 422)


async def test_nul_anywhere_is_refused(root: ApiCaller, domain: str) -> None:
    got, body = await root.call("POST", "/domains", {"slug": "nul", "name": "a\x00b"})
    assert_error(got, body, 422, "name")
    got, body = await root.call("PUT", f"/domains/{domain}/alert-app", {"texts": {"red": {"message": "x\x00"}}})
    assert_error(got, body, 422, "texts.red.message")
    got, body = await root.call("GET", "/domains/a%00b")
    assert_error(got, body, 404, "domain")
    got, body = await root.call("GET", f"/domains/{domain}/alerts?from=2024%00")
    assert_error(got, body, 422, "from")


async def test_nul_in_an_attachment_filename(root: ApiCaller, domain: str) -> None:
    person = await root.ok("POST", f"/domains/{domain}/monitored-persons",
                           {"name": "Joana", "cpf": CPF, "phone": "11987654321", "password": "app-password"}, 201)
    boundary = "xyzzy"
    raw = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\x00b.pdf\"\r\n"
           f"Content-Type: application/pdf\r\n\r\n%PDF-1.4 hello\r\n--{boundary}--\r\n").encode()
    resp = await root.client.post(f"/api/v1/domains/{domain}/monitored-persons/{person['id']}/attachments",
                                  data=raw, headers={"Authorization": f"Bearer {root.token}",
                                                     "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert_error(resp.status, await resp.json(), 400)  # the part's header is malformed


async def test_token_with_a_huge_sub_is_401(root: ApiCaller, services: Any, domain: str) -> None:
    for sub in (2**64, -1, True, "1"):
        token = services.auth.signer.issue(sub, "access", 0, ttl=60)  # type: ignore[arg-type]
        got, body = await root.call("GET", "/domains", token=token)
        assert_error(got, body, 401)
        app_token = services.auth.signer.issue(sub, "app", 0, ttl=60)  # type: ignore[arg-type]
        got, body = await root.call("GET", f"/app/{domain}/config", token=app_token)
        assert_error(got, body, 401)


async def test_domain_delete_names_what_is_left(root: ApiCaller, services: Any) -> None:
    slug = "del-ivr"
    await root.ok("POST", "/domains", {"slug": slug, "name": "Del"}, 201)
    await root.ok("POST", f"/domains/{slug}/ivrs", {"name": "main", "root": {"type": "hangup"}}, 201)
    got, body = await root.call("DELETE", f"/domains/{slug}")
    assert_error(got, body, 409, "domain")
    assert "IVR" in body["error"]["message"]
    await root.ok("DELETE", f"/domains/{slug}/ivrs/main", status=204)
    await root.ok("DELETE", f"/domains/{slug}", status=204)
    # The alert-app settings are audited; the audit chain is kept for good.
    slug = "del-app"
    await root.ok("POST", "/domains", {"slug": slug, "name": "Del"}, 201)
    await root.ok("PUT", f"/domains/{slug}/alert-app", {"app_name": "X"})
    got, body = await root.call("DELETE", f"/domains/{slug}")
    assert_error(got, body, 409, "domain")
    assert "audit" in body["error"]["message"]


async def _chunks(data: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def test_large_bodies_are_read_whole_and_413_over_the_limit(root: ApiCaller, domain: str) -> None:
    headers = {"Authorization": f"Bearer {root.token}", "Content-Type": "application/json"}
    big = json.dumps({"slug": "big", "name": "Big", "pad": "a" * 780_000}).encode()
    for data in (big, _chunks(big)):  # with a Content-Length, and chunked
        resp = await root.client.post("/api/v1/domains", data=data, headers=headers)
        assert_error(resp.status, await resp.json(), 422, "pad")  # read whole: the unknown field, not "not JSON"
    huge = json.dumps({"slug": "big", "name": "Big", "pad": "a" * 1_100_000}).encode()
    for data in (huge, _chunks(huge)):
        resp = await root.client.post("/api/v1/domains", data=data, headers=headers)
        assert_error(resp.status, await resp.json(), 413)


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/x-www-form-urlencoded"])
async def test_json_only_with_a_json_content_type(root: ApiCaller, content_type: str | None) -> None:
    headers = {"Authorization": f"Bearer {root.token}"}
    if content_type:
        headers["Content-Type"] = content_type
    resp = await root.client.post("/api/v1/domains", data=b'{"slug": "ctype", "name": "C"}', headers=headers)
    if content_type is None:
        resp = await root.client.post("/api/v1/domains", data=_chunks(b'{"slug": "ctype", "name": "C"}'),
                                      headers=headers, skip_auto_headers=["Content-Type"])
    assert_error(resp.status, await resp.json(), 415)
    got, _ = await root.call("GET", "/domains/ctype")
    assert got == 404


async def test_405_says_what_is_allowed(root: ApiCaller) -> None:
    resp = await root.client.request("PUT", "/api/v1/health")
    assert_error(resp.status, await resp.json(), 405)
    assert "GET" in resp.headers["Allow"]


async def test_ivr_loops_with_no_key_pressed_are_refused(root: ApiCaller, domain: str) -> None:
    got, body = await root.call("POST", f"/domains/{domain}/ivrs",
                                {"name": "loop", "root": {"type": "ivr", "target": "loop"}})
    assert_error(got, body, 422, "root.target")
    await root.ok("POST", f"/domains/{domain}/ivrs", {"name": "a", "root": {"type": "hangup"}}, 201)
    await root.ok("POST", f"/domains/{domain}/ivrs",
                  {"name": "b", "root": {"type": "play", "prompt": "beep", "next": {"type": "ivr", "target": "a"}}},
                  201)
    got, body = await root.call("PUT", f"/domains/{domain}/ivrs/a", {"root": {"type": "ivr", "target": "b"}})
    assert_error(got, body, 422, "root.target")
    assert "a -> b -> a" in body["error"]["message"]
    assert (await root.ok("GET", f"/domains/{domain}/ivrs/a"))["root"] == {"type": "hangup"}
    # returning to the start on a key press stays allowed
    menu = {"type": "menu", "prompt": "beep", "options": {"9": {"type": "ivr", "target": "a"}}}
    await root.ok("PUT", f"/domains/{domain}/ivrs/a", {"root": menu})


@pytest.mark.parametrize("bad", ["a\x0bb", "a\u2028b", "a\u202eb", "a\x85b", "a\u200bb", "a]b"])
async def test_control_and_format_characters_are_refused_in_rendered_names(root: ApiCaller, domain: str,
                                                                           bad: str) -> None:
    got, body = await root.call("POST", f"/domains/{domain}/extensions",
                                {"number": "4321", "name": bad, "kind": "sip", "secret": "secret-4321"})
    assert_error(got, body, 422, "name")
    got, body = await root.call("POST", f"/domains/{domain}/queues", {"name": "q1", "monitoring_group": bad})
    assert_error(got, body, 422, "monitoring_group")
    got, body = await root.call("GET", f"/domains/{domain}/extensions/4321")
    assert got == 404
