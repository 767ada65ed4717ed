#!/usr/bin/env python
"""Benchmark: ccplane's agent tracker against a real Asterisk 22 queue.

A benchmark, not a test: it prints figures and asserts nothing. For each agent
count N (10, 50, 200 by default) it

1. puts N Local-channel members into a queue ``bench_q`` (AMI QueueAdd) and
   offers a stream of queue calls (AMI Originate, Async) at a fixed rate for a
   fixed time, counting completed calls (AgentComplete) per second;
2. measures the *tracker event lag*: the time from the moment an AMI event
   reached ccplane's process (the socket read that completed it) to the moment
   the real :class:`~ccplane.features.agents.runtime.AgentRuntime` (AgentBoard
   plus its effect handling) has produced its effects. In the same run a second
   process receives the same events with a no-op handler (the bare AMI receive
   path); the ratio board/baseline is printed;
3. compares the CPU time of the tracker process with Asterisk's over the same
   window.

Processes::

    this process       sandbox, config, members, load generator (filtered AMI session)
    tracker process    AmiClient + AgentRuntime (one Agent per member)  <- "ccplane"
    baseline process   AmiClient + a no-op handler for the same events

It starts its own sandbox instance (name ``bench``, other ports than the
default one), writes ``etc/ccplane/queues.conf`` and ``extensions.conf`` there,
and stops it at the end. Run as root (the sandbox is a chroot)::

    .venv/bin/python bench/queue_tracker.py            # about 75 s
    .venv/bin/python bench/queue_tracker.py --help

Output: one block per N, a summary table, then one JSON line with every figure.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.events import AmiEvent
from ccplane.asterisk.sandbox import Sandbox, SandboxState
from ccplane.features.agents.domain import Agent, CallEnded, QueuePolicy
from ccplane.features.agents.runtime import AgentRuntime
from ccplane.features.calls.domain import CallTracker
from ccplane.features.calls.events import CallEvent
from ccplane.bus import EventBus
from ccplane.settings import load_settings

QUEUE = "bench_q"
MEMBER_CONTEXT = "bench-members"
CALLER_CONTEXT = "bench-caller"
MEMBER_BASE = 1000           # member n is Local/<1000+n>@bench-members/n
CALL_BASE = 100000           # call k is Local/<100000+k>@bench-caller/n
ANSWER_COST = 0.5            # Answer() on a Local channel waits 500 ms for media
CALLER_QUEUE_TIMEOUT = 10    # Queue()'s timeout argument: the longest a caller waits
QUEUE_MAXLEN = 300           # Asterisk-side backstop against piling up callers
# AGENTS:RATE:TALK. Rates this 2-core machine sustained with the tracker keeping up
# (Asterisk, tracker, baseline and generator share the CPUs); about 70 % occupancy.
DEFAULT_PHASES = "10:7:1.0,50:35:1.0,200:40:4.0"

BENCH_ENV = {
    "CCPLANE_SANDBOX_NAME": "bench",
    "CCPLANE_SANDBOX_AMI_PORT": "5338",
    "CCPLANE_SANDBOX_HTTP_PORT": "8388",
    "CCPLANE_SANDBOX_SIP_PORT": "5360",
    "CCPLANE_SANDBOX_RTP_START": "13000",
    "CCPLANE_SANDBOX_RTP_END": "13499",
}

_BOARD_EVENT_NAMES = frozenset(CallTracker.EVENTS)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- config

def queues_conf(strategy: str) -> str:
    return f"""; written by bench/queue_tracker.py
[{QUEUE}]
strategy = {strategy}
ringinuse = no
timeout = 5
retry = 1
wrapuptime = 0
maxlen = {QUEUE_MAXLEN}
announce-frequency = 0
periodic-announce-frequency = 0
announce-holdtime = no
announce-position = no
"""


def extensions_conf() -> str:
    # Members: Answer() returns after ANSWER_COST (the caller is bridged at once),
    # then Wait(BENCH_WAIT): talk time = ANSWER_COST + BENCH_WAIT, set per phase.
    # Callers: the originated ;1 side runs Wait(), the ;2 side runs the queue.
    # BENCH_WAIT is a global variable set over AMI (Setvar) before each phase.
    return f"""; written by bench/queue_tracker.py
[{MEMBER_CONTEXT}]
exten => _X!,1,Answer()
 same => n,Wait(${{BENCH_WAIT}})
 same => n,Hangup()

[{CALLER_CONTEXT}]
exten => _X!,1,Queue({QUEUE},,,,{CALLER_QUEUE_TIMEOUT})
 same => n,Hangup()
"""


def member_interface(i: int) -> str:
    return f"Local/{MEMBER_BASE + i}@{MEMBER_CONTEXT}/n"


# --------------------------------------------------------------------------- measuring

def cpu_seconds(pid: int) -> float:
    """utime + stime of a whole process (all its threads, dead ones included)."""
    data = Path(f"/proc/{pid}/stat").read_text()
    rest = data[data.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def machine_ticks() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies over all CPUs, from /proc/stat."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return user + nice + system + irq + softirq, steal, sum(v)


def runqueue_wait(pid: int) -> float:
    """Seconds the process's main thread spent runnable but waiting for a CPU."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def percentiles(values_ns: list[int]) -> dict[str, float | int]:
    if not values_ns:
        return {"n": 0, "p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}
    s = sorted(values_ns)

    def q(p: float) -> float:
        return round(s[min(len(s) - 1, int(p * len(s)))] / 1000.0, 1)
    return {"n": len(s), "p50": q(0.50), "p90": q(0.90), "p99": q(0.99), "max": round(s[-1] / 1000.0, 1)}


def _read_stats(reads: list[tuple[int, int, int]]) -> dict[str, Any]:
    """How the event stream arrived: socket reads, events and time per read."""
    if not reads:
        return {"n": 0}
    by_events = sorted(r[1] for r in reads)
    by_bytes = sorted(r[0] for r in reads)
    by_ns = sorted(r[2] for r in reads)

    def q(s: list[int], p: float) -> int:
        return s[min(len(s) - 1, int(p * len(s)))]
    return {"n": len(reads), "events_p50": q(by_events, 0.5), "events_p99": q(by_events, 0.99),
            "events_max": by_events[-1], "bytes_p50": q(by_bytes, 0.5), "bytes_max": by_bytes[-1],
            "ms_p50": round(q(by_ns, 0.5) / 1e6, 2), "ms_p99": round(q(by_ns, 0.99) / 1e6, 2),
            "ms_max": round(by_ns[-1] / 1e6, 2)}


@dataclass
class Recorder:
    on: bool = False
    events: int = 0
    lag: list[int] = field(default_factory=list)       # socket read -> effects done
    handler: list[int] = field(default_factory=list)   # _dispatch entry -> effects done
    by_name: dict[str, int] = field(default_factory=dict)
    reads: list[tuple[int, int, int]] = field(default_factory=list)  # (bytes, events, ns) per socket read

    def reset(self) -> None:
        self.events = 0
        self.lag, self.handler, self.by_name, self.reads = [], [], {}, []


class StampedAmiClient(AmiClient):
    """ccplane's AmiClient, timestamping each event as early as our process can.

    ``data_received`` of panoramisk's protocol is wrapped to note when a chunk of
    bytes arrived; panoramisk parses the chunk and dispatches every complete
    event synchronously inside that call, so an event's arrival is the read that
    completed it. ``_dispatch`` (decode + every subscriber) is timed around.
    """

    def __init__(self, *args: Any, recorder: Recorder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorder = recorder
        self._chunk_ns = 0

    async def _connect_once(self) -> None:
        await super()._connect_once()
        protocol = self._manager.protocol if self._manager else None
        if protocol is None:
            return
        original = protocol.data_received

        def data_received(data: bytes) -> None:
            start = self._chunk_ns = time.perf_counter_ns()
            before = self.recorder.events
            try:
                original(data)
            finally:
                self._chunk_ns = 0
                if self.recorder.on:
                    self.recorder.reads.append((len(data), self.recorder.events - before,
                                                time.perf_counter_ns() - start))
        protocol.data_received = data_received

    def _dispatch(self, manager: Any, message: Any) -> None:
        entry = time.perf_counter_ns()
        arrived = self._chunk_ns or entry
        super()._dispatch(manager, message)
        done = time.perf_counter_ns()
        rec = self.recorder
        if rec.on:
            rec.events += 1
            name = message.get("Event")
            if name in _BOARD_EVENT_NAMES:
                rec.lag.append(done - arrived)
                rec.handler.append(done - entry)
                rec.by_name[name] = rec.by_name.get(name, 0) + 1


class BenchRuntime(AgentRuntime):
    """The real AgentRuntime; only counts the calls it saw end (no database here)."""

    calls_ended = 0

    async def _record_call(self, ended: CallEnded) -> None:
        self.calls_ended += 1
        await super()._record_call(ended)  # no domain for these agents: no DB write


# --------------------------------------------------------------------------- child processes

def _noop(_event: AmiEvent) -> None:
    return None


class BenchDirectory:
    """Every queue and member is the bench's (no database)."""

    def __init__(self, runtime: AgentRuntime) -> None:
        self.runtime = runtime

    def queue(self, key: str) -> tuple[str, str] | None:
        return ("bench", key) if key else None

    def did(self, did: str) -> str | None:
        return None

    def agent(self, interface: str) -> str | None:
        agent = self.runtime.board.agents.get(interface)
        return agent.username if agent else None

    def endpoint(self, endpoint: str) -> tuple[str, str] | None:
        return None

    def context(self, context: str) -> str | None:
        return None


def child_entry(role: str, creds: dict[str, Any], conn: Any) -> None:
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(_child_main(role, creds, conn))
    except KeyboardInterrupt:
        pass


async def _child_main(role: str, creds: dict[str, Any], conn: Any) -> None:
    rec = Recorder()
    client = StampedAmiClient(creds["host"], creds["port"], creds["username"], creds["secret"],
                              recorder=rec)
    runtime: BenchRuntime | None = None
    if role == "tracker":
        # no database: these agents have no domain, so no call record is written
        runtime = BenchRuntime(sessions=None, ami=client,  # type: ignore[arg-type]
                               is_registered=lambda _endpoint: True)
        await runtime.start()
        # as in production: the call tracker turns AMI events into domain events, the board follows them
        bus, tracker = EventBus(), CallTracker(BenchDirectory(runtime))
        bus.subscribe(CallEvent, runtime.on_call_event)

        def track(event: AmiEvent) -> None:
            bus.publish_all(tracker.handle(event, time.time()))
            tracker.touched.clear()
        client.on_event(track, names=CallTracker.EVENTS)
    else:
        client.on_event(_noop, names=CallTracker.EVENTS)
    drops = [0]

    async def on_disconnect() -> None:
        if rec.on:
            drops[0] += 1
    client.on_disconnect(on_disconnect)
    await client.start()
    await client.wait_connected(15)

    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def readable() -> None:
        try:
            inbox.put_nowait(conn.recv())
        except (EOFError, OSError):
            loop.remove_reader(conn.fileno())
            inbox.put_nowait({"op": "quit"})
    loop.add_reader(conn.fileno(), readable)
    conn.send({"ready": True, "pid": os.getpid()})
    try:
        while True:
            cmd = await inbox.get()
            op = cmd["op"]
            if op == "phase":
                if runtime is not None:
                    for interface in list(runtime.board.agents):
                        runtime.board.remove(interface)
                    policy = QueuePolicy(wrapup_time=cmd["wrapup"])
                    for i in range(cmd["agents"]):
                        runtime.board.put(Agent(username=f"agent{i}", interface=member_interface(i),
                                                queues={QUEUE: policy}))
                    runtime.calls_ended = 0
                rec.reset()
                drops[0] = 0
                rec.on = True
                conn.send({"ok": True})
            elif op == "stop":
                rec.on = False
                out: dict[str, Any] = {
                    "events": rec.events,
                    "board_events": dict(sorted(rec.by_name.items())),
                    "lag_us": percentiles(rec.lag),
                    "handler_us": percentiles(rec.handler),
                    "connected": client.connected,
                    "disconnects": drops[0],
                    "reads": _read_stats(rec.reads),
                }
                if runtime is not None:
                    agents = runtime.board.agents.values()
                    out["calls_ended"] = runtime.calls_ended
                    out["left_in_call"] = sum(len(a.calls) for a in agents)
                    out["left_ringing"] = sum(len(a.offers) for a in agents)
                conn.send(out)
            elif op == "quit":
                break
    finally:
        with contextlib.suppress(Exception):
            loop.remove_reader(conn.fileno())
        logging.getLogger("ccplane.ami").setLevel(logging.ERROR)  # our own stop is no news
        if runtime is not None:
            await runtime.stop()
        await client.stop()


class Child:
    def __init__(self, role: str, creds: dict[str, Any]) -> None:
        ctx = mp.get_context("spawn")
        self.role = role
        self.conn, child_conn = ctx.Pipe()
        self.proc = ctx.Process(target=child_entry, args=(role, creds, child_conn),
                                name=f"bench-{role}", daemon=True)
        self.proc.start()
        child_conn.close()
        self.pid = self.proc.pid

    async def recv(self, timeout: float) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(None, self.conn.poll, timeout):
            raise TimeoutError(f"{self.role} process did not answer within {timeout:.0f} s")
        return self.conn.recv()

    async def ask(self, msg: dict[str, Any], timeout: float = 15.0) -> dict[str, Any]:
        self.conn.send(msg)
        return await self.recv(timeout)

    def close(self) -> None:
        if self.proc.is_alive():
            with contextlib.suppress(Exception):
                self.conn.send({"op": "quit"})
            self.proc.join(5)
        if self.proc.is_alive():
            self.proc.terminate()  # this one process, by its own handle
            self.proc.join(5)


# --------------------------------------------------------------------------- load generator

@dataclass
class PhaseSpec:
    agents: int
    rate: float
    talk: float


class Generator:
    """Originates queue calls and follows them through a filtered AMI session."""

    def __init__(self, ami: AmiClient) -> None:
        self.ami = ami
        self.inflight: dict[int, float] = {}
        self.next_call = 0
        self.completes: list[float] = []
        self.abandons = 0
        self.originate_errors = 0
        self.lost = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        ami.on_event(self._on_event, names=("AgentComplete", "QueueCallerAbandon", "Hangup"))

    async def install_filter(self) -> None:
        # Only the events the generator needs reach its session; the tracker and
        # baseline sessions get everything.
        regex = "^Event: (AgentComplete|QueueCallerAbandon|Hangup)\r"
        await self.ami.action({"Action": "Filter", "Operation": "Add", "Filter": regex})

    def _on_event(self, ev: AmiEvent) -> None:
        if ev.name == "AgentComplete":
            self.completes.append(time.monotonic())
        elif ev.name == "QueueCallerAbandon":
            self.abandons += 1
        else:
            chan = ev.fields.get("Channel")
            if isinstance(chan, str) and chan.endswith(";1") and f"@{CALLER_CONTEXT}-" in chan:
                try:
                    self.inflight.pop(int(chan[6:chan.index("@")]), None)
                except ValueError:
                    pass

    def originate(self) -> None:
        k = CALL_BASE + self.next_call
        self.next_call += 1
        self.inflight[k] = time.monotonic()
        action = {"Action": "Originate", "Channel": f"Local/{k}@{CALLER_CONTEXT}/n",
                  "Application": "Wait", "Data": "300", "Async": "true", "Timeout": "30000",
                  "CallerID": f"bench <{k}>"}
        task = asyncio.ensure_future(self._send(k, action))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, k: int, action: dict[str, str]) -> None:
        try:
            await self.ami.action(action, timeout=10)
        except Exception:  # noqa: BLE001 - counted, the call is not in flight
            self.originate_errors += 1
            self.inflight.pop(k, None)

    def sweep(self, max_age: float) -> None:
        """Forget calls whose end we never saw (e.g. a channel that was never made)."""
        now = time.monotonic()
        for k in [k for k, t in self.inflight.items() if now - t > max_age]:
            del self.inflight[k]
            self.lost += 1

    def reset(self) -> None:
        self.inflight.clear()
        self.completes.clear()
        self.abandons = self.originate_errors = self.lost = 0


async def hangup_all(ami: AmiClient) -> None:
    try:
        await ami.command("channel request hangup all", timeout=15)
    except Exception as exc:  # noqa: BLE001
        log(f"hangup all failed: {exc}")


async def channel_count(ami: AmiClient) -> int:
    out = await ami.command("core show channels count", timeout=10)
    for line in out.splitlines():
        if "active channel" in line:
            return int(line.split()[0])
    return -1


async def wait_idle(ami: AmiClient, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    n = await channel_count(ami)
    while n > 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        n = await channel_count(ami)
    return n


async def set_members(ami: AmiClient, n: int) -> None:
    for item in await ami.action({"Action": "QueueStatus", "Queue": QUEUE}, timeout=15):
        if item.get("Event") == "QueueMember":
            await ami.action({"Action": "QueueRemove", "Queue": QUEUE,
                              "Interface": item.get("Location") or item.get("Interface")})
    for start in range(0, n, 50):
        await asyncio.gather(*(ami.action({
            "Action": "QueueAdd", "Queue": QUEUE, "Interface": member_interface(i),
            "MemberName": f"agent{i}", "StateInterface": member_interface(i), "Penalty": "0",
            "Paused": "false"}) for i in range(start, min(n, start + 50))))
    members = [m for m in await ami.action({"Action": "QueueStatus", "Queue": QUEUE}, timeout=15)
               if m.get("Event") == "QueueMember"]
    if len(members) != n:
        raise RuntimeError(f"{QUEUE} has {len(members)} members, wanted {n}")


# --------------------------------------------------------------------------- one phase

async def run_phase(spec: PhaseSpec, args: argparse.Namespace, ami: AmiClient, gen: Generator,
                    tracker: Child, baseline: Child, asterisk_pid: int) -> dict[str, Any]:
    await hangup_all(ami)
    await wait_idle(ami, 5)
    await set_members(ami, spec.agents)
    wait = max(0.0, spec.talk - ANSWER_COST)
    await ami.action({"Action": "Setvar", "Variable": "BENCH_WAIT", "Value": f"{wait:.3f}"})
    for child in (tracker, baseline):
        await child.ask({"op": "phase", "agents": spec.agents, "wrapup": args.wrapup})
    await asyncio.sleep(0.3)
    gen.reset()
    cap = spec.agents + max(20, spec.agents // 2)  # calls in flight: talking plus a short queue
    duration, ramp = args.duration, min(args.ramp, args.duration / 2)

    pids = {"ccplane": tracker.pid, "baseline": baseline.pid, "generator": os.getpid(),
            "asterisk": asterisk_pid}
    cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
    wait0 = {k: runqueue_wait(pids[k]) for k in ("ccplane", "baseline")}
    machine0 = machine_ticks()
    t0 = time.monotonic()
    offered = throttled = 0
    max_inflight = 0
    while True:
        t = time.monotonic() - t0
        if t >= duration:
            break
        # linear ramp to the full rate over `ramp` seconds, then constant
        due = spec.rate * (t * t / (2 * ramp) if t < ramp else t - ramp / 2)
        while offered + throttled < int(due):
            if len(gen.inflight) >= cap:
                throttled += 1
            else:
                gen.originate()
                offered += 1
        max_inflight = max(max_inflight, len(gen.inflight))
        gen.sweep(CALLER_QUEUE_TIMEOUT + spec.talk + 20)
        await asyncio.sleep(0.005)
    t1 = time.monotonic()
    cpu1 = {k: cpu_seconds(p) for k, p in pids.items()}
    wait1 = {k: runqueue_wait(pids[k]) for k in ("ccplane", "baseline")}
    machine1 = machine_ticks()

    # drain: calls already offered finish normally (bounded), then clean up
    drain_deadline = time.monotonic() + spec.talk + CALLER_QUEUE_TIMEOUT + 2
    while gen.inflight and time.monotonic() < drain_deadline:
        await asyncio.sleep(0.05)
    drained = not gen.inflight
    await asyncio.sleep(0.3)  # let the last events reach the tracker and the baseline
    board = await tracker.ask({"op": "stop"})
    base = await baseline.ask({"op": "stop"})
    await hangup_all(ami)
    leftover = await wait_idle(ami, 5)

    warm = ramp + spec.talk + 0.5
    steady = [c for c in gen.completes if t0 + warm <= c < t1]
    steady_len = max(0.001, t1 - (t0 + warm))
    per_second = [0] * int(duration)
    for c in gen.completes:
        i = int(c - t0)
        if 0 <= i < len(per_second):
            per_second[i] += 1
    steady_secs = per_second[int(warm + 0.999):int(duration)]
    cpu = {k: round(cpu1[k] - cpu0[k], 2) for k in pids}
    window = t1 - t0
    busy, steal, total = (b - a for a, b in zip(machine0, machine1))
    other = busy / CLK_TCK - sum(cpu.values())  # CPU used by anything else on the machine
    ast = cpu["asterisk"] or 0.01
    sustained = len(steady) / steady_len
    completed = len(gen.completes)
    return {
        "agents": spec.agents, "talk_s": spec.talk, "offered_rate": spec.rate, "duration_s": duration,
        "ramp_s": ramp, "inflight_cap": cap, "max_inflight": max_inflight,
        "offered": offered, "throttled": throttled, "completed": completed,
        "abandoned": gen.abandons, "originate_errors": gen.originate_errors, "lost": gen.lost,
        "drained": drained, "channels_left": leftover,
        "sustained_cps": round(sustained, 1),
        "steady_window_s": round(steady_len, 1),
        "per_second": per_second,
        "steady_min_per_s": min(steady_secs) if steady_secs else None,
        "steady_max_per_s": max(steady_secs) if steady_secs else None,
        "overloaded": throttled > 0 or sustained < 0.9 * spec.rate,
        # the tracker saw every call end and its AMI link never dropped
        "tracker_kept_up": (board["disconnects"] == 0 and base["disconnects"] == 0
                            and board.get("calls_ended") == completed),
        "ami_disconnects": {"board": board["disconnects"], "baseline": base["disconnects"]},
        "ami_events": board["events"],
        "events_per_call": round(board["events"] / completed, 1) if completed else None,
        "board_events": board["board_events"],
        "tracker": {"calls_ended": board.get("calls_ended"), "left_in_call": board.get("left_in_call"),
                    "left_ringing": board.get("left_ringing")},
        "socket_reads": {"board": board["reads"], "baseline": base["reads"]},
        "lag_us": {"board": board["lag_us"], "baseline": base["lag_us"],
                   "ratio_p50": _ratio(board["lag_us"]["p50"], base["lag_us"]["p50"]),
                   "ratio_p99": _ratio(board["lag_us"]["p99"], base["lag_us"]["p99"])},
        "handler_us": {"board": board["handler_us"], "baseline": base["handler_us"],
                       "ratio_p50": _ratio(board["handler_us"]["p50"], base["handler_us"]["p50"]),
                       "ratio_p99": _ratio(board["handler_us"]["p99"], base["handler_us"]["p99"])},
        "cpu": {"window_s": round(window, 2), **{f"{k}_s": v for k, v in cpu.items()},
                "machine_busy_pct": round(100 * busy / max(1, total), 1),
                "machine_steal_pct": round(100 * steal / max(1, total), 1),
                "other_processes_cpu_pct_of_core": round(100 * max(0.0, other) / window, 1),
                "ccplane_runqueue_wait_s": round(wait1["ccplane"] - wait0["ccplane"], 2),
                "baseline_runqueue_wait_s": round(wait1["baseline"] - wait0["baseline"], 2),
                "ccplane_pct_of_core": round(100 * cpu["ccplane"] / window, 1),
                "asterisk_pct_of_core": round(100 * cpu["asterisk"] / window, 1),
                "ccplane_pct_of_asterisk": round(100 * cpu["ccplane"] / ast, 1),
                "baseline_pct_of_asterisk": round(100 * cpu["baseline"] / ast, 1)},
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def print_phase(r: dict[str, Any]) -> None:
    lag, h, cpu = r["lag_us"], r["handler_us"], r["cpu"]
    b, base = lag["board"], lag["baseline"]
    lines = [
        f"N = {r['agents']} agents  (talk {r['talk_s']:.1f} s, offered {r['offered_rate']:g} calls/s "
        f"for {r['duration_s']:g} s, ramp {r['ramp_s']:g} s, in-flight cap {r['inflight_cap']})",
        f"  calls        offered {r['offered']}  completed {r['completed']}  abandoned {r['abandoned']}  "
        f"throttled {r['throttled']}  originate errors {r['originate_errors']}  lost {r['lost']}",
        f"  sustained    {r['sustained_cps']:.1f} completed calls/s over the steady {r['steady_window_s']:g} s "
        f"(per second {r['steady_min_per_s']}..{r['steady_max_per_s']}); max in flight {r['max_inflight']}"
        + ("   ** OVERLOADED **" if r["overloaded"] else ""),
        f"  AMI events   {r['ami_events']} ({r['events_per_call']} per completed call); "
        f"tracker ended {r['tracker']['calls_ended']} calls, left in call/ringing "
        f"{r['tracker']['left_in_call']}/{r['tracker']['left_ringing']}",
        f"  event lag    socket read -> effects done, {b['n']} board events",
        f"               {'':10}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>10}  (us)",
        f"               {'board':10}{b['p50']:>9}{b['p90']:>9}{b['p99']:>9}{b['max']:>10}",
        f"               {'baseline':10}{base['p50']:>9}{base['p90']:>9}{base['p99']:>9}{base['max']:>10}",
        f"               ratio board/baseline: p50 {lag['ratio_p50']}x  p99 {lag['ratio_p99']}x   "
        f"(handler only: p50 {h['board']['p50']}/{h['baseline']['p50']} us = {h['ratio_p50']}x, "
        f"p99 {h['board']['p99']}/{h['baseline']['p99']} us = {h['ratio_p99']}x)",
        f"  CPU          over {cpu['window_s']:g} s: ccplane tracker {cpu['ccplane_s']:.2f} s "
        f"({cpu['ccplane_pct_of_core']:g}% of a core), Asterisk {cpu['asterisk_s']:.2f} s "
        f"({cpu['asterisk_pct_of_core']:g}% of a core)",
        f"               ccplane = {cpu['ccplane_pct_of_asterisk']:g}% of Asterisk's CPU "
        f"(bare-receive baseline process: {cpu['baseline_pct_of_asterisk']:g}%; "
        f"load generator {cpu['generator_s']:.2f} s)",
    ]
    lines.append(f"               machine: {cpu['machine_busy_pct']:g}% busy, {cpu['machine_steal_pct']:g}% steal, "
                 f"other processes {cpu['other_processes_cpu_pct_of_core']:g}% of a core; "
                 f"run-queue wait: ccplane {cpu['ccplane_runqueue_wait_s']:g} s, "
                 f"baseline {cpu['baseline_runqueue_wait_s']:g} s")
    if not r["tracker_kept_up"]:
        d = r["ami_disconnects"]
        lines.append(f"  !! the tracker did NOT keep up: AMI link dropped {d['board']}x (baseline {d['baseline']}x), "
                     f"it saw {r['tracker']['calls_ended']} of {r['completed']} calls end; "
                     "lag figures cover only the events it received")
    print("\n".join(lines), flush=True)
    print(flush=True)


def print_summary(results: list[dict[str, Any]]) -> None:
    head = (f"{'N':>5} {'offered/s':>9} {'done/s':>7} {'lag p50 board/base us':>22} {'x':>5} "
            f"{'lag p99 board/base us':>22} {'x':>5} {'ccplane CPU % of Asterisk':>26}")
    print("summary")
    print(head)
    print("-" * len(head))
    for r in results:
        lag = r["lag_us"]
        p50 = f"{lag['board']['p50']:g}/{lag['baseline']['p50']:g}"
        p99 = f"{lag['board']['p99']:g}/{lag['baseline']['p99']:g}"
        print(f"{r['agents']:>5} {r['offered_rate']:>9g} {r['sustained_cps']:>7.1f} {p50:>22} "
              f"{lag['ratio_p50'] or 0:>5.2f} {p99:>22} {lag['ratio_p99'] or 0:>5.2f} "
              f"{r['cpu']['ccplane_pct_of_asterisk']:>25g}%" + ("  (overloaded)" if r["overloaded"] else "")
              + ("" if r["tracker_kept_up"] else "  (tracker fell behind)"))
    print(flush=True)


# --------------------------------------------------------------------------- main

async def bench(state: SandboxState, args: argparse.Namespace, specs: list[PhaseSpec]) -> dict[str, Any]:
    ami = AmiClient(state.ami_host, state.ami_port, state.ami_username, state.ami_secret,
                    action_timeout=10)
    gen = Generator(ami)
    await ami.start()
    await ami.wait_connected(15)
    creds = {"host": state.ami_host, "port": state.ami_port, "username": state.ami_username,
             "secret": state.ami_secret}
    children: list[Child] = []
    try:
        await ami.command("dialplan reload")
        await ami.command("module reload app_queue.so")
        shown = await ami.command(f"queue show {QUEUE}")
        if f"{QUEUE} has" not in shown:
            raise RuntimeError(f"queue {QUEUE} not loaded: {shown.strip()[:200]}")
        await gen.install_filter()
        tracker, baseline = Child("tracker", creds), Child("baseline", creds)
        children = [tracker, baseline]
        for child in children:
            hello = await child.recv(30)
            if not hello.get("ready"):
                raise RuntimeError(f"{child.role} process failed to start: {hello}")
        results = []
        for spec in specs:
            log(f"phase N={spec.agents}: {spec.rate:g} calls/s for {args.duration:g} s, talk {spec.talk:g} s")
            result = await run_phase(spec, args, ami, gen, tracker, baseline, state.pid or 0)
            print_phase(result)
            results.append(result)
        return {"bench": "queue_tracker", "asterisk_version": ami.asterisk_version,
                "cpus": os.cpu_count(), "strategy": args.strategy, "wrapup_s": args.wrapup,
                "lag_definition": "socket read that completed the AMI event -> AgentRuntime.on_event returned",
                "phases": results}
    finally:
        await hangup_all(ami)
        for child in children:
            child.close()
        logging.getLogger("ccplane.ami").setLevel(logging.ERROR)
        await ami.stop()


def parse_specs(text: str) -> list[PhaseSpec]:
    specs = []
    for part in text.split(","):
        bits = part.strip().split(":")
        if len(bits) not in (2, 3):
            raise argparse.ArgumentTypeError(f"phase {part!r}: use AGENTS:RATE[:TALK]")
        agents, rate = int(bits[0]), float(bits[1])
        talk = float(bits[2]) if len(bits) == 3 else 1.0
        if agents < 1 or rate <= 0 or talk < ANSWER_COST:
            raise argparse.ArgumentTypeError(f"phase {part!r}: agents >= 1, rate > 0, talk >= {ANSWER_COST}")
        specs.append(PhaseSpec(agents, rate, talk))
    return specs


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--phases", type=parse_specs, default=parse_specs(DEFAULT_PHASES),
                   help="comma-separated AGENTS:RATE[:TALK] (calls/s, seconds); "
                        f"default {DEFAULT_PHASES}")
    p.add_argument("--duration", type=float, default=15.0, help="seconds of offered load per phase (15)")
    p.add_argument("--ramp", type=float, default=2.0, help="seconds to ramp up to the full rate (2)")
    p.add_argument("--strategy", choices=("rrmemory", "leastrecent"), default="rrmemory")
    p.add_argument("--wrapup", type=int, default=0,
                   help="agents' wrap-up seconds in the tracker (0); >0 makes ccplane pause/unpause "
                        "members with QueuePause, as in production, and lowers capacity")
    p.add_argument("--keep-sandbox", action="store_true", help="leave the bench Asterisk running")
    args = p.parse_args()

    env = {**os.environ, **BENCH_ENV}
    settings = load_settings(env=env)
    sandbox = Sandbox(settings.sandbox, progress=log)
    state = sandbox.up()
    if not state.pid:
        log("the sandbox has no Asterisk pid")
        return 1
    try:
        cd = Path(state.config_dir) / "ccplane"
        (cd / "queues.conf").write_text(queues_conf(args.strategy))
        (cd / "extensions.conf").write_text(extensions_conf())
        started = time.monotonic()
        report = asyncio.run(bench(state, args, args.phases))
        report["runtime_s"] = round(time.monotonic() - started, 1)
        print_summary(report["phases"])
        print(json.dumps(report, separators=(",", ":")), flush=True)
    finally:
        if not args.keep_sandbox:
            sandbox.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
