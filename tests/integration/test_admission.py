"""Admission control at ccplane-inbound: beyond a ceiling a call is refused before it
is answered, with its reason recorded, and the calls already up are untouched."""
from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.sandbox import SandboxState
from ccplane.settings import Settings, load_settings
from tests.support.carrier import place_call, start_carrier
from tests.support.telephony import Recorder, Scene
from tests.support.waiting import eventually

# each test's ceilings, rendered into the shared sandbox while it runs; the next
# test's app renders its own (none) when it starts
CEILINGS = {
    "test_calls_beyond_the_domains_ceiling_are_refused_busy": {"MAX_CALLS_PER_DOMAIN": "2"},
    "test_new_calls_beyond_the_rate_are_refused_congestion": {"MAX_NEW_PER_SECOND": "4"},
    "test_a_carrier_call_beyond_the_ceiling_gets_486": {"MAX_CALLS_PER_DOMAIN": "2"},
}


@pytest.fixture
def settings(migrated_url: str, base_env: dict[str, str], request: pytest.FixtureRequest) -> Settings:
    ceilings = {f"CCPLANE_ADMISSION_{k}": v for k, v in CEILINGS[request.node.originalname].items()}
    return load_settings(env={**base_env, "CCPLANE_DATABASE_URL": migrated_url, **ceilings})


def _did(scene: Scene, suffix: str) -> str:
    return "4" + str(int(scene.domain[1:], 16) % 10**7).zfill(7) + suffix


async def _route_to_queue(scene: Scene, did: str) -> None:
    await scene.queue("door", strategy="ringall", ring_timeout=5)
    await scene.root.ok("POST", f"/domains/{scene.domain}/routes",
                        {"did": did, "destination": {"type": "queue", "target": "door"}}, 201)


async def _dial(scene: Scene, did: str) -> str:
    token = secrets.token_hex(6)
    await scene.services.ami.action({"Action": "Originate", "Channel": f"Local/{did}@ccplane-inbound",
                                     "Application": "Wait", "Data": "30", "CallerID": "X <11987654321>",
                                     "Async": "true", "ChannelId": f"a{token}-1", "OtherChannelId": f"a{token}-2"})
    scene.callers.append(f"a{token}-2")
    return f"a{token}-2"


def _queue_log(sandbox: SandboxState) -> Path:
    return Path(sandbox.config_dir).parent / "log" / "queue_log"


async def test_calls_beyond_the_domains_ceiling_are_refused_busy(scene: Scene, sandbox: SandboxState) -> None:
    did = _did(scene, "1")
    await _route_to_queue(scene, did)
    first, second = await _dial(scene, did), await _dial(scene, did)
    await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=first)
    await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=second)
    third = await _dial(scene, did)
    hung = await scene.recorder.wait_for("Hangup", Uniqueid=third, timeout=10)
    assert hung[0][1].fields.get("Cause") == "17"  # user busy: SIP 486 on a trunk
    refused = await scene.recorder.wait_for("UserEvent", UserEvent="CcplaneRefused", Did=did)
    assert refused[0][1].fields.get("Reason") == "max_calls_per_domain"
    assert not scene.recorder.matching("QueueCallerJoin", Uniqueid=third)
    assert not scene.recorder.matching("Hangup", Uniqueid=first)  # the calls up are untouched
    lines = _queue_log(sandbox).read_text(errors="replace").splitlines()
    assert any(f"|{third}|NONE|NONE|CCPLANE_REFUSED|max_calls_per_domain|{scene.domain}|" in line
               for line in lines)
    # a place frees up: the next call is admitted
    await scene.hangup(first)
    await scene.recorder.wait_for("Hangup", Uniqueid=first)
    fourth = await _dial(scene, did)
    await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=fourth)


async def test_new_calls_beyond_the_rate_are_refused_congestion(scene: Scene) -> None:
    """4 new calls/s at most: ten calls dialled within a second (so at most two of the
    counter's seconds) get at least two refusals for the rate (503 on a trunk)."""
    did = _did(scene, "2")
    await scene.root.ok("POST", f"/domains/{scene.domain}/routes",
                        {"did": did, "destination": {"type": "hangup"}, "reject_delay": 0}, 201)
    started = time.monotonic()
    calls = [await _dial(scene, did) for _ in range(10)]
    assert time.monotonic() - started < 1.0  # within at most two of the counter's seconds

    async def all_ended() -> list[str] | None:
        ended = [c for c in calls if scene.recorder.matching("Hangup", Uniqueid=c)]
        return ended if len(ended) == len(calls) else None
    await eventually(all_ended, timeout=10, what="every call ended")
    refused = scene.recorder.matching("UserEvent", UserEvent="CcplaneRefused", Did=did,
                                      Reason="max_new_per_second")
    causes = {c: str(scene.recorder.matching("Hangup", Uniqueid=c)[0][1].fields.get("Cause")) for c in calls}
    assert len(refused) >= 2
    assert sum(1 for cause in causes.values() if cause == "34") == len(refused)  # congestion
    assert sum(1 for cause in causes.values() if cause == "21") <= 8  # admitted: the route's own rejection


async def test_a_carrier_call_beyond_the_ceiling_gets_486(scene: Scene, sandbox: SandboxState) -> None:
    """Over a real trunk the refusal is a SIP final response the carrier can act on."""
    carrier, state = start_carrier()
    try:
        await scene.root.ok("POST", f"/domains/{scene.domain}/trunks",
                            {"name": "carrier", "host": "127.0.0.1", "port": state.sip_port}, 201)
        did = _did(scene, "3")
        await _route_to_queue(scene, did)
        for _ in range(2):
            await _dial(scene, did)
        await scene.recorder.wait_for("QueueCallerJoin", Queue=scene.qname("door"), count=2)
        side = AmiClient("127.0.0.1", state.ami_port, state.ami_username, state.ami_secret)
        seen = Recorder()
        side.on_event(seen, names=("Hangup",))
        await side.start()
        try:
            await side.wait_connected(10)
            channel = await place_call(state, did, "11987654321", customer_port=sandbox.sip_port)
            hung = await seen.wait_for("Hangup", Uniqueid=channel, timeout=15)
        finally:
            await side.stop()
        assert hung[0][1].fields.get("Cause") == "17"  # the carrier read 486 Busy Here
        refused = await scene.recorder.wait_for("UserEvent", UserEvent="CcplaneRefused", Did=did)
        assert refused[0][1].fields.get("Reason") == "max_calls_per_domain"
    finally:
        carrier.down()
