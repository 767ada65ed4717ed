"""Issue 13 (supervisor panel): listen / whisper / barge through ChanSpy from the
supervisor's own extension, on the real sandbox with real baresip phones, and the
panel's colour thresholds (stored per domain/queue, validated)."""
from __future__ import annotations

import asyncio
import math
import secrets
import shutil
import struct
import subprocess
import wave
from pathlib import Path
from typing import Any

from tests.support.api import ApiCaller, assert_error
from tests.support.baresip import CONFIG, Phone
from tests.support.telephony import Scene
from tests.support.waiting import eventually


class RecordingPhone(Phone):
    """A baresip that dumps the audio it receives (sndfile: dump-…-dec.wav) and sends a sine of its own."""

    def __init__(self, *args: Any, tone: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tone = tone

    def start(self) -> "RecordingPhone":
        exe = shutil.which("baresip")
        assert exe, "baresip is not installed (apt-get install baresip-core)"
        config = CONFIG.format(sip_port=self.sip_port, ctrl_port=self.ctrl_port).replace("ausine,440",
                                                                                         f"ausine,{self.tone}")
        (self.dir / "config").write_text(config + f"module          sndfile.so\nsnd_path        {self.dir}\n")
        (self.dir / "accounts").write_text(
            f"<sip:{self.username}@127.0.0.1:{self.registrar_port}>;auth_pass={self.password};"
            f"answermode={self.answer};regint={self.regint}\n")
        self.log = open(self.dir / "log", "wb")
        self.proc = subprocess.Popen([exe, "-f", str(self.dir)], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def received(self) -> list[Path]:
        return sorted(self.dir.glob("dump-*-dec.wav"), key=lambda p: p.stat().st_mtime)


def _samples(path: Path) -> tuple[list[int], int]:
    with wave.open(str(path)) as w:
        rate, channels, frames = w.getframerate(), w.getnchannels(), w.readframes(w.getnframes())
    values = list(struct.unpack(f"<{len(frames) // 2}h", frames))
    return values[::channels], rate


def _rms(values: list[int]) -> float:
    return math.sqrt(sum(v * v for v in values) / len(values)) if values else 0.0


def _tone_share(values: list[int], rate: int, freq: float) -> float:
    """Goertzel: the share of the signal's power at ``freq`` (0..1)."""
    if not values:
        return 0.0
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for v in values:
        s1, s2 = v + k * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    total = sum(v * v for v in values) * len(values) / 2
    return power / total if total else 0.0


async def _caller(scene: Scene, queue: str) -> str:
    """A caller into the queue that plays the sandbox's music on hold (a chime, 523–784 Hz): a
    caller who sends audio, so the agent's channel carries frames a whisper is mixed into."""
    token = secrets.token_hex(6)
    uid = f"c{token}-2"
    await scene.services.ami.action({
        "Action": "Originate", "Channel": f"Local/{scene.qname(queue)}@ccplane-queues",
        "Application": "MusicOnHold", "Data": "default", "CallerID": "Caller <11955554444>", "Async": "true",
        "ChannelId": f"c{token}-1", "OtherChannelId": uid})
    await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=uid)
    scene.callers.append(uid)
    return uid


async def _chanspy_of(scene: Scene, spy_channel: str) -> str:
    """ChanSpy's application data on the supervisor's channel, as Asterisk shows it."""
    found: list[str] = []

    async def running() -> bool:
        items = await scene.services.ami.action({"Action": "CoreShowChannels"})
        for item in items:
            if item.get("Event") == "CoreShowChannel" and item.get("Uniqueid") == spy_channel \
                    and item.get("Application") == "ChanSpy":
                found.append(str(item.get("ApplicationData")))
                return True
        return False
    await eventually(running, timeout=15, what=f"ChanSpy running on {spy_channel}")
    return found[-1]


async def _recording_phone(scene: Scene, number: str, *, tone: int) -> RecordingPhone:
    domain = scene.domain
    await scene.root.ok("POST", f"/domains/{domain}/extensions",
                        {"number": number, "name": f"Ext {number}", "secret": f"secret-{number}"}, 201)

    async def endpoint_loaded() -> bool:
        out = await scene.services.ami.command(f"pjsip show endpoint {domain}-{number}")
        return "Unable to find object" not in out
    await eventually(endpoint_loaded, timeout=5, what=f"endpoint {number}")
    phone = RecordingPhone(f"{domain}-{number}", f"secret-{number}", scene.sip_port, answer="auto", tone=tone).start()
    scene.phones.append(phone)

    async def registered() -> bool:
        return bool((await scene.root.ok("GET", f"/domains/{domain}/extensions/{number}"))["registered"])
    await eventually(registered, timeout=20, what=f"{number} registered", details=lambda: phone.output()[-1500:])
    return phone


async def _heard(phone: RecordingPhone, count: int) -> tuple[list[int], int]:
    """What the phone received on its ``count``-th call, once that call's dump is closed."""
    async def closed() -> bool:
        try:  # the header counts the samples once the phone closed the call's dump (0 until then)
            if len(phone.received()) < count:
                return False
            values, rate = _samples(phone.received()[count - 1])
            return len(values) > rate
        except (wave.Error, EOFError, struct.error):
            return False
    def files() -> str:
        return repr([(p.name, p.stat().st_size, p.read_bytes()[:48]) for p in phone.received()])
    await eventually(closed, timeout=10, what="the phone wrote what it heard", details=files)
    values, rate = _samples(phone.received()[count - 1])
    return values[rate // 2:], rate  # past the first half second of set-up


async def test_listen_whisper_barge_through_chanspy(root: ApiCaller, scene: Scene, tmp_path: Path) -> None:
    domain = scene.domain
    agent_phone = await _recording_phone(scene, "7611", tone=440)  # the agent's phone sends 440 Hz
    sup_phone = await _recording_phone(scene, "7612", tone=2000)  # the supervisor's, 2000 Hz
    await scene.queue("escuta", extensions=["7611"])
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "g-escuta", "queues": ["escuta"]}, 201)
    agent = await scene.agent(["escuta"], "7611")
    sup = await root.new_user(domain, "supervisor")
    await root.ok("PATCH", f"/domains/{domain}/users/{sup.username}",  # type: ignore[attr-defined]
                  {"monitoring_groups": ["g-escuta"]})
    outsider = await root.new_user(domain, "supervisor")  # in no monitoring group
    agent_user = await root.new_user(domain, "agent")

    async def answered_call() -> str:
        found: list[str] = []

        async def in_talk() -> bool:
            items = (await root.ok("GET", f"/domains/{domain}/calls"))["items"]
            found[:] = [c["id"] for c in items if c.get("agent") == agent.username  # type: ignore[attr-defined]
                        and c.get("answered_at")]
            return bool(found)
        await eventually(in_talk, timeout=15, what="the agent in talk")
        return found[0]

    caller = await _caller(scene, "escuta")
    call_id = await answered_call()
    spy = f"/domains/{domain}/calls/{call_id}/spy"
    # who may: not an agent, not a supervisor whose groups do not cover the queue
    status, body = await agent_user.call("POST", spy, {"mode": "listen", "extension": "7612"})
    assert_error(status, body, 403)
    status, body = await outsider.call("POST", spy, {"mode": "listen", "extension": "7612"})
    assert_error(status, body, 403)
    # bad input names the field
    for bad, field in (({"mode": "shout", "extension": "7612"}, "mode"), ({"mode": "listen"}, "extension"),
                       ({"mode": "listen", "extension": "9999"}, "extension"),
                       ({"mode": "listen", "extension": "7611"}, "extension")):
        status, body = await sup.call("POST", spy, bad)
        assert status in (404, 422) and body["error"]["field"] == field, (bad, status, body)
    await root.ok("POST", f"/domains/{domain}/extensions", {"number": "7619", "name": "Sem telefone",
                                                          "secret": "secret-7619"}, 201)
    status, body = await sup.call("POST", spy, {"mode": "listen", "extension": "7619"})  # no phone registered
    assert_error(status, body, 409, "extension")
    status, body = await sup.call("POST", f"/domains/{domain}/calls/nosuchcall/spy",
                                  {"mode": "listen", "extension": "7612"})
    assert_error(status, body, 404, "call")

    seen: dict[str, str] = {}
    for n, mode in enumerate(("listen", "whisper", "barge"), start=1):
        if n > 1:  # each mode on a call of its own: what the agent heard is that call's dump
            caller = await _caller(scene, "escuta")
            call_id = await answered_call()
        out = await sup.ok("POST", f"/domains/{domain}/calls/{call_id}/spy", {"mode": mode, "extension": "7612"},
                           202)
        assert (out["mode"], out["agent"], out["extension"]) == (mode, agent.username, "7612")  # type: ignore[attr-defined]
        seen[mode] = await _chanspy_of(scene, out["spy_channel"])
        await asyncio.sleep(3)  # the supervisor hears the call meanwhile (and whispers, barges)
        items = (await root.ok("GET", f"/domains/{domain}/calls"))["items"]
        assert any(c["id"] == call_id for c in items)  # the agent's call goes on through it
        await scene.services.ami.action({"Action": "Hangup", "Channel": out["spy_channel"]})
        await scene.hangup(caller)
        sup_heard, rate = await _heard(sup_phone, n)
        agent_heard, agent_rate = await _heard(agent_phone, n)
        # the supervisor hears the agent's phone (440 Hz), never its own tone
        assert _rms(sup_heard) > 300, f"{mode}: the supervisor heard silence (rms {_rms(sup_heard):.0f})"
        assert _tone_share(sup_heard, rate, 440) > 0.1, (mode, _tone_share(sup_heard, rate, 440))
        assert _tone_share(sup_heard, rate, 2000) < 0.01, (mode, _tone_share(sup_heard, rate, 2000))
        # the agent hears the supervisor (2000 Hz) when whispered to or barged in on, not when listened to
        share = _tone_share(agent_heard, agent_rate, 2000)
        if mode == "listen":
            assert share < 0.01, f"listen: the agent heard the supervisor ({share:.3f})"
        else:
            assert share > 0.2, f"{mode}: the agent did not hear the supervisor ({share:.3f})"
        await eventually(lambda: _available(root, domain, agent.username), timeout=15,  # type: ignore[attr-defined]
                         what="the agent free again")
    agent_chans = {m: d.split(",")[0] for m, d in seen.items()}
    assert all(c.startswith(f"PJSIP/{domain}-7611-") for c in agent_chans.values()), seen
    assert {m: d.split(",")[1] for m, d in seen.items()} == {"listen": "qES", "whisper": "qwES", "barge": "qBES"}

    # a call that ended cannot be listened to (an administrator needs no monitoring group, still a 404)
    admin = await root.new_user(domain, "admin")
    status, body = await admin.call("POST", f"/domains/{domain}/calls/{call_id}/spy",
                                    {"mode": "listen", "extension": "7612"})
    assert_error(status, body, 404, "call")


async def _available(root: ApiCaller, domain: str, username: str) -> bool:
    return bool((await root.ok("GET", f"/domains/{domain}/agents/{username}"))["state"] == "available")


async def test_panel_thresholds_stored_and_validated(root: ApiCaller, domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "vendas"}, 201)
    sup = await root.new_user(domain, "admin")  # an administrator sets any queue's rows and the domain's default
    agent = await root.new_user(domain, "agent")
    assert (await sup.ok("GET", f"/domains/{domain}/panel-thresholds")) == {"items": [], "total": 0}
    items = [{"figure": "longest_wait", "yellow": 30, "red": 60},
             {"figure": "service_level", "yellow": 80, "red": 60},
             {"queue": "vendas", "figure": "waiting", "yellow": 2, "red": 4}]
    saved = await sup.ok("PUT", f"/domains/{domain}/panel-thresholds", {"items": items})
    assert saved["total"] == 3
    assert {(i["queue"], i["figure"], i["yellow"], i["red"]) for i in saved["items"]} == {
        ("", "longest_wait", 30, 60), ("", "service_level", 80, 60), ("vendas", "waiting", 2, 4)}
    for bad, field in (([{"queue": "nada", "figure": "waiting", "yellow": 1, "red": 2}], "items[0].queue"),
                       ([{"figure": "longest_wait", "yellow": 60, "red": 30}], "items[0].red"),
                       ([{"figure": "service_level", "yellow": 60, "red": 80}], "items[0].red"),
                       ([{"figure": "service_level", "yellow": 180, "red": 80}], "items[0].yellow"),
                       ([{"figure": "waiting", "yellow": 1, "red": 2}, {"figure": "waiting", "yellow": 1, "red": 3}],
                        "items[1].figure")):
        status, body = await sup.call("PUT", f"/domains/{domain}/panel-thresholds", {"items": bad})
        assert_error(status, body, 422, field)
    status, body = await sup.call("PUT", f"/domains/{domain}/panel-thresholds",
                                  {"items": [{"figure": "loudness", "yellow": 1, "red": 2}]})
    assert status == 422 and "figure" in (body["error"]["field"] or ""), body
    status, body = await agent.call("PUT", f"/domains/{domain}/panel-thresholds", {"items": []})
    assert_error(status, body, 403)
    after = await root.ok("GET", f"/domains/{domain}/panel-thresholds")
    assert after["total"] == 3  # nothing half-written by the refusals


async def test_a_supervisor_sets_thresholds_of_their_groups_queues_only(root: ApiCaller, domain: str) -> None:
    """A supervisor's PUT covers their monitoring groups' queues: a row for another queue or for
    every queue (the domain's default) is 403 naming items[i].queue and changes nothing; an
    accepted PUT replaces their queues' rows and keeps the administrators' others."""
    for q in ("suporte", "vendas", "cobranca"):
        await root.ok("POST", f"/domains/{domain}/queues", {"name": q}, 201)
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "Atendimento/Suporte",
                                                                     "queues": ["suporte", "cobranca"]}, 201)
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "Comercial", "queues": ["vendas"]}, 201)
    sup = await root.new_user(domain, "supervisor")
    await root.ok("PATCH", f"/domains/{domain}/users/{sup.username}",  # type: ignore[attr-defined]
                  {"monitoring_groups": ["Atendimento/Suporte"]})
    admin = await root.new_user(domain, "admin")
    default = [{"figure": "longest_wait", "yellow": 30, "red": 60},
               {"queue": "vendas", "figure": "waiting", "yellow": 2, "red": 4},
               {"queue": "suporte", "figure": "waiting", "yellow": 5, "red": 9}]
    await admin.ok("PUT", f"/domains/{domain}/panel-thresholds", {"items": default})
    mine = {"queue": "suporte", "figure": "waiting", "yellow": 1, "red": 3}
    for bad, field in (([mine, {"queue": "vendas", "figure": "waiting", "yellow": 1, "red": 2}], "items[1].queue"),
                       ([{"figure": "service_level", "yellow": 80, "red": 60}], "items[0].queue")):
        status, body = await sup.call("PUT", f"/domains/{domain}/panel-thresholds", {"items": bad})
        assert_error(status, body, 403, field)
    status, body = await sup.call("PUT", f"/domains/{domain}/panel-thresholds",
                                  {"items": [{"queue": "nada", "figure": "waiting", "yellow": 1, "red": 2}]})
    assert_error(status, body, 422, "items[0].queue")
    rows = lambda got: sorted((i["queue"], i["figure"], i["yellow"], i["red"]) for i in got["items"])  # noqa: E731
    assert rows(await root.ok("GET", f"/domains/{domain}/panel-thresholds")) == [
        ("", "longest_wait", 30, 60), ("suporte", "waiting", 5, 9), ("vendas", "waiting", 2, 4)]  # unchanged
    saved = await sup.ok("PUT", f"/domains/{domain}/panel-thresholds",
                         {"items": [mine, {"queue": "cobranca", "figure": "longest_wait", "yellow": 40, "red": 90}]})
    assert rows(saved) == [("", "longest_wait", 30, 60), ("cobranca", "longest_wait", 40, 90),
                           ("suporte", "waiting", 1, 3), ("vendas", "waiting", 2, 4)]
    cleared = await sup.ok("PUT", f"/domains/{domain}/panel-thresholds", {"items": []})  # their rows only
    assert rows(cleared) == [("", "longest_wait", 30, 60), ("vendas", "waiting", 2, 4)]
    # an administrator: any queue of the domain, and a PUT replaces every row
    saved = await admin.ok("PUT", f"/domains/{domain}/panel-thresholds",
                           {"items": [{"queue": "vendas", "figure": "waiting", "yellow": 3, "red": 5}]})
    assert rows(saved) == [("vendas", "waiting", 3, 5)]
