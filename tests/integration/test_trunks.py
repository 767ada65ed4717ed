"""Outbound calling through per-domain trunks to a real second Asterisk (the
carrier), and the alert call reaching the person's phone through them."""
from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.sandbox import SandboxState
from tests.support.api import assert_error
from tests.support.carrier import ACCOUNT, ACCOUNT_SECRET, start_carrier
from tests.support.telephony import Recorder, Scene
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def carrier() -> Any:
    sandbox, state = start_carrier()
    yield state
    sandbox.down()


@pytest.fixture
async def carrier_events(carrier: SandboxState) -> AsyncIterator[Recorder]:
    ami = AmiClient("127.0.0.1", carrier.ami_port, carrier.ami_username, carrier.ami_secret)
    recorder = Recorder()
    ami.on_event(recorder, names=("UserEvent",))
    await ami.start()
    await ami.wait_connected(10)
    yield recorder
    await ami.stop()


async def setup_trunk(scene: Scene, carrier: SandboxState) -> None:
    await scene.root.ok("POST", f"/domains/{scene.domain}/trunks",
                        {"name": "carrier", "host": "127.0.0.1", "port": carrier.sip_port,
                         "caller_id": "1140040000"}, 201)
    await scene.root.ok("POST", f"/domains/{scene.domain}/outbound-routes",
                        {"name": "brasil", "patterns": ["_0XXXXXXXXXX", "_XXXXXXXXXX", "_XXXXXXXXXXX"],
                         "trunks": ["carrier"], "strip": 0, "prefix": ""}, 201)


async def test_outbound_route_reaches_the_carrier(scene: Scene, carrier: SandboxState,
                                                  carrier_events: Recorder) -> None:
    await setup_trunk(scene, carrier)
    number = "119" + str(secrets.randbelow(10**8)).zfill(8)
    await scene.services.ami.action({"Action": "Originate", "Channel": f"Local/{number}@ccplane-d-{scene.domain}",
                                     "Application": "Wait", "Data": "10", "Async": "true"})
    got = await carrier_events.wait_for("UserEvent", UserEvent="CarrierCall", Number=number, timeout=10)
    assert got[0][1].fields.get("From") == "1140040000"


async def test_trunk_status_follows_the_carrier(scene: Scene, carrier: SandboxState) -> None:
    await setup_trunk(scene, carrier)

    async def status() -> str:
        return (await scene.root.ok("GET", f"/domains/{scene.domain}/trunks"))["items"][0]["status"]
    await eventually(lambda: _is(status, "reachable"), timeout=15, what="trunk reachable")
    await scene.root.ok("POST", f"/domains/{scene.domain}/trunks",
                        {"name": "nowhere", "host": "127.0.0.1", "port": 5999}, 201)

    async def dead() -> bool:
        items = (await scene.root.ok("GET", f"/domains/{scene.domain}/trunks"))["items"]
        return next(t for t in items if t["name"] == "nowhere")["status"] == "unreachable"
    await eventually(dead, timeout=20, what="trunk to a closed port unreachable")


async def test_registering_trunk_registers_with_the_carrier(scene: Scene, carrier: SandboxState) -> None:
    base = f"/domains/{scene.domain}/trunks"
    await scene.root.ok("POST", base, {"name": "reg", "host": "127.0.0.1", "port": carrier.sip_port,
                                       "username": ACCOUNT, "secret": ACCOUNT_SECRET, "register": True}, 201)
    await scene.root.ok("POST", base, {"name": "stranger", "host": "127.0.0.1", "port": carrier.sip_port,
                                       "username": "ccplane-stranger", "secret": "whatever", "register": True}, 201)
    await scene.root.ok("POST", base, {"name": "overtcp", "host": "127.0.0.1", "port": carrier.sip_port,
                                       "transport": "tcp", "username": ACCOUNT, "secret": ACCOUNT_SECRET,
                                       "register": True}, 201)

    async def registration(name: str) -> str:
        items = (await scene.root.ok("GET", base))["items"]
        return str(next(t for t in items if t["name"] == name)["status"]).split("; ")[-1]
    await eventually(lambda: _is(lambda: registration("reg"), "registration registered"), timeout=15,
                     what="the trunk registered")
    await eventually(lambda: _is(lambda: registration("stranger"), "registration rejected"), timeout=15,
                     what="an account the carrier does not know rejected")
    # its server URI keeps ";transport=tcp" (escaped in pjsip.conf, or Asterisk reads a comment there)
    await eventually(lambda: _is(lambda: registration("overtcp"), "registration registered"), timeout=15,
                     what="the TCP trunk registered")

    side = AmiClient("127.0.0.1", carrier.ami_port, carrier.ami_username, carrier.ami_secret)
    await side.start()
    try:
        await side.wait_connected(10)
        contacts = await side.action({"Action": "PJSIPShowContacts"})
        assert any(str(c.get("ObjectName", "")).startswith(ACCOUNT + ";@") for c in contacts), contacts  # ours
    finally:
        await side.stop()

    # ccplane restarts its AMI link: the status is read back from Asterisk, not
    # left "pending" until the next re-registration (an hour away)
    scene.services.trunks.registrations.clear()
    await scene.services.ami.stop()
    await scene.services.ami.start()
    await scene.services.ami.wait_connected(15)
    await eventually(lambda: _is(lambda: registration("reg"), "registration registered"), timeout=10,
                     what="the registration read back after a reconnect")


async def _is(probe: Any, expected: str) -> bool:
    return bool(await probe() == expected)


async def test_trunk_and_route_bad_input(scene: Scene) -> None:
    base = f"/domains/{scene.domain}/trunks"
    for body, field in (({"name": "x", "host": "bad host"}, "host"),
                        ({"name": "x", "host": "h", "port": 0}, "port"),
                        ({"name": "x", "host": "h", "transport": "sctp"}, "transport"),
                        ({"name": "x", "host": "h", "register": True}, "register")):
        status, resp = await scene.root.call("POST", base, body)
        assert_error(status, resp, 422, field)
    status, resp = await scene.root.call("POST", f"/domains/{scene.domain}/outbound-routes",
                                         {"name": "r", "patterns": ["_X."], "trunks": ["ghost"]})
    assert_error(status, resp, 422, "trunks")
    status, resp = await scene.root.call("POST", f"/domains/{scene.domain}/outbound-routes",
                                         {"name": "r", "patterns": ["x]\n[evil"], "trunks": ["ghost"]})
    assert_error(status, resp, 422, "patterns.0")


async def test_alert_call_bridges_the_attendant_to_the_persons_phone(
        scene: Scene, carrier: SandboxState, carrier_events: Recorder, sandbox: SandboxState) -> None:
    await setup_trunk(scene, carrier)
    await scene.extension("9001", phone="auto")
    await scene.queue("monitor", strategy="ringall", ring_timeout=5, extensions=["9001"])
    await scene.root.ok("PUT", f"/domains/{scene.domain}/alert-app", {"monitoring_queue": "monitor"})
    await scene.agent(["monitor"], "9001")
    phone = "119" + str(secrets.randbelow(10**8)).zfill(8)
    await scene.root.ok("POST", f"/domains/{scene.domain}/monitored-persons",
                        {"name": "Joana da Silva", "cpf": "52998224725", "phone": phone, "password": "app-password"},
                        201)
    token = await scene.root.ok("POST", f"/app/{scene.domain}/login",
                                {"cpf": "52998224725", "password": "app-password"})
    resp = await scene.root.client.post(f"/api/v1/app/{scene.domain}/alerts", json={"level": "red", "location": None},
                                        headers={"Authorization": f"Bearer {token['access_token']}"})
    assert resp.status == 201
    await scene.recorder.wait_for("AgentConnect", Queue=scene.qname("monitor"), timeout=15)
    await carrier_events.wait_for("UserEvent", UserEvent="CarrierCall", Number=phone, timeout=15)

    async def recorded() -> dict[str, Any] | None:
        alert = (await scene.root.ok("GET", f"/domains/{scene.domain}/alerts"))["items"][0]
        return alert if alert["recording"] else None
    alert = await eventually(recorded, timeout=5, what="the recording linked to the alert")
    assert 0 < alert["seconds_to_answer"] < 15  # the SLA clock: alert -> attendant answered
    monitor = Path(sandbox.config_dir).parent / "spool" / "monitor" / alert["recording"]
    await eventually(lambda: asyncio.sleep(0, monitor.exists()), timeout=5, what=f"{monitor} on disk")
