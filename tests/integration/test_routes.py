"""Inbound routes, unknown DIDs, prompts and bad input for issue 4's endpoints."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from aiohttp import FormData

from tests.support.api import assert_error
from tests.support.ivr import Caller
from tests.support.telephony import Scene


async def test_unknown_did_rings_then_is_rejected(scene: Scene) -> None:
    caller = await Caller(scene.services, scene.recorder, "99990000123").dial()
    started = time.monotonic()
    hung = await scene.recorder.wait_for("Hangup", Uniqueid=caller.inner, timeout=10)
    assert hung[0][1].fields.get("Cause") == "1"  # unallocated number
    assert 1.5 <= hung[0][0] - started <= 5  # rang for unknown_did_delay (2 s) first


async def test_route_to_hangup_waits_reject_delay(scene: Scene) -> None:
    did = "5511" + str(int(scene.domain[1:], 16) % 10**7).zfill(7)
    await scene.root.ok("POST", f"/domains/{scene.domain}/routes",
                        {"did": did, "destination": {"type": "hangup"}, "reject_delay": 2}, 201)
    caller = await Caller(scene.services, scene.recorder, did).dial()
    started = time.monotonic()
    hung = await scene.recorder.wait_for("Hangup", Uniqueid=caller.inner, timeout=10)
    assert hung[0][1].fields.get("Cause") == "21"
    assert hung[0][0] - started >= 1.8


async def test_prompt_upload_converts_and_refuses_junk(scene: Scene, app_client: Any, tmp_path: Path) -> None:
    wav = tmp_path / "hello.wav"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(wav), "synth", "0.5", "sine", "440"], check=True,
                   timeout=30)
    headers = {"Authorization": f"Bearer {scene.root.token}"}
    form = FormData()
    form.add_field("name", "hello")
    form.add_field("file", wav.read_bytes(), filename="hello.wav", content_type="audio/wav")
    resp = await app_client.post(f"/api/v1/domains/{scene.domain}/prompts", data=form, headers=headers)
    assert resp.status == 201, await resp.text()
    stored = scene.services.prompts.sounds_dir / "ccplane" / scene.domain / "hello.wav"
    info = subprocess.run(["soxi", str(stored)], capture_output=True, text=True, check=True, timeout=30).stdout
    assert "8000" in info and "Channels       : 1" in info
    # now usable in a tree
    await scene.root.ok("POST", f"/domains/{scene.domain}/ivrs",
                        {"name": "greet", "root": {"type": "play", "prompt": "hello"}}, 201)
    junk = FormData()
    junk.add_field("name", "junk")
    junk.add_field("file", b"this is not audio at all", filename="junk.wav", content_type="audio/wav")
    resp = await app_client.post(f"/api/v1/domains/{scene.domain}/prompts", data=junk, headers=headers)
    body = await resp.json()
    assert_error(resp.status, body, 422, "file")
    assert await scene.root.ok("GET", f"/domains/{scene.domain}/prompts") == ["hello"]
    resp = await app_client.post(f"/api/v1/domains/{scene.domain}/prompts", json={"name": "x"}, headers=headers)
    assert_error(resp.status, await resp.json(), 415)  # issue 9: not multipart is an unsupported media type


async def test_routes_and_blacklist_refuse_bad_input(scene: Scene, other_domain: str) -> None:
    base = f"/domains/{scene.domain}/routes"
    for body, field in (
        ({"did": "abc", "destination": {"type": "hangup"}}, "did"),
        ({"did": "1234", "destination": {"type": "queue", "target": "missing"}}, "destination.target"),
        ({"did": "1234", "destination": {"type": "queue"}}, "destination"),
        ({"did": "1234", "destination": {"type": "fax", "target": "x"}}, "destination.type"),
        ({"did": "1234", "destination": {"type": "hangup"}, "reject_delay": 99}, "reject_delay"),
        ({"did": "1234"}, "destination"),
    ):
        status, resp = await scene.root.call("POST", base, body)
        assert_error(status, resp, 422, field)
    did = "4830" + str(int(scene.domain[1:], 16) % 10**6).zfill(6)
    await scene.root.ok("POST", base, {"did": did, "destination": {"type": "hangup"}}, 201)
    status, resp = await scene.root.call("POST", f"/domains/{other_domain}/routes",
                                         {"did": did, "destination": {"type": "hangup"}})
    assert_error(status, resp, 409, "did")  # DIDs are unique across domains
    assert (await scene.root.ok("GET", f"/domains/{other_domain}/routes"))["total"] == 0
    bl = f"/domains/{scene.domain}/blacklist"
    for body, field in (({"number": "12ab"}, "number"), ({"number": "1"}, "number"), ({}, "number")):
        status, resp = await scene.root.call("POST", bl, body)
        assert_error(status, resp, 422, field)
    await scene.root.ok("POST", bl, {"number": "11 3333-4444"}, 201)
    status, resp = await scene.root.call("POST", bl, {"number": "+551133334444"})
    assert_error(status, resp, 409, "number")  # the same caller in another form
    listed = await scene.root.ok("GET", bl)
    assert listed["items"][0]["number"] == "1133334444" and "_0ZX1133334444" in listed["items"][0]["matches"]
    await scene.root.ok("DELETE", bl + "/01133334444", status=204)
    assert (await scene.root.ok("GET", bl))["total"] == 0
    agent = await scene.root.new_user(scene.domain, "agent")
    status, resp = await agent.call("POST", bl, {"number": "1144445555"})
    assert_error(status, resp, 403)


async def test_pt_br_system_prompts_are_generated(scene: Scene) -> None:
    system = scene.services.prompts.sounds_dir / "ccplane" / "system"
    for name in ("opcao-invalida", "tempo-esgotado"):
        info = subprocess.run(["soxi", str(system / f"{name}.wav")], capture_output=True, text=True, check=True,
                              timeout=30)
        assert "8000" in info.stdout and "Channels       : 1" in info.stdout
        duration = subprocess.run(["soxi", "-D", str(system / f"{name}.wav")], capture_output=True, text=True,
                                  check=True, timeout=30)
        assert float(duration.stdout) > 0.3  # something is actually spoken
    # the menu defaults use them
    await scene.root.ok("POST", f"/domains/{scene.domain}/ivrs",
                        {"name": "pt", "root": {"type": "menu", "prompt": "beep", "options": {"1": {"type": "hangup"}}}},
                        201)
    dialplan = scene.services.renderer.out_dir.joinpath("extensions.conf").read_text()
    assert "Playback(ccplane/system/opcao-invalida)" in dialplan
