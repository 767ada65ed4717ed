#!/usr/bin/env python
"""Benchmark: real SIP callers with RTP through a carrier trunk into a queue of real
SIP agents, at stepped rates.

A benchmark, not a test: it prints figures and asserts nothing. Pieces::

    SIPp "carrier" (UAC)  --INVITE+RTP-->  trunk "carrier" (identified by address)
        -> ccplane-inbound (DID) -> queue "q" -> agents
    SIPp "agents": registers every agent's extension from one port, then answers
                   the calls Asterisk sends there (out-of-call scenario), echoing RTP
    ccplane serve (subprocess, SQLite in a temp dir) on the developer's sandbox

For each rate (calls/s) it offers calls for ``--seconds``, each talking ``--talk``
seconds (the caller plays RTP, the agent echoes it), and prints: calls offered,
successful, failed; answer time (INVITE -> 200) p50/p95; INVITE retransmissions;
peak channels; Asterisk and ccplane CPU (% of a core, and per call/s); /health
latency p50/p99; queue-call records stored vs calls completed.

Run as root with the sandbox environment set (``ccplane sandbox up`` first)::

    python bench/sip_load.py --rates 2,5,10 --seconds 20 --agents 20
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import secrets
import signal
import statistics
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.sandbox import Sandbox
from ccplane.settings import load_settings

PCAP = "/usr/share/sip-tester/g711a.pcap"
DOMAIN, QUEUE, DID = "bench", "q", "40040000"

CALLER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="carrier caller">
  <send retrans="500" start_rtd="answer"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Cliente" <sip:+55119[call_number]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:carrier@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=carrier 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <!-- refused at the door by admission control: 486 (domain ceiling) or 503 (total, rate) -->
  <recv response="486" optional="true" next="refused"/>
  <recv response="503" optional="true" next="refused"/>
  <recv response="200" rrs="true" rtd="answer" timeout="20000" ontimeout="give_up"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[last_From:]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:carrier@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>
  <pause milliseconds="{talk_ms}"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[last_From:]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:carrier@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200" crlf="true" next="end"/>
  <!-- a caller who waited 20 s unanswered hangs up, as a carrier would (CANCEL) -->
  <label id="give_up"/>
  <send><![CDATA[
CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Cliente" <sip:+55119[call_number]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200" optional="true"/>
  <recv response="487"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Cliente" <sip:+55119[call_number]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
]]></send>
  <nop><action><exec int_cmd="stop_call"/></action></nop>
  <label id="refused"/>
  <send next="end"><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: "Cliente" <sip:+55119[call_number]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
]]></send>
  <label id="end"/>
  <ResponseTimeRepartition value="50, 100, 200, 300, 500, 1000, 2000"/>
</scenario>
"""

REGISTER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="agents register">
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@[remote_ip]>;tag=[pid]R[call_number]
To: <sip:[field0]@[remote_ip]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port]>
Expires: 3600
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@[remote_ip]>;tag=[pid]R[call_number]
To: <sip:[field0]@[remote_ip]>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port]>
[field1]
Expires: 3600
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200"/>
  <!-- keep the call (and this sipp, whose port is the agents' contact) alive -->
  <pause milliseconds="86400000"/>
</scenario>
"""

# Out-of-call scenario of the registering sipp: the agents answer every INVITE Asterisk
# sends to their (shared) contact, echo RTP (-rtp_echo) and take the BYE.
AGENT = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="agent">
  <recv request="INVITE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]A[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:agent@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=agent 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
]]></send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
</scenario>
"""


# The /health baseline of the same run: a bare aiohttp process answering the same JSON
# shape, polled right after ccplane each time, so its latency is the machine's
# scheduling noise (what ccplane adds shows as the ratio).
BARE_SERVER = """
import sys
from aiohttp import web
async def health(_request):
    return web.json_response({"status": "ok", "database": True, "ami": True})
app = web.Application()
app.router.add_get("/health", health)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""
BARE: dict[str, str] = {}


async def _bare_health(api: "Api") -> float | None:
    if not BARE:
        return None
    t0 = time.monotonic()
    try:
        async with api.http.get(BARE["url"]) as resp:
            await resp.read()
    except Exception:  # noqa: BLE001 - counted as a missing sample
        return None
    return (time.monotonic() - t0) * 1000


# refusals reported by the admission dialplan (UserEvent CcplaneRefused), by reason
REFUSED: dict[str, int] = {}


def _on_refused(event: Any) -> None:
    fields = getattr(event, "fields", None) or {}
    if str(fields.get("UserEvent", "")) == "CcplaneRefused":
        reason = str(fields.get("Reason", "?"))
        REFUSED[reason] = REFUSED.get(reason, 0) + 1


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


class Api:
    def __init__(self, base: str) -> None:
        self.base, self.token = base, ""
        self.http = aiohttp.ClientSession()

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.http.request(method, self.base + path, json=body, headers=headers) as resp:
            data = await resp.json() if resp.content_type == "application/json" else None
            if resp.status != expect:
                raise RuntimeError(f"{method} {path}: {resp.status} {data}")
            return data


async def setup(api: Api, agents: int, uac_port: int) -> list[tuple[str, str]]:
    await api.call("POST", "/domains", {"slug": DOMAIN, "name": "Bench"}, 201)
    base = f"/domains/{DOMAIN}"
    accounts = []
    for i in range(agents):
        number = str(2000 + i)
        secret = secrets.token_hex(8)
        await api.call("POST", f"{base}/extensions", {"number": number, "name": f"Agent {number}",
                                                      "secret": secret}, 201)
        accounts.append((f"{DOMAIN}-{number}", secret))
    await api.call("POST", f"{base}/queues", {"name": QUEUE, "strategy": "rrmemory", "ring_timeout": 15,
                                              "wrapup_time": 0, "extensions": [str(2000 + i)
                                                                               for i in range(agents)]}, 201)
    await api.call("POST", f"{base}/trunks", {"name": "carrier", "host": "127.0.0.1", "port": uac_port}, 201)
    await api.call("POST", f"{base}/routes", {"did": DID, "destination": {"type": "queue", "target": QUEUE}}, 201)
    return accounts


async def login_agents(api: Api, agents: int) -> None:
    base = f"/domains/{DOMAIN}"
    for i in range(agents):
        number = str(2000 + i)
        username = f"agent{number}"
        await api.call("POST", f"{base}/users", {"username": username, "name": f"Agent {number}",
                                                 "role": "agent", "password": "bench-password"}, 201)
        await api.call("POST", f"{base}/agents/{username}/session", {"queues": [QUEUE], "extension": number}, 201)


async def step(api: Api, ami: AmiClient, rate: float, seconds: int, args: argparse.Namespace, work: Path,
               sip_port: int, uac_port: int, pids: dict[str, int], records_before: int) -> dict[str, Any]:
    calls = max(1, int(rate * seconds))
    tag = f"r{rate:g}"
    scenario = work / "caller.xml"
    argv = ["sipp", f"127.0.0.1:{sip_port}", "-sf", str(scenario), "-s", DID, "-i", "127.0.0.1",
            "-p", str(uac_port), "-mi", "127.0.0.1", "-mp", str(_free_port() & ~1), "-r", f"{rate:g}",
            "-m", str(calls), "-l", str(calls), "-nostdin", "-trace_stat", "-fd", "1",
            "-stf", str(work / f"{tag}_stat.csv"), "-trace_rtt", "-rtt_freq", "1",
            "-trace_err", "-error_file", str(work / f"{tag}_err.log"), "-timeout", str(seconds + args.talk + 60),
            "-recv_timeout", "40000"]
    before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    refused_before = sum(REFUSED.values())
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    health: list[float] = []
    peak_channels = 0
    offered_until = started + seconds
    cpu_at_offer_end: dict[str, float] = {}
    bare: list[float] = []
    while proc.poll() is None:
        t0 = time.monotonic()
        try:
            await api.call("GET", "/health")
            health.append((time.monotonic() - t0) * 1000)
        except Exception:  # noqa: BLE001 - counted as a missing sample
            pass
        if (b := await _bare_health(api)) is not None:
            bare.append(b)
        try:
            out = await ami.command("core show channels count")
            for line in out.splitlines():
                if "active channel" in line:
                    peak_channels = max(peak_channels, int(line.split()[0]))
        except Exception:  # noqa: BLE001
            pass
        if not cpu_at_offer_end and time.monotonic() >= offered_until + args.talk:
            cpu_at_offer_end = {name: _cpu_seconds(pid) for name, pid in pids.items()}
        await asyncio.sleep(0.25)
    elapsed = time.monotonic() - started
    after = cpu_at_offer_end or {name: _cpu_seconds(pid) for name, pid in pids.items()}
    window = min(elapsed, seconds + args.talk)
    stats = list(csv.DictReader((work / f"{tag}_stat.csv").open(), delimiter=";"))
    last = stats[-1] if stats else {}
    success = int(last.get("SuccessfulCall(C)", 0) or 0)
    failed = int(last.get("FailedCall(C)", 0) or 0)
    retrans = int(last.get("Retransmissions(C)", 0) or 0)
    answers: list[float] = []
    for rtt in work.glob("caller_*_rtt.csv"):
        for row in csv.DictReader(rtt.open(), delimiter=";"):
            if row.get("rtd_no") == "answer" or "answer" in str(row.get("rtd_no", "")):
                answers.append(float(row["response_time_ms"]))
        rtt.rename(work / f"{tag}_{rtt.name}")
    await asyncio.sleep(0.5)  # the last refusals' events
    refused = sum(REFUSED.values()) - refused_before
    answered = success - refused  # a refused call ends cleanly in SIPp's scenario too
    # the records are written after the last events: give them a moment
    stored = records_before
    for _ in range(20):
        stored = (await api.call("GET", f"/domains/{DOMAIN}/queue-calls?limit=1"))["total"]
        if stored - records_before >= answered:
            break
        await asyncio.sleep(0.5)
    cpu = {name: (after[name] - before[name]) / window * 100 for name in pids}
    return {"rate": rate, "offered": calls, "success": answered, "refused": refused, "failed": failed,
            "answer_p50_ms": _pct(answers, 50), "answer_p95_ms": _pct(answers, 95), "retransmissions": retrans,
            "peak_channels": peak_channels, "asterisk_cpu_pct": cpu["asterisk"], "ccplane_cpu_pct": cpu["ccplane"],
            "asterisk_pct_per_cps": cpu["asterisk"] / rate, "ccplane_pct_per_cps": cpu["ccplane"] / rate,
            "ccplane_ms_per_call": cpu["ccplane"] * 10 / rate,
            "health_p50_ms": _pct(health, 50), "health_p99_ms": _pct(health, 99),
            "bare_health_p99_ms": _pct(bare, 99), "health_samples": len(health),
            "records_stored": stored - records_before, "records_expected": answered,
            "sipp_stderr": (proc.stderr.read().decode(errors="replace")[-300:] if proc.stderr else "")}


def _queue_show_states(output: str) -> dict[str, str]:
    """member interface -> 'ringing' | 'in_call' | 'idle' from `queue show`."""
    states = {}
    for line in output.splitlines():
        start = line.find("(PJSIP/")
        if start < 0:
            continue
        interface = line[start + 1:].split(" ", 1)[0].rstrip(")")
        if "(Ringing)" in line or "(Ring+Inuse)" in line:
            states[interface] = "ringing"
        elif "(in call)" in line or "(In use)" in line:
            states[interface] = "in_call"
        else:
            states[interface] = "idle"
    return states


async def _api_states(api: Api) -> dict[str, str]:
    """member interface -> the agent's state in GET /agents (every page)."""
    states, offset = {}, 0
    while True:
        page = await api.call("GET", f"/domains/{DOMAIN}/agents?limit=100&offset={offset}")
        for item in page["items"]:
            if item.get("extension"):
                states[f"PJSIP/{DOMAIN}-{item['extension']}"] = item["state"]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return states


async def restart_under_load(api: Api, ami: AmiClient, sandbox: Sandbox, args: argparse.Namespace, work: Path,
                             sip_port: int, uac_port: int, pids: dict[str, int]) -> dict[str, Any]:
    """Calls offered at ``--restart-rate``; after ``--restart-after`` s Asterisk is killed
    (SIGKILL: no event, no hangup) and the carrier stops; Asterisk is started again and
    the agents' states in GET /agents are compared with `queue show` every 0.25 s until
    they all match (an agent ringing or in a call in the API must be so in Asterisk)."""
    rate = args.restart_rate
    argv = ["sipp", f"127.0.0.1:{sip_port}", "-sf", str(work / "caller.xml"), "-s", DID, "-i", "127.0.0.1",
            "-p", str(uac_port), "-mi", "127.0.0.1", "-mp", str(_free_port() & ~1), "-r", f"{rate:g}",
            "-m", str(int(rate * (args.restart_after + 30))), "-nostdin", "-recv_timeout", "40000"]
    proc = subprocess.Popen(argv, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await asyncio.sleep(args.restart_after)
    channels = 0
    for line in (await ami.command("core show channels count")).splitlines():
        if "active channel" in line:
            channels = int(line.split()[0])
    busy_before = sum(1 for st in (await _api_states(api)).values() if st in ("ringing", "in_call"))
    state = sandbox.load_state()
    assert state is not None and state.pid
    os.kill(state.pid, signal.SIGKILL)
    proc.kill()  # the carrier's calls died with Asterisk; it offers no more
    proc.wait()
    killed = time.monotonic()
    while ami.connected and time.monotonic() - killed < 10:
        await asyncio.sleep(0.05)
    new_state = await asyncio.to_thread(sandbox.up)
    assert new_state.pid
    pids["asterisk"] = new_state.pid
    await ami.wait_connected(60)
    back = time.monotonic()
    mismatched: list[str] = []
    matched_after = float("nan")
    samples = 0
    while time.monotonic() - back < args.restart_check:
        try:
            shown = _queue_show_states(await ami.command(f"queue show {DOMAIN}_{QUEUE}"))
            ours = await _api_states(api)
        except Exception:  # noqa: BLE001 - ccplane still reconnecting: not matched yet
            await asyncio.sleep(0.25)
            continue
        samples += 1
        mismatched = []
        for interface, api_state in ours.items():
            norm = api_state if api_state in ("ringing", "in_call") else "idle"
            if interface not in shown or shown[interface] != norm:
                mismatched.append(f"{interface}: api {api_state}, asterisk {shown.get(interface, 'absent')}")
        if not mismatched and len(ours) == args.agents:
            matched_after = time.monotonic() - back
            break
        await asyncio.sleep(0.25)
    return {"restart_rate": rate, "channels_at_kill": channels, "agents_busy_at_kill": busy_before,
            "asterisk_down_s": back - killed, "matched_after_s": matched_after, "samples": samples,
            "mismatched": mismatched[:10], "mismatched_count": len(mismatched)}


async def idle(api: Api, seconds: float, pids: dict[str, int]) -> dict[str, Any]:
    """The baseline of the same run: CPU and /health with the agents logged in and no
    call, polled as during a step (the per-call figures subtract this CPU)."""
    before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    started = time.monotonic()
    health: list[float] = []
    bare: list[float] = []
    while time.monotonic() - started < seconds:
        t0 = time.monotonic()
        await api.call("GET", "/health")
        health.append((time.monotonic() - t0) * 1000)
        if (b := await _bare_health(api)) is not None:
            bare.append(b)
        await asyncio.sleep(0.25)
    elapsed = time.monotonic() - started
    cpu = {name: (_cpu_seconds(pid) - before[name]) / elapsed * 100 for name, pid in pids.items()}
    return {"asterisk_cpu_pct": cpu["asterisk"], "ccplane_cpu_pct": cpu["ccplane"],
            "health_p50_ms": _pct(health, 50), "health_p99_ms": _pct(health, 99), "bare_health_p99_ms": _pct(bare, 99)}


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine (every process: the box is shared)."""
    fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


async def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    settings = load_settings()
    sandbox = Sandbox(settings.sandbox, progress=lambda _m: None)
    state = sandbox.up()
    assert state.pid
    work = Path(tempfile.mkdtemp(prefix="ccplane-sip-load-"))
    uac_port, uas_port = _free_port(), _free_port()
    http_port = _free_port()
    env = {**os.environ, "CCPLANE_ASTERISK_TAKE_OVER": "1",  # a fresh database per run
           "CCPLANE_DATABASE_URL": f"sqlite+aiosqlite:///{work}/bench.db",
           "CCPLANE_SERVER_PORT": str(http_port), "CCPLANE_AUTH_SECRET_FILE": str(work / "secret"),
           "CCPLANE_STORAGE_DIR": str(work / "data"), "CCPLANE_ASTERISK_QUALIFY_FREQUENCY": "0",
           "CCPLANE_LOG_LEVEL": "WARNING"}
    for key, value in args.env:
        env[key] = value
    if args.ccplane_src:  # e.g. an export of an earlier commit, to compare in the same conditions
        env["PYTHONPATH"] = os.pathsep.join([args.ccplane_src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    subprocess.run([sys.executable, "-m", "ccplane", "db", "upgrade"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "ccplane", "user", "create", "--root", "bench", "--password-stdin"],
                   env=env, input=b"bench-password\n", check=True, stdout=subprocess.DEVNULL)
    (work / "caller.xml").write_text(CALLER.replace("{pcap}", PCAP).replace("{talk_ms}", str(args.talk * 1000)))
    (work / "register.xml").write_text(REGISTER.replace("{uas_port}", str(uas_port)))
    bare_port = _free_port()
    bare_server = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(bare_port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    BARE["url"] = f"http://127.0.0.1:{bare_port}/health"
    serve_argv = [sys.executable, "-m", "ccplane", "serve"]
    if args.profile or args.stalls:  # yappi, CPU clock, every thread: see bench/profiled_serve.py
        env["CCPLANE_PROFILE_OUT"] = str(work / "ccplane.prof")
        env["CCPLANE_PROFILE_MODE"] = "stalls" if args.stalls else "yappi"
        serve_argv = [sys.executable, str(Path(__file__).with_name("profiled_serve.py"))]
    serve = subprocess.Popen(serve_argv, env=env, cwd=work,
                             stdout=open(work / "serve.log", "wb"), stderr=subprocess.STDOUT)
    (work / "agent.xml").write_text(AGENT)
    uas: subprocess.Popen[bytes] | None = None
    api = Api(f"http://127.0.0.1:{http_port}/api/v1")
    ami = AmiClient("127.0.0.1", state.ami_port, state.ami_username, state.ami_secret)
    try:
        for _ in range(300):  # a loaded machine may take a while to start it
            try:
                await api.call("GET", "/health")
                break
            except Exception:  # noqa: BLE001 - still starting
                if serve.poll() is not None:
                    raise SystemExit(f"ccplane serve exited: {(work / 'serve.log').read_text()[-2000:]}") from None
                await asyncio.sleep(0.2)
        api.token = (await api.call("POST", "/auth/token", {"username": "bench", "password": "bench-password"}))[
            "access_token"]
        ami.on_event(_on_refused, names=("UserEvent",))
        await ami.start()
        await ami.wait_connected(10)
        accounts = await setup(api, args.agents, uac_port)
        for _ in range(100):  # the pjsip reload is asynchronous: a REGISTER before it is refused
            out = await ami.command(f"pjsip show endpoint {accounts[-1][0]}")
            if "Unable to find object" not in out and accounts[-1][0] in out:
                break
            await asyncio.sleep(0.1)
        with (work / "agents.csv").open("w") as fh:
            # sipp expands no keyword inside [authentication ...]: the field carries it whole
            fh.write("SEQUENTIAL\n" + "".join(f"{a};[authentication username={a} password={s}]\n"
                                               for a, s in accounts))
        # one sipp registers every agent from its port (Asterisk rewrites each contact to
        # the REGISTER's source: rewrite_contact) and answers the calls sent there
        uas = subprocess.Popen(["sipp", f"127.0.0.1:{state.sip_port}", "-sf", str(work / "register.xml"),
                                "-oocsf", str(work / "agent.xml"), "-inf", str(work / "agents.csv"),
                                "-i", "127.0.0.1", "-p", str(uas_port), "-mi", "127.0.0.1",
                                "-mp", str(_free_port() & ~1), "-rtp_echo", "-m", str(len(accounts)),
                                "-l", str(len(accounts)), "-r", "50", "-nostdin", "-trace_err"],
                               cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the sandbox's AstDB may keep contacts of an earlier run: count only ours
        ours = 0
        for _ in range(50):
            contacts = await ami.action({"Action": "PJSIPShowContacts"})
            ours = sum(1 for c in contacts if str(c.get("ObjectName", "")).startswith(f"{DOMAIN}-")
                       and str(c.get("Uri", "")).endswith(f":{uas_port}"))
            if ours >= len(accounts):
                break
            await asyncio.sleep(0.2)
        if ours < len(accounts):
            raise SystemExit(f"only {ours} of {len(accounts)} agents registered at :{uas_port}: "
                             f"{[c.get('Uri') for c in contacts if str(c.get('ObjectName')).startswith(DOMAIN)]}")
        await login_agents(api, args.agents)
        pids = {"asterisk": state.pid, "ccplane": serve.pid}
        await asyncio.sleep(2)  # the logins' queue reloads settle
        busy0 = _machine_busy()
        base = await idle(api, args.idle_seconds, pids)
        busy1 = _machine_busy()
        print(f"  idle baseline ({args.agents} agents logged in, no call, {args.idle_seconds:g} s): "
              f"Asterisk {base['asterisk_cpu_pct']:.1f}%, ccplane {base['ccplane_cpu_pct']:.1f}%, /health p50 "
              f"{base['health_p50_ms']:.1f} ms p99 {base['health_p99_ms']:.1f} ms (bare aiohttp p99 "
              f"{base['bare_health_p99_ms']:.1f} ms), machine "
              f"{(busy1[0] - busy0[0]) / max(1.0, busy1[1] - busy0[1]) * 100:.0f}% busy (all processes)", flush=True)
        results = []
        if args.profile:  # profile the steps only, not the set-up (bench/profiled_serve.py)
            serve.send_signal(signal.SIGUSR1)
        for rate in args.rates:
            before = (await api.call("GET", f"/domains/{DOMAIN}/queue-calls?limit=1"))["total"]
            busy0 = _machine_busy()
            r = await step(api, ami, rate, args.seconds, args, work, state.sip_port, uac_port, pids, before)
            busy1 = _machine_busy()
            r["machine_busy_pct"] = (busy1[0] - busy0[0]) / max(1.0, busy1[1] - busy0[1]) * 100
            # per call above the idle baseline measured in this run
            r["ccplane_ms_per_call_over_idle"] = (r["ccplane_cpu_pct"] - base["ccplane_cpu_pct"]) * 10 / rate
            r["health_p99_ratio_to_idle"] = r["health_p99_ms"] / max(0.001, base["health_p99_ms"])
            results.append(r)
            print(f"{rate:6g} calls/s: {r['success']}/{r['offered']} ok, {r['refused']} refused, "
                  f"{r['failed']} failed, answer "
                  f"p50 {r['answer_p50_ms']:.0f} ms p95 {r['answer_p95_ms']:.0f} ms, {r['retransmissions']} "
                  f"retransmissions, peak {r['peak_channels']} channels, Asterisk {r['asterisk_cpu_pct']:.1f}% "
                  f"({r['asterisk_pct_per_cps']:.2f}%/cps), ccplane {r['ccplane_cpu_pct']:.1f}% "
                  f"({r['ccplane_ms_per_call']:.2f} ms CPU/call, {r['ccplane_ms_per_call_over_idle']:.2f} over idle; "
                  f"{r['ccplane_cpu_pct'] / max(0.01, r['asterisk_cpu_pct']):.2f}x Asterisk's CPU), "
                  f"/health p50 {r['health_p50_ms']:.1f} ms p99 {r['health_p99_ms']:.1f} ms "
                  f"({r['health_p99_ratio_to_idle']:.1f}x idle; bare aiohttp p99 {r['bare_health_p99_ms']:.1f} ms, "
                  f"{r['health_samples']} samples), records {r['records_stored']}/"
                  f"{r['records_expected']}, machine {r['machine_busy_pct']:.0f}% busy",
                  flush=True)
            await asyncio.sleep(2)
        if args.restart_rate:
            rr = await restart_under_load(api, ami, sandbox, args, work, state.sip_port, uac_port, pids)
            print(f"restart under load: {rr['restart_rate']:g} calls/s, {rr['channels_at_kill']} channels and "
                  f"{rr['agents_busy_at_kill']} agents ringing/in call at the kill -9; Asterisk back after "
                  f"{rr['asterisk_down_s']:.1f} s; every agent's API state matched `queue show` "
                  f"{rr['matched_after_s']:.1f} s after AMI was back ({rr['samples']} comparisons; target 10 s)"
                  + (f"; still mismatched: {rr['mismatched_count']} {rr['mismatched']}" if rr["mismatched"] else ""),
                  flush=True)
            results.append(rr)
        print(json.dumps([{k: v for k, v in r.items() if k != "sipp_stderr"} for r in results]))
        print(f"work dir: {work}")
        failures = (await api.call("GET", "/health")).get("background_failures")
        print(f"ccplane background_failures: {failures}")
        return results
    finally:
        await ami.stop()
        await api.http.close()
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(15)
        except subprocess.TimeoutExpired:
            serve.kill()
        bare_server.terminate()
        stalls = work / "ccplane.prof.stalls.txt"
        if stalls.exists():
            print("ccplane " + stalls.read_text(), end="")
        if uas is not None:
            uas.terminate()
            try:
                uas.wait(10)
            except subprocess.TimeoutExpired:
                uas.kill()


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rates", default="2,5,10", help="calls/s per step, comma-separated")
    p.add_argument("--seconds", type=int, default=20, help="seconds of offered load per step")
    p.add_argument("--talk", type=int, default=3, help="seconds each call talks")
    p.add_argument("--agents", type=int, default=40, help="SIP agents in the queue")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for ccplane serve, e.g. CCPLANE_ADMISSION_MAX_NEW_PER_SECOND=20")
    p.add_argument("--stalls", action="store_true",
                   help="record ccplane's event-loop stalls and GC pauses (bench/profiled_serve.py, no yappi): "
                        "<work>/ccplane.prof.stalls.txt")
    p.add_argument("--ccplane-src", default="",
                   help="run ccplane serve from this source tree (e.g. `git archive <commit>` unpacked) "
                        "to compare two versions under the same load")
    p.add_argument("--baseline-src", default="",
                   help="also run the steps with ccplane from this source tree (e.g. `git archive` of main, "
                        "unpacked), in turn with this tree, and print the CPU per call of both and the ratio")
    p.add_argument("--rounds", type=int, default=1, help="with --baseline-src: baseline/this-tree pairs to run")
    p.add_argument("--restart-rate", type=float, default=0,
                   help="after the steps: calls/s offered while Asterisk is killed and restarted (0: no restart)")
    p.add_argument("--restart-after", type=float, default=8, help="seconds of load before the kill -9")
    p.add_argument("--restart-check", type=float, default=30,
                   help="seconds after Asterisk is back to wait for every agent to match")
    p.add_argument("--idle-seconds", type=float, default=10, help="idle baseline before the steps")
    p.add_argument("--profile", action="store_true",
                   help="run ccplane under yappi (bench/profiled_serve.py): <work>/ccplane.prof(.txt)")
    args = p.parse_args()
    args.rates = [float(r) for r in args.rates.split(",") if r]
    args.env = [tuple(e.split("=", 1)) for e in args.env]
    return args


async def compare(args: argparse.Namespace) -> None:
    """``--baseline-src``: the same steps with the baseline tree and with this one, in
    turn (baseline first), ``--rounds`` times, then ccplane's CPU per call of each
    version (median over rounds) and the ratio, per rate."""
    runs: dict[str, list[list[dict[str, Any]]]] = {"baseline": [], "this tree": []}
    for n in range(args.rounds):
        for label, src in (("baseline", args.baseline_src), ("this tree", "")):
            print(f"--- round {n + 1}/{args.rounds}: {label} ({src or 'this tree'})", flush=True)
            runs[label].append(await main(argparse.Namespace(**{**vars(args), "ccplane_src": src})))
    print(f"\nccplane CPU per call, baseline ({args.baseline_src}) vs this tree, "
          f"median of {args.rounds} round(s) each, same run:")
    for i, rate in enumerate(args.rates):
        def med(label: str, key: str, i: int = i) -> float:
            return statistics.median(r[i][key] for r in runs[label])
        base, this = med("baseline", "ccplane_ms_per_call"), med("this tree", "ccplane_ms_per_call")
        base_i, this_i = med("baseline", "ccplane_ms_per_call_over_idle"), med("this tree", "ccplane_ms_per_call_over_idle")
        base_x = statistics.median(r[i]["ccplane_cpu_pct"] / max(0.01, r[i]["asterisk_cpu_pct"]) for r in runs["baseline"])
        this_x = statistics.median(r[i]["ccplane_cpu_pct"] / max(0.01, r[i]["asterisk_cpu_pct"])
                                   for r in runs["this tree"])
        ok = [f"{r[i]['success']}/{r[i]['offered']}" for r in runs["this tree"]]
        rec = [f"{r[i]['records_stored']}/{r[i]['records_expected']}" for r in runs["this tree"]]
        print(f"{rate:6g} calls/s: baseline {base:.2f} ms CPU/call ({base_i:.2f} over idle; {base_x:.2f}x Asterisk's), "
              f"this tree {this:.2f} ms ({this_i:.2f} over idle; {this_x:.2f}x Asterisk's): "
              f"ratio {this / max(0.001, base):.2f} ({this_i / max(0.001, base_i):.2f} over idle, "
              f"{this_x / max(0.001, base_x):.2f} relative to Asterisk); this tree ok {ok}, records {rec}",
              flush=True)


if __name__ == "__main__":
    parsed = parse()
    asyncio.run(compare(parsed) if parsed.baseline_src else main(parsed))
