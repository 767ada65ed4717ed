"""Calling through per-domain trunks to and from a real second Asterisk (the
carrier): outbound routes, the alert call reaching the person's phone, and the
carrier's calls reaching queues (identified by address or registration)."""
from __future__ import annotations

import asyncio
import secrets
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.sandbox import SandboxState
from tests.support.api import assert_error
from tests.support.carrier import ACCOUNT, ACCOUNT_SECRET, LINE_ACCOUNT, place_call, registered_contact
from tests.support.telephony import Recorder, Scene
from tests.support.waiting import eventually


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


def _did(scene: Scene, suffix: str) -> str:
    return "3" + str(int(scene.domain[1:], 16) % 10**7).zfill(7) + suffix


async def _queue_route(scene: Scene, did: str) -> None:
    await scene.queue("inbound", strategy="ringall", ring_timeout=5)
    await scene.root.ok("POST", f"/domains/{scene.domain}/routes",
                        {"did": did, "destination": {"type": "queue", "target": "inbound"}}, 201)


async def _hangup_carrier(carrier: SandboxState, channel_id: str) -> None:
    side = AmiClient("127.0.0.1", carrier.ami_port, carrier.ami_username, carrier.ami_secret)
    await side.start()
    try:
        await side.wait_connected(10)
        await side.action({"Action": "Hangup", "Channel": channel_id})
    except Exception:  # noqa: BLE001 - already gone
        pass
    finally:
        await side.stop()


async def test_carrier_call_identified_by_address_reaches_the_queue_with_the_callers_number(
        scene: Scene, carrier: SandboxState, sandbox: SandboxState) -> None:
    """A carrier that knows its customer by IP puts the caller's number in From: the
    trunk is found by source address (type=identify), the call enters ccplane-inbound
    with the DID and queues with the number in its canonical form."""
    await setup_trunk(scene, carrier)
    did = _did(scene, "1")
    await _queue_route(scene, did)
    channel = await place_call(carrier, did, "+55 11 98765-4321", customer_port=sandbox.sip_port)
    try:
        joined = await scene.recorder.wait_for("QueueCallerJoin", Queue=scene.qname("inbound"), timeout=15)
        fields = joined[0][1].fields
        assert fields.get("CallerIDNum") == "11987654321"
        assert str(fields.get("Channel")).startswith("PJSIP/trunk_"), fields  # a trunk, not an anonymous caller
    finally:
        await _hangup_carrier(carrier, channel)


async def test_carrier_call_to_a_registered_trunk_reaches_the_queue(
        scene: Scene, carrier: SandboxState) -> None:
    """A registered trunk: the carrier sends the call to the contact ccplane registered
    (its ;line= parameter kept, the DID as user); Asterisk ties it to that trunk."""
    await scene.root.ok("POST", f"/domains/{scene.domain}/trunks",
                        {"name": "line", "host": "127.0.0.1", "port": carrier.sip_port,
                         "username": LINE_ACCOUNT, "secret": ACCOUNT_SECRET, "register": True}, 201)
    did = _did(scene, "2")
    await _queue_route(scene, did)
    base = f"/domains/{scene.domain}/trunks"

    async def registered() -> bool:
        return str((await scene.root.ok("GET", base))["items"][0]["status"]).endswith("registration registered")
    await eventually(registered, timeout=15, what="the trunk registered")  # the carrier kept no older contact
    contact = await registered_contact(carrier)
    assert contact is not None
    assert "line=" in contact
    channel = await place_call(carrier, did, "011987650000", contact=contact)
    try:
        joined = await scene.recorder.wait_for("QueueCallerJoin", Queue=scene.qname("inbound"), timeout=15)
        fields = joined[0][1].fields
        assert fields.get("CallerIDNum") == "11987650000"
        assert str(fields.get("Channel")).startswith(f"PJSIP/trunk_{scene.domain}_line-"), fields
    finally:
        await _hangup_carrier(carrier, channel)


LOOKUP_FAILURES = ("getaddrinfo", "Unable to lookup", "ROOT-SERVERS", "Unable to get own IP")


async def test_calls_make_asterisk_resolve_no_names(scene: Scene, carrier: SandboxState,
                                                    sandbox: SandboxState) -> None:
    """Every RTP session made Asterisk look its host name up (ast_find_ourip); with no
    /etc/hosts in the chroot that went to DNS, failed, and some lookups hung PJSIP's
    threads for seconds. The chroot names this machine; real calls log no lookup."""
    rootfs = sandbox.rootfs
    out = subprocess.run(["chroot", rootfs, "getent", "hosts", socket.gethostname()], capture_output=True,
                         text=True, timeout=5)
    assert out.returncode == 0 and out.stdout.split()[0] == "127.0.0.1", out
    log = Path(sandbox.config_dir).parent / "log" / "messages.log"
    start = log.stat().st_size
    await setup_trunk(scene, carrier)
    did = _did(scene, "4")
    await _queue_route(scene, did)
    channels = [await place_call(carrier, did, f"1198765000{i}", customer_port=sandbox.sip_port) for i in range(3)]
    try:
        await scene.recorder.wait_for("QueueCallerJoin", Queue=scene.qname("inbound"), count=3, timeout=15)
    finally:
        for channel in channels:
            await _hangup_carrier(carrier, channel)
    with log.open("rb") as fh:
        fh.seek(start)
        lines = fh.read().decode("utf-8", "replace").splitlines()
    # Only the lookups a call makes count (ast_find_ourip: this host's name, then
    # A.ROOT-SERVERS.NET): a trunk host another test configured (the fuzz tier's
    # "b") is resolved at each pjsip reload, which is configuration, not a call.
    own = socket.gethostname()
    per_call = [line for line in lines if any(s in line for s in LOOKUP_FAILURES)
                and ("ROOT-SERVERS" in line or "own IP" in line or own in line)]
    assert not per_call, per_call


@pytest.mark.parametrize(("sent", "kept"), [("5511987654321", "11987654321"), ("01511987654321", "11987654321"),
                                             ("1133334444", "1133334444"), ("+14155550100", "+14155550100"),
                                             ("4004", "4004")])
async def test_inbound_caller_number_in_canonical_form(scene: Scene, sent: str, kept: str) -> None:
    did = _did(scene, "3")
    await _queue_route(scene, did)
    token = secrets.token_hex(6)
    await scene.services.ami.action({"Action": "Originate", "Channel": f"Local/{did}@ccplane-inbound",
                                     "Application": "Wait", "Data": "30", "CallerID": f"X <{sent}>",
                                     "Async": "true", "ChannelId": f"n{token}-1", "OtherChannelId": f"n{token}-2"})
    scene.callers.append(f"n{token}-2")
    joined = await scene.recorder.wait_for("QueueCallerJoin", Queue=scene.qname("inbound"), timeout=10)
    assert joined[0][1].fields.get("CallerIDNum") == kept


async def _is(probe: Any, expected: str) -> bool:
    return bool(await probe() == expected)


async def test_trunk_and_route_bad_input(scene: Scene) -> None:
    base = f"/domains/{scene.domain}/trunks"
    for body, field in (({"name": "x", "host": "bad host"}, "host"),
                        ({"name": "x", "host": "h", "port": 0}, "port"),
                        ({"name": "x", "host": "h", "transport": "sctp"}, "transport"),
                        ({"name": "x", "host": "h", "register": True}, "register"),
                        ({"name": "x", "host": "h", "match": ["10.0.0.0/33"]}, "match.0"),
                        ({"name": "x", "host": "h", "match": ["x]\n[evil"]}, "match.0")):
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
