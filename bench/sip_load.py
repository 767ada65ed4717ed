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
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    health: list[float] = []
    peak_channels = 0
    offered_until = started + seconds
    cpu_at_offer_end: dict[str, float] = {}
    while proc.poll() is None:
        t0 = time.monotonic()
        try:
            await api.call("GET", "/health")
            health.append((time.monotonic() - t0) * 1000)
        except Exception:  # noqa: BLE001 - counted as a missing sample
            pass
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
    # the records are written after the last events: give them a moment
    stored = records_before
    for _ in range(20):
        stored = (await api.call("GET", f"/domains/{DOMAIN}/queue-calls?limit=1"))["total"]
        if stored - records_before >= success:
            break
        await asyncio.sleep(0.5)
    cpu = {name: (after[name] - before[name]) / window * 100 for name in pids}
    return {"rate": rate, "offered": calls, "success": success, "failed": failed,
            "answer_p50_ms": _pct(answers, 50), "answer_p95_ms": _pct(answers, 95), "retransmissions": retrans,
            "peak_channels": peak_channels, "asterisk_cpu_pct": cpu["asterisk"], "ccplane_cpu_pct": cpu["ccplane"],
            "asterisk_pct_per_cps": cpu["asterisk"] / rate, "ccplane_pct_per_cps": cpu["ccplane"] / rate,
            "ccplane_ms_per_call": cpu["ccplane"] * 10 / rate,
            "health_p50_ms": _pct(health, 50), "health_p99_ms": _pct(health, 99),
            "records_stored": stored - records_before, "records_expected": success,
            "sipp_stderr": (proc.stderr.read().decode(errors="replace")[-300:] if proc.stderr else "")}


async def main(args: argparse.Namespace) -> None:
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
    subprocess.run([sys.executable, "-m", "ccplane", "db", "upgrade"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "ccplane", "user", "create", "--root", "bench", "--password-stdin"],
                   env=env, input=b"bench-password\n", check=True, stdout=subprocess.DEVNULL)
    (work / "caller.xml").write_text(CALLER.replace("{pcap}", PCAP).replace("{talk_ms}", str(args.talk * 1000)))
    (work / "register.xml").write_text(REGISTER.replace("{uas_port}", str(uas_port)))
    serve = subprocess.Popen([sys.executable, "-m", "ccplane", "serve"], env=env, cwd=work,
                             stdout=open(work / "serve.log", "wb"), stderr=subprocess.STDOUT)
    (work / "agent.xml").write_text(AGENT)
    uas: subprocess.Popen[bytes] | None = None
    api = Api(f"http://127.0.0.1:{http_port}/api/v1")
    ami = AmiClient("127.0.0.1", state.ami_port, state.ami_username, state.ami_secret)
    try:
        for _ in range(100):
            try:
                await api.call("GET", "/health")
                break
            except Exception:  # noqa: BLE001 - still starting
                await asyncio.sleep(0.2)
        api.token = (await api.call("POST", "/auth/token", {"username": "bench", "password": "bench-password"}))[
            "access_token"]
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
        results = []
        for rate in args.rates:
            before = (await api.call("GET", f"/domains/{DOMAIN}/queue-calls?limit=1"))["total"]
            r = await step(api, ami, rate, args.seconds, args, work, state.sip_port, uac_port, pids, before)
            results.append(r)
            print(f"{rate:6g} calls/s: {r['success']}/{r['offered']} ok ({r['failed']} failed), answer "
                  f"p50 {r['answer_p50_ms']:.0f} ms p95 {r['answer_p95_ms']:.0f} ms, {r['retransmissions']} "
                  f"retransmissions, peak {r['peak_channels']} channels, Asterisk {r['asterisk_cpu_pct']:.1f}% "
                  f"({r['asterisk_pct_per_cps']:.2f}%/cps), ccplane {r['ccplane_cpu_pct']:.1f}% "
                  f"({r['ccplane_ms_per_call']:.2f} ms CPU/call), /health p50 {r['health_p50_ms']:.1f} ms "
                  f"p99 {r['health_p99_ms']:.1f} ms, records {r['records_stored']}/{r['records_expected']}",
                  flush=True)
            await asyncio.sleep(2)
        print(json.dumps([{k: v for k, v in r.items() if k != "sipp_stderr"} for r in results]))
        print(f"work dir: {work}")
        failures = (await api.call("GET", "/health")).get("background_failures")
        print(f"ccplane background_failures: {failures}")
    finally:
        await ami.stop()
        await api.http.close()
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(15)
        except subprocess.TimeoutExpired:
            serve.kill()
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
    args = p.parse_args()
    args.rates = [float(r) for r in args.rates.split(",") if r]
    args.env = [tuple(e.split("=", 1)) for e in args.env]
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
