"""Issue 9 item 9: the OpenAPI document and the server agree."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.support.api import ApiCaller, assert_error


async def _spec(root: ApiCaller) -> dict[str, Any]:
    return await root.ok("GET", "/openapi.json")


def _has_offset(value: str) -> bool:
    return datetime.fromisoformat(value).utcoffset() is not None


def _allows_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(b.get("type") == "null" for b in schema.get("anyOf", []))


async def test_times_carry_an_offset_on_every_database(root: ApiCaller, domain: str) -> None:
    got = await root.ok("GET", f"/domains/{domain}")
    assert _has_offset(got["created_at"]), got
    agent = await root.new_user(domain, "agent")
    listed = await root.ok("GET", f"/domains/{domain}/users")
    assert all(_has_offset(u["created_at"]) for u in listed["items"]), listed
    assert agent.token


async def test_nullable_in_the_document_means_null_is_accepted(root: ApiCaller, domain: str) -> None:
    spec = await _spec(root)
    schemas = spec["components"]["schemas"]
    ext = schemas["ExtensionUpdate"]["properties"]
    assert not _allows_null(ext["name"])  # refused by the server: not nullable in the document
    assert _allows_null(schemas["UserUpdate"]["properties"]["wrapup_time"])  # may be cleared
    await root.ok("POST", f"/domains/{domain}/extensions",
                  {"number": "4321", "name": "Desk", "kind": "sip", "secret": "secret-4321"}, 201)
    got, body = await root.call("PATCH", f"/domains/{domain}/extensions/4321", {"name": None})
    assert_error(got, body, 422, "name")
    agent = await root.new_user(domain, "agent")
    out = await root.ok("PATCH", f"/domains/{domain}/users/{agent.username}", {"wrapup_time": None})
    assert out["wrapup_time"] is None
    # every update schema: a field the document calls non-nullable is never typed "X | null"
    for name, schema in schemas.items():
        if name.endswith("Update"):
            for field, prop in schema.get("properties", {}).items():
                if _allows_null(prop):
                    assert (name, field) in {("UserUpdate", "wrapup_time"), ("UserUpdate", "webrtc_extension"),
                                             ("QueueUpdate", "busy_delay"), ("QueueUpdate", "monitoring_group"),
                                             ("QueueUpdate", "callback_key"),
                                             ("AlertAppUpdate", "call_number"),
                                             ("AlertAppUpdate", "monitoring_queue"),
                                             ("AlertAppUpdate", "escalation_queue"),
                                             ("TrunkUpdate", "username"), ("TrunkUpdate", "secret"),
                                             ("TrunkUpdate", "caller_id")}, (name, field)


async def test_query_parameters_keep_their_bounds(root: ApiCaller) -> None:
    spec = await _spec(root)
    params = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/domains"]["get"]["parameters"]}
    assert params["limit"]["minimum"] == 1 and params["limit"]["maximum"] == 500
    assert params["offset"]["minimum"] == 0 and "maximum" in params["offset"]
    alerts = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/domains/{domain}/alerts"]["get"]["parameters"]}
    assert "from" in alerts and not _allows_null(alerts["from"])


async def test_an_integral_number_is_an_integer(root: ApiCaller, domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "q1"}, 201)
    out = await root.ok("PATCH", f"/domains/{domain}/queues/q1", {"ring_timeout": 57.0})
    assert out["ring_timeout"] == 57
    got, body = await root.call("PATCH", f"/domains/{domain}/queues/q1", {"ring_timeout": 57.5})
    assert_error(got, body, 422, "ring_timeout")
    got, body = await root.call("PATCH", f"/domains/{domain}/queues/q1", raw=b'{"ring_timeout": NaN}')
    assert_error(got, body, 400)


async def test_ivr_root_multipart_bodies_and_app_security_are_described(root: ApiCaller) -> None:
    spec = await _spec(root)
    root_schema = spec["components"]["schemas"]["IvrCreate"]["properties"]["root"]
    assert root_schema["required"] == ["type"] and "menu" in root_schema["properties"]["type"]["enum"]
    for path in ("/api/v1/domains/{domain}/prompts", "/api/v1/domains/{domain}/monitored-persons/{id}/attachments"):
        body = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert body["properties"]["file"]["format"] == "binary"
    for method, path in (("get", "/api/v1/app/{domain}/config"), ("post", "/api/v1/app/{domain}/alerts")):
        assert spec["paths"][path][method]["security"] == [{"app": []}]
    assert "app" in spec["components"]["securitySchemes"]
    assert "415" in spec["paths"]["/api/v1/domains"]["post"]["responses"]
