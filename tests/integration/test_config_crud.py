"""Each configuration resource of API.md read one by one and changed in place: trunks and
outbound routes (GET/PATCH), inbound routes and the blacklist (GET one). A change is rendered
into Asterisk's configuration; a refused one changes nothing."""
from __future__ import annotations

from tests.support.api import assert_error
from tests.support.telephony import Scene


async def test_trunks_and_outbound_routes_read_and_changed_one_by_one(scene: Scene) -> None:
    d = scene.domain
    base = f"/domains/{d}/trunks"
    await scene.root.ok("POST", base, {"name": "operadora", "host": "127.0.0.1", "port": 5999}, 201)
    await scene.root.ok("POST", base, {"name": "reserva", "host": "127.0.0.2"}, 201)
    one = await scene.root.ok("GET", f"{base}/operadora")
    assert (one["name"], one["host"], one["port"], one["transport"], one["register"]) == (
        "operadora", "127.0.0.1", 5999, "udp", False)
    pjsip = scene.services.renderer.out_dir / "pjsip.conf"
    assert "127.0.0.1:5999" in pjsip.read_text()

    changed = await scene.root.ok("PATCH", f"{base}/operadora", {"port": 5988, "caller_id": "1133330000"})
    assert (changed["port"], changed["caller_id"], changed["host"]) == (5988, "1133330000", "127.0.0.1")
    assert (await scene.root.ok("GET", f"{base}/operadora"))["port"] == 5988
    text = pjsip.read_text()
    assert "127.0.0.1:5988" in text and "127.0.0.1:5999" not in text  # rendered at once

    status, body = await scene.root.call("PATCH", f"{base}/operadora", {"register": True})
    assert_error(status, body, 422, "register")  # registering needs username and secret
    status, body = await scene.root.call("PATCH", f"{base}/operadora", {"port": 0})
    assert_error(status, body, 422, "port")
    status, body = await scene.root.call("PATCH", f"{base}/operadora", {"host": None})
    assert_error(status, body, 422, "host")
    status, body = await scene.root.call("PATCH", f"{base}/operadora", {"name": "outro"})
    assert_error(status, body, 422, "name")  # a trunk keeps its name
    assert (await scene.root.ok("GET", f"{base}/operadora"))["register"] is False  # nothing half-written
    cleared = await scene.root.ok("PATCH", f"{base}/operadora", {"caller_id": None})  # may be cleared
    assert cleared["caller_id"] is None and cleared["port"] == 5988
    status, body = await scene.root.call("GET", f"{base}/nenhuma")
    assert_error(status, body, 404, "name")

    routes = f"/domains/{d}/outbound-routes"
    await scene.root.ok("POST", routes, {"name": "celular", "patterns": ["_0XX9XXXXXXXX"],
                                         "trunks": ["operadora"]}, 201)
    assert (await scene.root.ok("GET", f"{routes}/celular"))["trunks"] == ["operadora"]
    status, body = await scene.root.call("PATCH", f"{routes}/celular", {"trunks": ["operadora", "fantasma"]})
    assert_error(status, body, 422, "trunks")
    route = await scene.root.ok("PATCH", f"{routes}/celular", {"trunks": ["reserva", "operadora"], "strip": 1})
    assert (route["trunks"], route["strip"], route["patterns"]) == (["reserva", "operadora"], 1, ["_0XX9XXXXXXXX"])
    assert (await scene.root.ok("GET", f"{routes}/celular"))["trunks"] == ["reserva", "operadora"]

    agent = await scene.root.new_user(d, "agent")
    status, _ = await agent.call("PATCH", f"{base}/operadora", {"port": 5060})
    assert status == 403
    assert (await scene.root.ok("GET", f"{base}/operadora"))["port"] == 5988


async def test_inbound_routes_and_blacklisted_numbers_read_one_by_one(scene: Scene) -> None:
    d = scene.domain
    await scene.queue("entrada")
    did = "55" + str(int(d[1:], 16) % 10**8).zfill(8)
    await scene.root.ok("POST", f"/domains/{d}/routes",
                        {"did": did, "destination": {"type": "queue", "target": "entrada"}}, 201)
    route = await scene.root.ok("GET", f"/domains/{d}/routes/{did}")
    assert route == {"did": did, "destination": {"type": "queue", "target": "entrada"}, "reject_delay": 0}
    status, body = await scene.root.call("GET", f"/domains/{d}/routes/5500000000")
    assert_error(status, body, 404, "did")

    await scene.root.ok("POST", f"/domains/{d}/blacklist", {"number": "(11) 97777-0001", "reason": "trote"}, 201)
    entry = await scene.root.ok("GET", f"/domains/{d}/blacklist/11977770001")
    assert (entry["number"], entry["reason"]) == ("11977770001", "trote")
    assert (await scene.root.ok("GET", f"/domains/{d}/blacklist/+5511977770001"))["number"] == "11977770001"
    status, body = await scene.root.call("GET", f"/domains/{d}/blacklist/11977770002")
    assert_error(status, body, 404, "number")
