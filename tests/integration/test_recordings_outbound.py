"""An outbound route with ``record``: the call through the carrier sandbox is
recorded from the answer to the hangup, listed as ``outbound``."""
from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

from ccplane.asterisk.sandbox import SandboxState
from tests.integration.test_recordings import EXTRA_EVENTS, answered_at, download, ready_recordings, sox_stat
from tests.support.telephony import Scene


async def test_outbound_route_records(scene: Scene, carrier: SandboxState, tmp_path: Path) -> None:  # noqa: F811
    scene.services.ami.on_event(scene.recorder, names=EXTRA_EVENTS)
    d = scene.domain
    await scene.root.ok("POST", f"/domains/{d}/trunks", {"name": "carrier", "host": "127.0.0.1",
                                                         "port": carrier.sip_port, "caller_id": "1140040000"}, 201)
    route = await scene.root.ok("POST", f"/domains/{d}/outbound-routes", {
        "name": "gravada", "patterns": ["_XXXXXXXXXXX"], "trunks": ["carrier"], "record": True}, 201)
    assert route["record"] is True
    number = "119" + str(secrets.randbelow(10**8)).zfill(8)
    token = secrets.token_hex(6)
    # our side plays music: the recording has sound even though the carrier only listens
    await scene.services.ami.action({
        "Action": "Originate", "Channel": f"Local/{number}@ccplane-d-{d}", "Application": "MusicOnHold",
        "Data": "default", "Async": "true", "ChannelId": f"o{token}-1", "OtherChannelId": f"o{token}-2"})
    answered = await answered_at(scene, "PJSIP/")  # the trunk channel: the carrier answered
    await asyncio.sleep(2)
    await scene.services.ami.action({"Action": "Hangup", "Channel": f"o{token}-1"})
    hung = time.monotonic()
    (rec,) = await ready_recordings(scene, f"o{token}-1", 1)
    assert (rec["kind"], rec["queue"], rec["agent"]) == ("outbound", None, None)
    assert abs(rec["duration"] - (hung - answered)) <= 1.0, (rec, hung - answered)
    status, _, data = await download(scene.root, f"/domains/{d}/recordings/{rec['id']}/audio")
    assert status == 200
    assert sox_stat(data, tmp_path, "outbound.wav")["RMS     amplitude"] > 0.01
