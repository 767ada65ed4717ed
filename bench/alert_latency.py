#!/usr/bin/env python
"""Benchmark: a red alert from the app to the first attendant's phone ringing.

A benchmark, not a test: it prints figures and asserts nothing. It measures the
time from ``POST /api/v1/app/{domain}/alerts`` (level red) to the AMI
``AgentCalled`` event of that alert's call in the domain's monitoring queue
(Asterisk's ``Timestamp`` of the event: the moment app_queue rang the first
attendant). Beside it, in the same run and interleaved with it, a BASELINE: a
bare AMI Originate of ``Local/s@ccplane-alert-queue`` with the variables
ccplane's AlertCaller sets, to the same ``AgentCalled``. The difference is
ccplane's overhead (HTTP, the app token check against the persons ccplane keeps
in memory, the call task spawned, the Originate sent; the alert and its audit
row are committed after the Originate, and are shown apart). A third series runs ccplane with
the spoken announcement (espeak-ng + sox) switched off, and ``speak()`` is timed
on its own, to show what TTS accounts for. Everything is done idle and again
under background load (ordinary queue calls answered by Local members).

Processes::

    this process   sandbox, ccplane's aiohttp app (in-process TestServer), API client
    probe          AmiClient: AgentCalled/Newchannel/Hangup only (AMI Filter); sends the
                   baseline Originates, hangs every measured call up after AgentCalled
    load           AmiClient: originates ordinary calls into another queue at a fixed rate

It starts its own sandbox instance (``alertbench``: AMI 5538, HTTP 8588, SIP 5560,
RTP 14000-14499) with a temporary SQLite database, and stops it at the end.
Run as root (the sandbox is a chroot)::

    /tmp/venv/bin/python bench/alert_latency.py            # about 2-3 minutes
    /tmp/venv/bin/python bench/alert_latency.py --help

Output: a table per phase (idle, load), a summary, then one JSON line.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing as mp
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.events import AmiEvent
from ccplane.asterisk.sandbox import Sandbox, SandboxState
from ccplane.settings import load_settings

BENCH_ENV = {
    "CCPLANE_SANDBOX_NAME": "alertbench",
    "CCPLANE_SANDBOX_AMI_PORT": "5538",
    "CCPLANE_SANDBOX_HTTP_PORT": "8588",
    "CCPLANE_SANDBOX_SIP_PORT": "5560",
    "CCPLANE_SANDBOX_RTP_START": "14000",
    "CCPLANE_SANDBOX_RTP_END": "14499",
}

ATTENDANT_CONTEXT = "alertbench-attendants"   # rings, never answers
AGENT_CONTEXT = "alertbench-agents"           # answers, talks TALK_WAIT s, hangs up
ATTENDANTS = 3                                # monitoring-queue members (ringall)
AGENTS = 60                                   # members of the load queue
TALK_WAIT = 1.0                               # + 0.5 s Answer() on a Local channel
LOAD_INFLIGHT_CAP = 150
PERSON_PHONE_BASE = 11980000000               # person i calls from 11980000000 + i
BASELINE_PHONE_BASE = 11970000000             # baseline sample k uses 11970000000 + k
LOAD_CALLER_BASE = 11960000000
ALERT_CALLS_REGEX = "/^Local\\/s@ccplane-alert-queue-/"
MARK = "; --- appended by bench/alert_latency.py ---"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERIES = ("ccplane", "ccplane_no_tts", "baseline")
LABELS = {"ccplane": "ccplane, TTS on", "ccplane_no_tts": "ccplane, TTS off",
          "baseline": "baseline bare Originate"}


def log(msg: str) -> None:
    print(f"[alertbench] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- instance config

def extra_dialplan() -> str:
    # Lives in the instance's etc/extensions.conf (re-rendered by the sandbox on `up`),
    # not in etc/ccplane/, which ccplane overwrites whenever it renders.
    return f"""
{MARK}
[{ATTENDANT_CONTEXT}]
exten => _X!,1,Ringing()
 same => n,Wait(3600)
 same => n,Hangup()

[{AGENT_CONTEXT}]
exten => _X!,1,Answer()
 same => n,Wait({TALK_WAIT:g})
 same => n,Hangup()
"""


def prepare_instance(state: SandboxState) -> None:
    """Our members' contexts, and Asterisk's own timestamp on every AMI event."""
    etc = Path(state.config_dir)
    ext = etc / "extensions.conf"
    text = ext.read_text()
    if MARK not in text:
        with ext.open("a") as fh:
            fh.write(extra_dialplan())
    mgr = etc / "manager.conf"
    text = mgr.read_text()
    if "timestampevents" not in text:
        # rewrite in place: keeps the file's owner and mode (it holds the AMI secret)
        with mgr.open("r+") as fh:
            fh.write(text.replace("[general]\n", "[general]\ntimestampevents = yes\n", 1))


def attendant(i: int) -> str:
    return f"Local/{100 + i}@{ATTENDANT_CONTEXT}/n"


def agent(i: int) -> str:
    return f"Local/{3000 + i}@{AGENT_CONTEXT}/n"


# --------------------------------------------------------------------------- measuring helpers

def cpu_seconds(pid: int) -> float:
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    rest = data[data.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def machine_ticks() -> tuple[int, int]:
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return user + nice + system + irq + softirq + steal, sum(v)


def pct(values: list[float]) -> dict[str, Any]:
    """p50/p90/p99/max in milliseconds (input in seconds)."""
    if not values:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "max": None}
    s = sorted(values)

    def q(p: float) -> float:
        return round(s[min(len(s) - 1, int(p * len(s)))] * 1000, 1)
    return {"n": len(s), "p50": q(0.50), "p90": q(0.90), "p99": q(0.99), "max": round(s[-1] * 1000, 1)}


# --------------------------------------------------------------------------- child processes

def _child(role: str, creds: dict[str, Any], conf: dict[str, Any], conn: Any) -> None:
    logging.basicConfig(level=logging.WARNING, format=f"[{role}] %(levelname)s %(name)s %(message)s")
    try:
        asyncio.run(_probe_main(creds, conf, conn) if role == "probe" else _load_main(creds, conf, conn))
    except KeyboardInterrupt:
        pass


def _pipe_inbox(conn: Any) -> "asyncio.Queue[dict[str, Any]]":
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def readable() -> None:
        try:
            while conn.poll():
                inbox.put_nowait(conn.recv())
        except (EOFError, OSError):
            loop.remove_reader(conn.fileno())
            inbox.put_nowait({"op": "quit"})
    loop.add_reader(conn.fileno(), readable)
    return inbox


@dataclass
class ProbeState:
    queue: str
    expects: dict[str, "asyncio.Future[dict[str, Any]]"] = field(default_factory=dict)
    unclaimed: dict[str, dict[str, Any]] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)
    attendant_channels: set[str] = field(default_factory=set)
    hung: dict[str, float] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on_event(self, ev: AmiEvent) -> None:
        now = time.time()
        f = ev.fields
        if ev.name == "AgentCalled":
            if f.get("Queue") != self.queue:
                return
            key = str(f.get("CallerIDNum") or "")
            stamp = f.get("Timestamp")
            info = {"ts_ast": float(stamp) if isinstance(stamp, str) else None, "t_recv": now,
                    "uniqueid": str(f.get("Uniqueid") or ""), "channel": str(f.get("Channel") or ""),
                    "interface": str(f.get("Interface") or "")}
            if info["uniqueid"] in self.taken:
                return  # another attendant rung for a call already measured
            fut = self.expects.get(key)
            if fut is not None and not fut.done():
                self.taken.add(info["uniqueid"])
                fut.set_result(info)  # the first attendant rung
            elif key not in self.unclaimed:
                self.unclaimed[key] = info
            return
        chan = str(f.get("Channel") or "")
        if ev.name == "Newchannel":
            if f"@{ATTENDANT_CONTEXT}-" in chan:
                self.attendant_channels.add(chan)
        else:  # Hangup
            self.attendant_channels.discard(chan)
            uid = str(f.get("Uniqueid") or "")
            if uid.endswith("-queue"):
                self.hung[uid] = now
        self.changed.set()

    async def wait_clean(self, uniqueid: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while uniqueid not in self.hung or self.attendant_channels:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        self.hung.pop(uniqueid, None)
        return True


async def _probe_main(creds: dict[str, Any], conf: dict[str, Any], conn: Any) -> None:
    st = ProbeState(queue=conf["queue"])
    ami = AmiClient(creds["host"], creds["port"], creds["username"], creds["secret"], action_timeout=10)
    ami.on_event(st.on_event, names=("AgentCalled", "Newchannel", "Hangup"))
    await ami.start()
    await ami.wait_connected(30)
    await ami.action({"Action": "Filter", "Operation": "Add",
                      "Filter": "^Event: (AgentCalled|Newchannel|Hangup)"})
    inbox = _pipe_inbox(conn)
    conn.send({"key": "__ready__", "pid": os.getpid()})

    async def measure(cmd: dict[str, Any]) -> None:
        key = cmd["key"]
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        st.expects[key] = fut
        if key in st.unclaimed:  # AgentCalled came before the main process told us to expect it
            early = st.unclaimed.pop(key)
            st.taken.add(early["uniqueid"])
            fut.set_result(early)
        out: dict[str, Any] = {"key": key}
        try:
            if cmd["op"] == "originate":
                out["t0"] = time.time()  # send_action writes at once: this is the wire time
                await ami.action(cmd["action"], timeout=10)
            info = await asyncio.wait_for(fut, cmd.get("timeout", 10.0))
        except Exception as exc:  # noqa: BLE001 - reported, the sample is dropped
            out["error"] = f"{type(exc).__name__}: {exc}"
            # samples run one at a time: whatever alert call is left is this one
            with contextlib.suppress(Exception):
                await ami.action({"Action": "Hangup", "Channel": ALERT_CALLS_REGEX}, timeout=5)
            conn.send(out)
            return
        finally:
            st.expects.pop(key, None)
        out.update(info)
        t = time.monotonic()
        # by name: AMI Hangup does not find a channel by its uniqueid on Asterisk 22
        with contextlib.suppress(Exception):  # already gone is fine
            await ami.action({"Action": "Hangup", "Channel": info["channel"]}, timeout=5)
        out["clean"] = await st.wait_clean(info["uniqueid"], 5.0)
        out["clean_s"] = time.monotonic() - t
        conn.send(out)

    try:
        while True:
            cmd = await inbox.get()
            if cmd["op"] == "quit":
                break
            if cmd["op"] == "forget":
                st.unclaimed.clear()
                st.hung.clear()
                conn.send({"key": cmd["key"]})
                continue
            asyncio.ensure_future(measure(cmd))
    finally:
        logging.getLogger("ccplane.ami").setLevel(logging.ERROR)
        await ami.stop()


async def _load_main(creds: dict[str, Any], conf: dict[str, Any], conn: Any) -> None:
    qname = conf["queue"]
    inflight: dict[str, float] = {}
    stats = {"offered": 0, "completed": 0, "abandoned": 0, "errors": 0, "throttled": 0, "max_inflight": 0}

    def on_event(ev: AmiEvent) -> None:
        f = ev.fields
        if ev.name == "AgentComplete":
            if f.get("Queue") == qname:
                stats["completed"] += 1
        elif ev.name == "QueueCallerAbandon":
            if f.get("Queue") == qname:
                stats["abandoned"] += 1
        else:
            inflight.pop(str(f.get("Uniqueid") or ""), None)

    ami = AmiClient(creds["host"], creds["port"], creds["username"], creds["secret"], action_timeout=10)
    ami.on_event(on_event, names=("AgentComplete", "QueueCallerAbandon", "Hangup"))
    await ami.start()
    await ami.wait_connected(30)
    await ami.action({"Action": "Filter", "Operation": "Add",
                      "Filter": "^Event: (AgentComplete|QueueCallerAbandon|Hangup)"})
    inbox = _pipe_inbox(conn)
    conn.send({"key": "__ready__", "pid": os.getpid()})
    tasks: set[asyncio.Task[Any]] = set()
    run: asyncio.Task[None] | None = None
    stop = asyncio.Event()
    seq = 0

    async def send(uid: str, action: dict[str, Any]) -> None:
        try:
            await ami.action(action, timeout=10)
        except Exception:  # noqa: BLE001 - counted
            stats["errors"] += 1
            inflight.pop(uid, None)

    async def generate(rate: float) -> None:
        nonlocal seq
        t0 = time.monotonic()
        sent = 0
        while not stop.is_set():
            due = int(rate * (time.monotonic() - t0))
            while sent < due:
                sent += 1
                if len(inflight) >= LOAD_INFLIGHT_CAP:
                    stats["throttled"] += 1
                    continue
                seq += 1
                uid = f"ld{seq}-{secrets.token_hex(3)}"
                inflight[f"{uid}-1"] = time.monotonic()
                stats["offered"] += 1
                action = {"Action": "Originate", "Channel": f"Local/{qname}@ccplane-queues/n",
                          "Application": "Wait", "Data": "60", "Async": "true", "Timeout": "30000",
                          "CallerID": f"load <{LOAD_CALLER_BASE + seq}>",
                          "ChannelId": f"{uid}-1", "OtherChannelId": f"{uid}-2"}
                task = asyncio.ensure_future(send(f"{uid}-1", action))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            stats["max_inflight"] = max(stats["max_inflight"], len(inflight))
            now = time.monotonic()
            for k in [k for k, t in inflight.items() if now - t > 30]:
                del inflight[k]
            await asyncio.sleep(0.005)

    try:
        while True:
            cmd = await inbox.get()
            if cmd["op"] == "quit":
                break
            if cmd["op"] == "start":
                for k in stats:
                    stats[k] = 0
                stop.clear()
                started = time.monotonic()
                run = asyncio.ensure_future(generate(cmd["rate"]))
                conn.send({"key": cmd["key"]})
            elif cmd["op"] == "stop":
                stop.set()
                if run is not None:
                    await run
                window = time.monotonic() - started
                drain = time.monotonic() + 4
                while inflight and time.monotonic() < drain:
                    await asyncio.sleep(0.05)
                conn.send({"key": cmd["key"], **stats, "window_s": round(window, 1),
                           "left_in_flight": len(inflight)})
    finally:
        logging.getLogger("ccplane.ami").setLevel(logging.ERROR)
        await ami.stop()


class Child:
    """A spawned helper process, asked over a pipe; replies matched by key."""

    def __init__(self, role: str, creds: dict[str, Any], conf: dict[str, Any]) -> None:
        ctx = mp.get_context("spawn")
        self.role = role
        self.conn, child_conn = ctx.Pipe()
        self.proc = ctx.Process(target=_child, args=(role, creds, conf, child_conn),
                                name=f"alertbench-{role}", daemon=True)
        self.proc.start()
        child_conn.close()
        self.pid = self.proc.pid
        self.waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.seq = 0

    def attach(self) -> None:
        loop = asyncio.get_running_loop()
        self._ready = self.waiters["__ready__"] = loop.create_future()
        loop.add_reader(self.conn.fileno(), self._readable)

    def _readable(self) -> None:
        try:
            while self.conn.poll():
                msg = self.conn.recv()
                fut = self.waiters.pop(msg["key"], None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(self.conn.fileno())
            for fut in self.waiters.values():
                if not fut.done():
                    fut.set_exception(RuntimeError(f"{self.role} process went away"))

    async def ready(self, timeout: float = 40) -> dict[str, Any]:
        return await asyncio.wait_for(self._ready, timeout)

    def expect(self, cmd: dict[str, Any]) -> "asyncio.Future[dict[str, Any]]":
        if "key" not in cmd:
            self.seq += 1
            cmd = {**cmd, "key": f"__{cmd['op']}{self.seq}"}
        fut = asyncio.get_running_loop().create_future()
        self.waiters[cmd["key"]] = fut
        self.conn.send(cmd)
        return fut

    async def ask(self, cmd: dict[str, Any], timeout: float = 15) -> dict[str, Any]:
        fut = self.expect(cmd)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self.waiters.pop(cmd.get("key", ""), None)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self.conn.fileno())
        if self.proc.is_alive():
            with contextlib.suppress(Exception):
                self.conn.send({"op": "quit"})
            self.proc.join(5)
        if self.proc.is_alive():
            self.proc.terminate()  # this one process, by its own handle
            self.proc.join(5)


# --------------------------------------------------------------------------- the bench

@dataclass
class Person:
    id: int
    phone: str
    token: str


class Bench:
    def __init__(self, args: argparse.Namespace, settings: Any, state: SandboxState, tmp: Path) -> None:
        self.args, self.settings, self.state, self.tmp = args, settings, state, tmp
        self.originate_sent: dict[int, float] = {}
        self.marks: dict[str, float] = {}
        self.baseline_seq = 0
        self.person_seq = 0
        self.errors: list[str] = []

    # -- api ------------------------------------------------------------------
    async def api(self, method: str, path: str, body: Any = None, token: str | None = None,
                  status: int = 200) -> Any:
        headers = {"Authorization": f"Bearer {token or self.root_token}"}
        resp = await self.client.request(method, "/api/v1" + path, json=body, headers=headers)
        out = await resp.json()
        if resp.status != status:
            raise RuntimeError(f"{method} {path} -> {resp.status} {out}")
        return out

    async def setup(self) -> None:
        from aiohttp.test_utils import TestClient, TestServer

        from ccplane.app import create_app
        from ccplane.features.persons.domain import cpf_check_digits
        from ccplane.web.keys import SERVICES

        st = self.state
        self.admin = AmiClient(st.ami_host, st.ami_port, st.ami_username, st.ami_secret, action_timeout=15)
        await self.admin.start()
        await self.admin.wait_connected(30)
        await self.admin.action({"Action": "Events", "EventMask": "off"})  # actions only
        await self.admin.command("manager reload")
        shown = await self.admin.command("manager show settings")
        self.asterisk_stamps = any("Timestamp events" in line and "Yes" in line for line in shown.splitlines())
        if not self.asterisk_stamps:
            log("Asterisk does not timestamp AMI events: using the probe's receive time instead")
        await self.admin.command("dialplan reload")

        self.app = create_app(self.settings)
        self.client = TestClient(TestServer(self.app))
        await self.client.start_server()
        self.services = self.app[SERVICES]
        await self.services.ami.wait_connected(30)
        self._instrument()
        self._count_ami_input()

        user, password = f"root-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
        await self.services.auth.create_root(user, password)
        resp = await self.client.post("/api/v1/auth/token", json={"username": user, "password": password})
        self.root_token = (await resp.json())["access_token"]
        self.slug = f"ab{secrets.token_hex(3)}"
        await self.api("POST", "/domains", {"slug": self.slug, "name": "Alert bench"}, status=201)
        d = f"/domains/{self.slug}"
        await self.api("POST", d + "/queues", {"name": "monitor", "strategy": "ringall", "ring_timeout": 30,
                                               "retry": 1}, status=201)
        await self.api("POST", d + "/queues", {"name": "ordinary", "strategy": "rrmemory", "ring_timeout": 5,
                                               "retry": 1}, status=201)
        # escalation off for the run (no timers firing into the measurements); acks end each alert
        await self.api("PUT", d + "/alert-app", {"monitoring_queue": "monitor", "call_number": "1140040000",
                                                 "ack_deadlines": {"red": 3600, "yellow": 3600}})
        self.monitor_q, self.load_q = f"{self.slug}_monitor", f"{self.slug}_ordinary"
        self.persons: list[Person] = []
        for i in range(self.args.persons):
            first9 = f"{random.randrange(10**8, 10**9)}"
            cpf = first9 + cpf_check_digits(first9)
            phone = str(PERSON_PHONE_BASE + i)
            pw = secrets.token_urlsafe(12)
            p = await self.api("POST", d + "/monitored-persons",
                               {"name": f"Pessoa {i}", "cpf": cpf, "phone": phone, "password": pw}, status=201)
            resp = await self.client.post(f"/api/v1/app/{self.slug}/login", json={"cpf": cpf, "password": pw})
            self.persons.append(Person(p["id"], phone, (await resp.json())["access_token"]))

        # The startup resync of ccplane's AgentRuntime removes members it does not know from
        # its queues; it ran at connect. Members are checked again before every phase.
        await asyncio.sleep(0.5)
        await self.ensure_members()
        creds = {"host": st.ami_host, "port": st.ami_port, "username": st.ami_username, "secret": st.ami_secret}
        self.probe = Child("probe", creds, {"queue": self.monitor_q})
        self.load = Child("load", creds, {"queue": self.load_q})
        for child in (self.probe, self.load):
            child.attach()
        self.pids = {"probe": (await self.probe.ready())["pid"], "load": (await self.load.ready())["pid"],
                     "asterisk": st.pid or 0, "ccplane": os.getpid()}

    def _instrument(self) -> None:
        """Note when ccplane's AlertCaller hands its Originate to the AMI socket."""
        ami = self.services.ami
        real = ami.action
        sent = self.originate_sent

        async def action(act: dict[str, Any], *, timeout: float | None = None) -> Any:
            if act.get("Action") == "Originate" and act.get("Channel") == "Local/s@ccplane-alert-queue":
                for var in act.get("Variable") or ():
                    if var.startswith("__CCPLANE_ALERT="):
                        sent[int(var.split("=", 1)[1])] = time.time()  # written synchronously next
            return await real(act, timeout=timeout)
        ami.action = action  # type: ignore[method-assign]

        # ... and when the app token check and the storing of the alert start and end
        alerts, marks = self.services.alerts, self.marks

        def timed(name: str, real_method: Any) -> Any:
            async def wrapper(*a: Any, **kw: Any) -> Any:
                marks[f"{name}_start"] = time.time()
                try:
                    return await real_method(*a, **kw)
                finally:
                    marks[f"{name}_end"] = time.time()
            return wrapper
        for name in ("app_person", "_store"):
            setattr(alerts, name, timed(name, getattr(alerts, name)))

    def _count_ami_input(self) -> None:
        """Count the AMI frames ccplane's own connection receives (it takes every event)."""
        self.ami_rx = {"frames": 0, "bytes": 0}
        manager = self.services.ami._manager  # noqa: SLF001
        self.ami_manager = manager
        protocol = manager.protocol
        original, rx = protocol.data_received, self.ami_rx

        def data_received(data: bytes) -> None:
            rx["frames"] += data.count(b"\r\n\r\n")
            rx["bytes"] += len(data)
            original(data)
        protocol.data_received = data_received

    async def ensure_members(self) -> None:
        wanted = {self.monitor_q: [attendant(i) for i in range(ATTENDANTS)],
                  self.load_q: [agent(i) for i in range(AGENTS)]}
        for i in range(ATTENDANTS):
            # attendants' state is pinned "not in use": each sample finds them free at once,
            # whatever the device state of the previous sample's Local channels
            await self.admin.command(f"devstate change Custom:alertbench-att{i} NOT_INUSE")
        for queue, interfaces in wanted.items():
            items = await self.admin.action({"Action": "QueueStatus", "Queue": queue}, timeout=15)
            present = {str(m.get("Location") or m.get("Interface")) for m in items if m.get("Event") == "QueueMember"}
            missing = [x for x in interfaces if x not in present]
            await asyncio.gather(*(self.admin.action({
                "Action": "QueueAdd", "Queue": queue, "Interface": x, "MemberName": x.split("@")[0][6:],
                "Penalty": "0", "Paused": "false",
                "StateInterface": f"Custom:alertbench-att{interfaces.index(x)}" if queue == self.monitor_q else x,
            }) for x in missing))
            items = await self.admin.action({"Action": "QueueStatus", "Queue": queue}, timeout=15)
            n = sum(1 for m in items if m.get("Event") == "QueueMember")
            if n != len(interfaces):
                raise RuntimeError(f"{queue} has {n} members, wanted {len(interfaces)}")

    # -- samples --------------------------------------------------------------
    async def quiesce(self, timeout: float = 10) -> None:
        """Wait until ccplane's alert background work (call, TTS, call id stored) is done."""
        tasks = self.services.alerts._tasks  # noqa: SLF001 - a bench may look inside
        deadline = time.monotonic() + timeout
        while tasks and time.monotonic() < deadline:
            await asyncio.sleep(0.001)

    async def sample_ccplane(self, tts: bool) -> dict[str, Any] | None:
        caller = self.services.alerts.caller
        caller.sounds_dir = self.sounds_dir if tts else None
        person = self.persons[self.person_seq % len(self.persons)]
        self.person_seq += 1
        waiting = self.probe.expect({"op": "expect", "key": person.phone, "timeout": 10.0})
        self.marks.clear()
        t_post = time.time()
        resp = await self.client.post(f"/api/v1/app/{self.slug}/alerts", json={"level": "red", "location": None},
                                      headers={"Authorization": f"Bearer {person.token}"})
        t_resp = time.time()
        body = await resp.json()
        if resp.status != 201 or body.get("duplicate"):
            self.errors.append(f"alert POST {resp.status} {body}")
            with contextlib.suppress(Exception):
                await asyncio.wait_for(waiting, 12)
            return None
        got = await asyncio.wait_for(waiting, 15)
        await self.quiesce()
        t_settled = time.time()
        await self.api("POST", f"/domains/{self.slug}/alerts/{body['id']}/ack")  # not a duplicate next time
        if "error" in got:
            self.errors.append(f"alert {body['id']}: {got['error']}")
            return None
        if not got["uniqueid"].startswith(f"alert{body['id']}-"):
            self.errors.append(f"alert {body['id']}: AgentCalled for {got['uniqueid']}")
            return None
        t_ring = got["ts_ast"] if self.asterisk_stamps and got["ts_ast"] else got["t_recv"]
        t_orig = self.originate_sent.pop(body["id"], None)
        m = self.marks
        if t_orig is None or len(m) != 4:
            self.errors.append(f"alert {body['id']}: instrumentation incomplete {sorted(m)}")
            return None
        return {"ring": t_ring - t_post, "ring_recv": got["t_recv"] - t_post, "response": t_resp - t_post,
                "to_originate": t_orig - t_post, "originate_to_ring": t_ring - t_orig,
                "settled": t_settled - t_post, "clean": got.get("clean", False),
                "to_token_check": m["app_person_start"] - t_post,
                "token_check": m["app_person_end"] - m["app_person_start"],
                "token_check_to_originate": t_orig - m["app_person_end"],
                "store": m["_store_end"] - m["_store_start"],
                "originate_to_stored": m["_store_end"] - t_orig}

    async def sample_baseline(self) -> dict[str, Any] | None:
        from ccplane.features.alerts.calls import WAIT_MS
        from ccplane.features.alerts.domain import QUEUE_PRIORITY
        self.baseline_seq += 1
        k = self.baseline_seq
        phone = str(BASELINE_PHONE_BASE + k)
        base = f"abase{k}-{secrets.token_hex(4)}"
        fake_alert = 900000 + k
        action = {
            "Action": "Originate", "Channel": "Local/s@ccplane-alert-queue", "Context": "ccplane-alert-person",
            "Exten": "s", "Priority": "1", "Timeout": str(WAIT_MS),
            "CallerID": f'"Pessoa base" <{phone}>', "Async": "true",
            "ChannelId": f"{base}-person", "OtherChannelId": f"{base}-queue",
            "Variable": [f"__CCPLANE_ALERT={fake_alert}", f"__CCPLANE_DOMAIN={self.slug}",
                         f"CCPLANE_PERSON_NUMBER={phone}", f"__CCPLANE_PRIO={QUEUE_PRIORITY['red']}",
                         f"__CCPLANE_ALERT_QUEUE={self.monitor_q}",
                         f"__CCPLANE_ANNOUNCE=ccplane/alerts/{self.slug}-{fake_alert}"]}
        got = await self.probe.ask({"op": "originate", "key": phone, "action": action, "timeout": 10.0}, 20)
        if "error" in got:
            self.errors.append(f"baseline {k}: {got['error']}")
            return None
        t_ring = got["ts_ast"] if self.asterisk_stamps and got["ts_ast"] else got["t_recv"]
        return {"ring": t_ring - got["t0"], "ring_recv": got["t_recv"] - got["t0"], "clean": got.get("clean", False)}

    async def tts_runs(self, n: int) -> list[float]:
        from ccplane.features.alerts.calls import speak
        from ccplane.features.alerts.domain import announcement
        out = []
        for i in range(n):
            t = time.perf_counter()
            ok = await speak(announcement("red", f"Pessoa {i}"), self.tmp / "tts" / f"{i}.wav")
            if ok:
                out.append(time.perf_counter() - t)
        return out

    async def phase(self, name: str, rate: float) -> dict[str, Any]:
        await self.ensure_members()
        await self.probe.ask({"op": "forget"})
        load_stats = None
        if rate > 0:
            await self.load.ask({"op": "start", "rate": rate})
            await asyncio.sleep(3)  # reach the steady number of calls in flight
        tts = await self.tts_runs(self.args.tts_runs)
        pids = self.pids
        cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
        rx0 = dict(self.ami_rx)
        m0, t0 = machine_ticks(), time.monotonic()
        samples: dict[str, list[dict[str, Any]]] = {s: [] for s in SERIES}
        total = self.args.warmup + self.args.samples
        for i in range(total):
            order = list(SERIES)
            random.shuffle(order)  # no series always runs right after another
            for s in order:
                r = await (self.sample_baseline() if s == "baseline" else self.sample_ccplane(s == "ccplane"))
                if r is not None and i >= self.args.warmup:
                    samples[s].append(r)
            if len(self.errors) > 20:
                raise RuntimeError(f"too many failed samples: {self.errors[:5]}")
            if (i + 1) % 50 == 0:
                log(f"{name}: {i + 1}/{total} rounds")
        # The cold path: ccplane has forgotten the person (as after a change to
        # them), so the token check reads the row before the call can ring.
        cold: list[dict[str, Any]] = []
        for _ in range(self.args.cold_samples):
            self.services.alerts.forget_person(self.persons[self.person_seq % len(self.persons)].id)
            r = await self.sample_ccplane(True)
            if r is not None:
                cold.append(r)
        window = time.monotonic() - t0
        cpu = {k: round(cpu_seconds(p) - cpu0[k], 2) for k, p in pids.items()}
        busy0, all0 = m0
        busy1, all1 = machine_ticks()
        frames = self.ami_rx["frames"] - rx0["frames"]
        if rate > 0:
            load_stats = await self.load.ask({"op": "stop"}, timeout=30)
        await self.quiesce()
        out = summarize(name, rate, samples, tts, window, cpu,
                        round(100 * (busy1 - busy0) / max(1, all1 - all0), 1), load_stats)
        out["ccplane_cold_ring_ms"] = pct([r["ring"] for r in cold])
        out["ccplane_cold_token_check_ms"] = pct([r["token_check"] for r in cold])
        # CPU of everything else on the machine (e.g. another sandbox and its tests), in cores
        out["other_processes_cores"] = round(max(0.0, (busy1 - busy0) / CLK_TCK - sum(cpu.values())) / window, 2)
        same_link = self.services.ami._manager is self.ami_manager  # noqa: SLF001
        out["ccplane_ami_frames_per_s"] = round(frames / window) if same_link else None
        return out

    async def run(self) -> dict[str, Any]:
        self.sounds_dir = Path(self.services.alerts.caller.sounds_dir)
        results = [await self.phase("idle", 0.0)]
        print_phase(results[-1])
        if self.args.rate > 0:
            results.append(await self.phase("load", self.args.rate))
            print_phase(results[-1])
        return {"bench": "alert_latency", "asterisk_version": self.services.ami.asterisk_version,
                "cpus": os.cpu_count(), "ring_clock": "asterisk Timestamp" if self.asterisk_stamps else "probe receive",
                "phases": results, "errors": self.errors[:20], "error_count": len(self.errors)}

    async def close(self) -> None:
        for child in (getattr(self, "probe", None), getattr(self, "load", None)):
            if child is not None:
                child.close()
        if getattr(self, "admin", None) is not None:
            with contextlib.suppress(Exception):
                await self.admin.command("channel request hangup all", timeout=15)
        if getattr(self, "client", None) is not None:
            logging.getLogger("ccplane.ami").setLevel(logging.ERROR)
            await self.client.close()  # runs ccplane's cleanup (AMI/ARI stop, engine dispose)
        if getattr(self, "admin", None) is not None:
            await self.admin.stop()


# --------------------------------------------------------------------------- report

def _diff(a: float | None, b: float | None) -> float | None:
    return round(a - b, 1) if a is not None and b is not None else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def summarize(name: str, rate: float, samples: dict[str, list[dict[str, Any]]], tts: list[float],
              window: float, cpu: dict[str, float], busy_pct: float,
              load_stats: dict[str, Any] | None) -> dict[str, Any]:
    ring = {s: pct([r["ring"] for r in samples[s]]) for s in SERIES}
    cc, base, off = ring["ccplane"], ring["baseline"], ring["ccplane_no_tts"]
    c = samples["ccplane"]
    out: dict[str, Any] = {
        "phase": name, "load_rate": rate, "window_s": round(window, 1),
        "ring_ms": ring,
        "overhead_ms": {"p50": _diff(cc["p50"], base["p50"]), "p99": _diff(cc["p99"], base["p99"])},
        "overhead_no_tts_ms": {"p50": _diff(off["p50"], base["p50"]), "p99": _diff(off["p99"], base["p99"])},
        "ratio": {"p50": _ratio(cc["p50"], base["p50"]), "p99": _ratio(cc["p99"], base["p99"])},
        "tts_share_ms": {"p50": _diff(cc["p50"], off["p50"]), "p99": _diff(cc["p99"], off["p99"])},
        "ccplane_breakdown_ms": {key: pct([r[src] for r in c]) for key, src, _ in PARTS},
        "ami_delivery_ms": {s: pct([r["ring_recv"] - r["ring"] for r in samples[s]]) for s in SERIES},
        "tts_speak_ms": pct(tts),
        # drift check (tables grow during the run): ccplane's p50 over the first and the second half
        "ccplane_p50_halves_ms": [pct([r["ring"] for r in c[:len(c) // 2]])["p50"],
                                  pct([r["ring"] for r in c[len(c) // 2:]])["p50"]],
        "unclean_samples": sum(1 for s in SERIES for r in samples[s] if not r["clean"]),
        "cpu_s": cpu, "machine_busy_pct": busy_pct,
    }
    if load_stats is not None:
        w = load_stats.get("window_s") or 1
        out["load"] = {**load_stats, "completed_per_s": round(load_stats["completed"] / w, 1)}
    return out


# ccplane's ring time split at the points _instrument() marks: (JSON key, sample key, label)
PARTS = (
    ("post_to_token_check", "to_token_check", "POST sent -> app token check starts"),
    ("token_check", "token_check", "app token check (person kept in memory)"),
    ("token_check_to_originate_sent", "token_check_to_originate", "-> Originate written to AMI"),
    ("post_to_originate_sent", "to_originate", "= POST sent -> Originate written"),
    ("originate_sent_to_ring", "originate_to_ring", "Originate written -> AgentCalled"),
    ("store", "store", "(alert + audit row stored: checks, commit)"),
    ("originate_sent_to_stored", "originate_to_stored", "(Originate written -> alert committed)"),
    ("http_response", "response", "(POST sent -> 201 received)"),
    ("background_done", "settled", "(POST sent -> call task done: TTS, call id)"),
)


def print_phase(r: dict[str, Any]) -> None:
    ring, b = r["ring_ms"], r["ccplane_breakdown_ms"]
    head = f"  {'POST/Originate -> first AgentCalled':44}{'n':>5}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}  (ms)"
    lines = [f"phase {r['phase']}" + (f": background load {r['load_rate']:g} calls/s" if r["load_rate"] else
                                      ": no other calls"), head]
    for s in SERIES:
        q = ring[s]
        lines.append(f"  {LABELS[s]:44}{q['n']:>5}{q['p50']:>8}{q['p90']:>8}{q['p99']:>8}{q['max']:>8}")
    o, o2, t = r["overhead_ms"], r["overhead_no_tts_ms"], r["tts_share_ms"]
    lines += [
        f"  ccplane overhead (percentile differences): p50 +{o['p50']} ms, p99 +{o['p99']} ms "
        f"(TTS off: p50 +{o2['p50']}, p99 +{o2['p99']});  ratio ccplane/baseline p50 {r['ratio']['p50']}x, "
        f"p99 {r['ratio']['p99']}x",
        f"  target overhead p99 < 50 ms: {'MET' if o['p99'] is not None and o['p99'] < 50 else 'NOT MET'}",
        "  ccplane, TTS on, by part:",
    ]
    for key, _, label in PARTS:
        q = b[key]
        lines.append(f"    {label:42}{q['n']:>5}{q['p50']:>8}{q['p90']:>8}{q['p99']:>8}{q['max']:>8}")
    tq = r["tts_speak_ms"]
    lines.append(f"  TTS speak() alone ({tq['n']} runs): p50 {tq['p50']} ms, p99 {tq['p99']} ms;  "
                 f"TTS on - off on the ring time: p50 {t['p50']} ms, p99 {t['p99']} ms")
    cq, ct = r["ccplane_cold_ring_ms"], r["ccplane_cold_token_check_ms"]
    if cq["n"]:
        lines.append(f"  cold (person not in memory, token check reads the row): n {cq['n']}, ring p50 {cq['p50']} "
                     f"p99 {cq['p99']} ms; token check p50 {ct['p50']} p99 {ct['p99']} ms")
    d = r["ami_delivery_ms"]["baseline"]
    cpu = r["cpu_s"]
    lines.append(f"  AMI delivery (Asterisk Timestamp -> probe received) p50 {d['p50']} ms, p99 {d['p99']} ms; "
                 f"ccplane's AMI link received {r['ccplane_ami_frames_per_s']} frames/s")
    lines.append(f"  machine {r['machine_busy_pct']}% busy over {r['window_s']} s; CPU s: Asterisk {cpu['asterisk']}, "
                 f"ccplane+bench {cpu['ccplane']}, probe {cpu['probe']}, load gen {cpu['load']}; "
                 f"other processes {r['other_processes_cores']} cores")
    if "load" in r:
        ld = r["load"]
        lines.append(f"  load: offered {ld['offered']} calls in {ld['window_s']} s, completed {ld['completed']} "
                     f"({ld['completed_per_s']}/s), abandoned {ld['abandoned']}, errors {ld['errors']}, "
                     f"throttled {ld['throttled']}, max in flight {ld['max_inflight']}")
    if r["unclean_samples"]:
        lines.append(f"  !! {r['unclean_samples']} samples did not clean up within 5 s")
    print("\n".join(lines) + "\n", flush=True)


def print_summary(report: dict[str, Any]) -> None:
    head = (f"{'phase':6} {'ccplane p50/p99':>16} {'no-TTS p50/p99':>16} {'baseline p50/p99':>17} "
            f"{'overhead p50/p99':>17} {'ratio p50/p99':>14}  target p99<50ms")
    print("summary (ms; ring = first AgentCalled)")
    print(head)
    print("-" * len(head))
    for r in report["phases"]:
        ring, o = r["ring_ms"], r["overhead_ms"]
        print(f"{r['phase']:6} {ring['ccplane']['p50']:>7}/{ring['ccplane']['p99']:<8} "
              f"{ring['ccplane_no_tts']['p50']:>7}/{ring['ccplane_no_tts']['p99']:<8} "
              f"{ring['baseline']['p50']:>8}/{ring['baseline']['p99']:<8} "
              f"{o['p50']:>8}/{o['p99']:<8} {r['ratio']['p50']:>6}/{r['ratio']['p99']:<7}  "
              f"{'met' if o['p99'] is not None and o['p99'] < 50 else 'NOT met'}")
    if report["error_count"]:
        print(f"{report['error_count']} samples failed, e.g. {report['errors'][:3]}")
    print(flush=True)


# --------------------------------------------------------------------------- main

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=int, default=200, help="measured samples per series and phase (200)")
    p.add_argument("--warmup", type=int, default=5, help="unmeasured rounds first (5)")
    p.add_argument("--rate", type=float, default=20.0,
                   help="background calls/s in the load phase (20); 0 skips the load phase")
    p.add_argument("--persons", type=int, default=6, help="monitored persons taking turns (6)")
    p.add_argument("--cold-samples", type=int, default=30,
                   help="extra ccplane samples per phase with the person forgotten first (30)")
    p.add_argument("--tts-runs", type=int, default=30, help="speak() timed on its own per phase (30)")
    p.add_argument("--keep-sandbox", action="store_true", help="leave the alertbench Asterisk running")
    p.add_argument("--database-url", default="",
                   help="a PostgreSQL server URL (postgresql+psycopg://user@host:port/db): the bench "
                        "creates a fresh database there and drops it at the end (default: temporary SQLite)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `timeout`/kill: clean up as for ^C
    logging.basicConfig(level=logging.WARNING, format="[ccplane] %(levelname)s %(name)s %(message)s")

    tmp = Path(tempfile.mkdtemp(prefix="alertbench-"))
    # Nothing of the caller's CCPLANE_* environment: it may point at the default sandbox or
    # at a shared PostgreSQL.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCPLANE_")}
    env.update(BENCH_ENV)
    pg_db = ""
    database_url = f"sqlite+aiosqlite:///{tmp / 'ccplane.db'}"
    if args.database_url.startswith("postgresql"):
        import psycopg
        pg_db = f"alertbench_{secrets.token_hex(4)}"
        with psycopg.connect(_pg_plain(args.database_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_db}"')
        database_url = args.database_url.rsplit("/", 1)[0] + "/" + pg_db
    elif args.database_url:
        log("--database-url must be a postgresql+psycopg:// URL")
        return 2
    env.update({
        "CCPLANE_DATABASE_URL": database_url,
        "CCPLANE_ASTERISK_TAKE_OVER": "1",  # a fresh database per run: a new deployment
        "CCPLANE_AUTH_SECRET_KEY": secrets.token_hex(32),
        "CCPLANE_STORAGE_DIR": str(tmp / "storage"),
        # TTS output goes here, not into the sandbox's shared sounds directory: the
        # attendant never answers, so nothing is played; the cost of speaking is the same.
        "CCPLANE_ASTERISK_SOUNDS_DIR": str(tmp / "sounds"),
        "CCPLANE_LOG_LEVEL": "WARNING",
    })
    settings = load_settings(env=env)
    sandbox = Sandbox(settings.sandbox, progress=log)
    try:
        from alembic import command

        from ccplane.db.session import alembic_config
        logging.getLogger("alembic").setLevel(logging.WARNING)
        command.upgrade(alembic_config(settings.database.url), "head")
        state = sandbox.up()
        if not state.pid:
            log("the sandbox has no Asterisk pid")
            return 1
        try:
            prepare_instance(state)
            started = time.monotonic()
            report = asyncio.run(_run(args, settings, state, tmp))
            report["runtime_s"] = round(time.monotonic() - started, 1)
            report["tts_tools"] = bool(shutil.which("espeak-ng") and shutil.which("sox"))
            report["database"] = database_url.split("+", 1)[0].split(":", 1)[0]
            print(f"database: {report['database']}")
            print_summary(report)
            print(json.dumps(report, separators=(",", ":")), flush=True)
        finally:
            if not args.keep_sandbox:
                sandbox.down()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if pg_db:
            import psycopg
            with psycopg.connect(_pg_plain(args.database_url), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
    return 0


def _pg_plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


async def _run(args: argparse.Namespace, settings: Any, state: SandboxState, tmp: Path) -> dict[str, Any]:
    bench = Bench(args, settings, state, tmp)
    try:
        await bench.setup()
        return await bench.run()
    finally:
        await bench.close()


if __name__ == "__main__":
    sys.exit(main())
