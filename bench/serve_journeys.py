#!/usr/bin/env python
"""Benchmark: the whole ``ccplane serve`` storing call journeys under queue load.

A benchmark, not a test: it prints figures and asserts nothing. It runs
``python -m ccplane serve`` as a real subprocess (tracker, board, journeys
written in batches to the database) against its own Asterisk 22 sandbox
instance, puts AGENTS Local-channel members into a queue ccplane rendered
(created through the API; the members are added with AMI QueueAdd, as they
are not ccplane agents: their journeys have no agent), and offers queue calls
at stepped rates (AMI Originate, generator of bench/queue_tracker.py). For each
step it prints

- offered / completed calls (completed = Asterisk's AgentComplete count),
  sustained completed calls/s over the steady part of the step;
- journeys stored (rows of ``calls`` with status ``ended`` added during the
  step) against Asterisk's own count of ended queue calls (AgentComplete +
  QueueCallerAbandon): journeys lost = expected - stored; left open = rows
  still ``active`` once every channel is gone;
- event lag p50/p99: ccplane's own figure (``GET /api/v1/health``
  ``ami_lag_ms``: socket read that completed an event -> its dispatch done,
  a histogram diffed over the step) against the bare AMI receiver of
  bench/queue_tracker.py (no-op handler, same events) in the same run, binned
  in the same histogram;
- CPU of ccplane serve as % of Asterisk's (and the bare receiver's), the
  machine's busy %;
- ``/health`` latency p50/p99 (polled every 100 ms during the step).

Then, under load at the middle rate, it kills ccplane with SIGKILL, restarts
it and prints the time until ``/health`` says ready again, calls dropped by
Asterisk (originated calls that did not end with AgentComplete), journeys
lost and journeys left open after things settle.

SQLite (temporary file) by default; ``--database-url postgresql+psycopg://...``
creates a fresh database there and drops it at the end. Run as root::

    .venv/bin/python bench/serve_journeys.py                    # about 2 min
    .venv/bin/python bench/serve_journeys.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import queue_tracker as qt  # noqa: E402  (the generator, baseline process and CPU helpers)

from ccplane.asterisk.ami import LagHistogram, lag_bucket  # noqa: E402
from ccplane.asterisk.sandbox import Sandbox, SandboxState  # noqa: E402
from ccplane.settings import load_settings  # noqa: E402

QUEUE_NAME = "bq"
CALLER_QUEUE_TIMEOUT = 10
BENCH_ENV = {
    "CCPLANE_SANDBOX_NAME": "jbench",
    "CCPLANE_SANDBOX_AMI_PORT": "5638",
    "CCPLANE_SANDBOX_HTTP_PORT": "8688",
    "CCPLANE_SANDBOX_SIP_PORT": "5660",
    "CCPLANE_SANDBOX_RTP_START": "15000",
    "CCPLANE_SANDBOX_RTP_END": "15499",
}
TARGETS = "targets: keep up at >= 110 calls/s, lag p99 <= 1.5x bare, CPU <= 15 % of Asterisk's, 0 journeys lost"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def extensions_conf(queue: str) -> str:
    # the sandbox's extensions.conf has `#tryinclude bench/extensions.conf`
    return f"""; written by bench/serve_journeys.py
[{qt.MEMBER_CONTEXT}]
exten => _X!,1,Answer()
 same => n,Wait(${{BENCH_WAIT}})
 same => n,Hangup()

; callers enter through ccplane's own queue entry, as routed calls do: its
; hangup handler leaves each call's end in the outbox (calls ending while
; ccplane is down are recovered from it) and Queue() returns with an exit report
[{qt.CALLER_CONTEXT}]
exten => _X!,1,Goto(ccplane-queues,{queue},1)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct_ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50": 0.0, "p99": 0.0}
    s = sorted(values)
    return {"n": len(s), "p50": round(s[len(s) // 2], 2), "p99": round(s[min(len(s) - 1, int(0.99 * len(s)))], 2)}


class Journeys:
    """Counts rows in ``calls`` straight from the database (not through ccplane)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def counts(self) -> dict[str, int]:
        sql = "SELECT status, COUNT(*) FROM calls GROUP BY status"
        if self.url.startswith("sqlite"):
            with contextlib.closing(sqlite3.connect(self.url.split("///", 1)[1], timeout=10)) as c:
                rows = c.execute(sql).fetchall()
        else:
            import psycopg
            with psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://", 1)) as c:
                rows = c.execute(sql).fetchall()
        return {str(k): int(v) for k, v in rows}


class Serve:
    """One ``ccplane serve`` subprocess."""

    def __init__(self, env: dict[str, str], port: int, logfile: Path) -> None:
        self.env, self.port, self.logfile = env, port, logfile
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.logfile.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "ccplane", "serve", "--host", "127.0.0.1",
                                      "--port", str(self.port)], env=self.env, stdout=out, stderr=out)
        out.close()

    def kill9(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


class Bench:
    def __init__(self, args: argparse.Namespace, env: dict[str, str], state: SandboxState, tmp: Path,
                 database_url: str) -> None:
        self.args, self.env, self.state, self.tmp = args, env, state, tmp
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.serve = Serve(env, self.port, tmp / "serve.log")
        self.db = Journeys(database_url)
        self.http: aiohttp.ClientSession | None = None
        self.token = ""
        self.queue = ""
        self.readds = 0

    async def health(self) -> tuple[float, dict[str, Any] | None]:
        assert self.http is not None
        t = time.perf_counter()
        try:
            async with self.http.get(self.base + "/health", timeout=aiohttp.ClientTimeout(total=5)) as r:
                body = await r.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return (time.perf_counter() - t) * 1000, None
        return (time.perf_counter() - t) * 1000, body

    async def wait_ready(self, timeout: float) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            _, body = await self.health()
            if body and body.get("ready"):
                return time.monotonic() - t0
            await asyncio.sleep(0.05)
        raise TimeoutError(f"ccplane not ready within {timeout:.0f} s (see {self.serve.logfile})")

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        assert self.http is not None
        async with self.http.request(method, self.base + path, json=body,
                                     headers={"Authorization": f"Bearer {self.token}"}) as r:
            data = await r.json()
            if r.status >= 300:
                raise RuntimeError(f"{method} {path}: {r.status} {data}")
            return data

    async def setup(self, ami: qt.AmiClient) -> None:
        user, password = f"root-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
        subprocess.run([sys.executable, "-m", "ccplane", "user", "create", "--root", user, "--password-stdin"],
                       input=password.encode(), env=self.env, check=True, capture_output=True)
        self.http = aiohttp.ClientSession()
        self.serve.start()
        await self.wait_ready(60)
        async with self.http.post(self.base + "/auth/token", json={"username": user, "password": password}) as r:
            self.token = (await r.json())["access_token"]
        slug = f"jb{secrets.token_hex(3)}"
        await self.api("POST", "/domains", {"slug": slug, "name": "Journey bench"})
        await self.api("POST", f"/domains/{slug}/queues", {"name": QUEUE_NAME, "strategy": "rrmemory",
                                                           "ring_timeout": 5, "retry": 1,
                                                           "max_wait": CALLER_QUEUE_TIMEOUT})
        self.queue = f"{slug}_{QUEUE_NAME}"
        (Path(self.state.config_dir) / "bench").mkdir(exist_ok=True)
        (Path(self.state.config_dir) / "bench" / "extensions.conf").write_text(extensions_conf(self.queue))
        deadline = time.monotonic() + 20
        while f"{self.queue} has" not in await ami.command(f"queue show {self.queue}"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"ccplane did not render queue {self.queue}")
            await asyncio.sleep(0.2)
        await ami.command("dialplan reload")  # ccplane's render may have reloaded before our file existed
        await ami.action({"Action": "Setvar", "Variable": "BENCH_WAIT",
                          "Value": f"{max(0.0, self.args.talk - qt.ANSWER_COST):.3f}"})
        await self.add_members(ami)

    async def add_members(self, ami: qt.AmiClient) -> int:
        present = {str(m.get("Location") or m.get("Interface"))
                   for m in await ami.action({"Action": "QueueStatus", "Queue": self.queue}, timeout=15)
                   if m.get("Event") == "QueueMember"}
        missing = [i for i in range(self.args.agents) if qt.member_interface(i) not in present]
        for start in range(0, len(missing), 50):
            await asyncio.gather(*(ami.action({
                "Action": "QueueAdd", "Queue": self.queue, "Interface": qt.member_interface(i),
                "MemberName": f"member{i}", "StateInterface": qt.member_interface(i), "Penalty": "0",
                "Paused": "false"}) for i in missing[start:start + 50]), return_exceptions=True)
        return len(missing)

    def on_member_removed(self, ami: qt.AmiClient, tasks: set[asyncio.Task[Any]]) -> Any:
        """ccplane's resync removes members of its queues that are no ccplane agents
        (our Local members): put them straight back, counted."""
        def handler(ev: Any) -> None:
            if ev.fields.get("Queue") != self.queue:
                return
            self.readds += 1
            iface = str(ev.fields.get("Interface") or ev.fields.get("Location") or "")
            task = asyncio.ensure_future(ami.action({
                "Action": "QueueAdd", "Queue": self.queue, "Interface": iface, "MemberName": "readded",
                "StateInterface": iface, "Penalty": "0", "Paused": "false"}))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return handler

    async def step(self, name: str, rate: float, ami: qt.AmiClient, gen: qt.Generator, baseline: qt.Child,
                   kill_at: float | None = None) -> dict[str, Any]:
        args = self.args
        await qt.hangup_all(ami)
        await qt.wait_idle(ami, 5)
        await self.settle(10)
        before = self.db.counts()
        _, h0 = await self.health()
        lag0 = (h0 or {}).get("ami_lag_ms", {}).get("counts") or [0] * len(LagHistogram().counts)
        await baseline.ask({"op": "phase", "agents": 0, "wrapup": 0})
        gen.reset()
        cap = args.agents + max(20, args.agents // 2)
        duration, ramp = args.duration, min(args.ramp, args.duration / 2)
        asterisk_pid = self.state.pid or 0
        cpu0 = {"ccplane": qt.cpu_seconds(self.serve.pid), "baseline": qt.cpu_seconds(baseline.pid),
                "asterisk": qt.cpu_seconds(asterisk_pid)}
        machine0 = qt.machine_ticks()
        health_ms: list[float] = []
        stop = asyncio.Event()

        async def poll() -> None:
            while not stop.is_set():
                ms, body = await self.health()
                if body is not None:
                    health_ms.append(ms)
                await asyncio.sleep(0.1)
        poller = asyncio.create_task(poll())
        t0 = time.monotonic()
        offered = throttled = 0
        killed: dict[str, Any] = {}
        ccplane_cpu_dead = 0.0
        while (t := time.monotonic() - t0) < duration:
            due = rate * (t * t / (2 * ramp) if t < ramp else t - ramp / 2)
            while offered + throttled < int(due):
                if len(gen.inflight) >= cap:
                    throttled += 1
                else:
                    gen.originate()
                    offered += 1
            if kill_at is not None and not killed and t >= kill_at:
                ccplane_cpu_dead = qt.cpu_seconds(self.serve.pid) - cpu0["ccplane"]
                log(f"{name}: kill -9 ccplane (pid {self.serve.pid}) at t={t:.1f} s, {len(gen.inflight)} calls up")
                self.serve.kill9()
                killed = {"at_s": round(t, 1), "calls_up": len(gen.inflight)}
                k0 = time.monotonic()
                self.serve.start()
                cpu0["ccplane"] = qt.cpu_seconds(self.serve.pid)
                asyncio.create_task(self._ready_after(k0, killed))
            gen.sweep(CALLER_QUEUE_TIMEOUT + args.talk + 20)
            await asyncio.sleep(0.005)
        t1 = time.monotonic()
        cpu1 = {"ccplane": qt.cpu_seconds(self.serve.pid), "baseline": qt.cpu_seconds(baseline.pid),
                "asterisk": qt.cpu_seconds(asterisk_pid)}
        machine1 = qt.machine_ticks()
        stop.set()
        await poller
        drain_deadline = time.monotonic() + args.talk + CALLER_QUEUE_TIMEOUT + 5
        while gen.inflight and time.monotonic() < drain_deadline:
            await asyncio.sleep(0.05)
        if killed:
            while "ready_after_s" not in killed and time.monotonic() < drain_deadline + 30:
                await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        base = await baseline.ask({"op": "stop"})
        channels_left = await qt.wait_idle(ami, 5)
        settled = await self.settle(15)
        after = self.db.counts()
        _, h1 = await self.health()
        lag1 = (h1 or {}).get("ami_lag_ms", {}).get("counts") or lag0
        # after a restart the histogram starts again at zero: the new process's counts are the window's
        lag_counts = [b - a for a, b in zip(lag0, lag1)] if not killed else list(lag1)

        base_counts = [0] * len(lag_counts)
        base_hist = base["lag_us"]
        # the baseline child keeps raw percentiles (us); bin its p50/p99 into our histogram's edges
        b50 = LagHistogram.percentile(_one(base_counts, lag_bucket(base_hist["p50"] / 1000)), 1.0)
        b99 = LagHistogram.percentile(_one(base_counts, lag_bucket(base_hist["p99"] / 1000)), 1.0)
        c50, c99 = LagHistogram.percentile(lag_counts, 0.5), LagHistogram.percentile(lag_counts, 0.99)

        window = t1 - t0
        cpu = {k: cpu1[k] - cpu0[k] + (ccplane_cpu_dead if k == "ccplane" else 0.0) for k in cpu0}
        busy, steal, total = (b - a for a, b in zip(machine0, machine1))
        warm = ramp + args.talk + 0.5
        steady = [c for c in gen.completes if t0 + warm <= c < t1]
        sustained = len(steady) / max(0.001, t1 - (t0 + warm))
        completed, abandoned = len(gen.completes), gen.abandons
        expected = completed + abandoned
        stored = after.get("ended", 0) - before.get("ended", 0)
        ast = cpu["asterisk"] or 0.01
        out: dict[str, Any] = {
            "step": name, "rate": rate, "duration_s": duration, "offered": offered, "throttled": throttled,
            "completed": completed, "abandoned": abandoned, "originate_errors": gen.originate_errors,
            "generator_lost": gen.lost, "channels_left": channels_left,
            "dropped_by_asterisk": offered - completed,
            "sustained_cps": round(sustained, 1),
            "journeys": {"expected": expected, "stored": stored, "lost": expected - stored,
                         "left_open": after.get("active", 0), "settled": settled},
            "lag_ms": {"ccplane": {"p50": c50, "p99": c99, "n": sum(lag_counts)},
                       "bare": {"p50": b50, "p99": b99, "n": base_hist["n"],
                                "raw_p50": round(base_hist["p50"] / 1000, 3),
                                "raw_p99": round(base_hist["p99"] / 1000, 3)},
                       "ratio_p99": round(c99 / b99, 2) if b99 else None},
            "cpu": {"window_s": round(window, 1), "ccplane_s": round(cpu["ccplane"], 2),
                    "asterisk_s": round(cpu["asterisk"], 2), "bare_s": round(cpu["baseline"], 2),
                    "ccplane_pct_of_asterisk": round(100 * cpu["ccplane"] / ast, 1),
                    "bare_pct_of_asterisk": round(100 * cpu["baseline"] / ast, 1),
                    "machine_busy_pct": round(100 * busy / max(1, total), 1),
                    "machine_steal_pct": round(100 * steal / max(1, total), 1)},
            "health_ms": pct_ms(health_ms),
            "members_readded": self.readds,
        }
        if killed:
            out["kill"] = killed
        return out

    async def _ready_after(self, k0: float, killed: dict[str, Any]) -> None:
        try:
            await self.wait_ready(60)
            killed["ready_after_s"] = round(time.monotonic() - k0, 2)
        except TimeoutError:
            killed["ready_after_s"] = None

    async def settle(self, timeout: float) -> bool:
        """Until ccplane has no call up and nothing pending to write."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, body = await self.health()
            j = (body or {}).get("journeys") or {}
            if body and body.get("ready") and j.get("active") == 0 and j.get("pending") == 0:
                return True
            await asyncio.sleep(0.2)
        return False

    async def close(self) -> None:
        self.serve.stop()
        if self.http is not None:
            await self.http.close()


def _one(counts: list[int], index: int) -> list[int]:
    c = list(counts)
    c[index] += 1
    return c


def print_step(r: dict[str, Any]) -> None:
    j, lag, cpu, h = r["journeys"], r["lag_ms"], r["cpu"], r["health_ms"]
    lines = [
        f"{r['step']}: offered {r['rate']:g} calls/s for {r['duration_s']:g} s",
        f"  calls       offered {r['offered']}  completed {r['completed']}  abandoned {r['abandoned']}  "
        f"throttled {r['throttled']}  originate errors {r['originate_errors']}  sustained {r['sustained_cps']} calls/s",
        f"  journeys    Asterisk ended {j['expected']} queue calls; stored {j['stored']}  lost {j['lost']}  "
        f"left open {j['left_open']}  (no agent: Local members are no ccplane agents)",
        f"  event lag   ccplane p50 {lag['ccplane']['p50']} p99 {lag['ccplane']['p99']} ms (n {lag['ccplane']['n']})  "
        f"bare p50 {lag['bare']['p50']} p99 {lag['bare']['p99']} ms (raw {lag['bare']['raw_p50']}/"
        f"{lag['bare']['raw_p99']})  p99 ratio {lag['ratio_p99']}x",
        f"  CPU         ccplane {cpu['ccplane_s']} s = {cpu['ccplane_pct_of_asterisk']} % of Asterisk's "
        f"({cpu['asterisk_s']} s); bare receiver {cpu['bare_pct_of_asterisk']} %; machine {cpu['machine_busy_pct']} % "
        f"busy, {cpu['machine_steal_pct']} % steal over {cpu['window_s']} s",
        f"  /health     p50 {h['p50']} ms  p99 {h['p99']} ms  (n {h['n']})",
    ]
    if "kill" in r:
        k = r["kill"]
        lines.append(f"  kill -9     at {k['at_s']} s with {k['calls_up']} calls up; ready again after "
                     f"{k.get('ready_after_s')} s; calls dropped by Asterisk {r['dropped_by_asterisk']} (target 0); "
                     f"journeys lost {j['lost']}, left open {j['left_open']} (targets 0); "
                     f"members re-added after ccplane's resync removed them: {r['members_readded']}")
    print("\n".join(lines), flush=True)
    print(flush=True)


async def run(args: argparse.Namespace, env: dict[str, str], state: SandboxState, tmp: Path,
              database_url: str) -> dict[str, Any]:
    ami = qt.AmiClient(state.ami_host, state.ami_port, state.ami_username, state.ami_secret, action_timeout=15)
    gen = qt.Generator(ami)
    bench = Bench(args, env, state, tmp, database_url)
    tasks: set[asyncio.Task[Any]] = set()
    ami.on_event(bench.on_member_removed(ami, tasks), names=("QueueMemberRemoved",))
    await ami.start()
    await ami.wait_connected(15)
    baseline: qt.Child | None = None
    try:
        await gen.install_filter()
        await ami.action({"Action": "Filter", "Operation": "Add", "Filter": "^Event: QueueMemberRemoved\r"})
        await bench.setup(ami)
        creds = {"host": state.ami_host, "port": state.ami_port, "username": state.ami_username,
                 "secret": state.ami_secret}
        baseline = qt.Child("baseline", creds)
        hello = await baseline.recv(30)
        if not hello.get("ready"):
            raise RuntimeError(f"baseline failed: {hello}")
        results = []
        for rate in args.rates:
            log(f"step {rate:g} calls/s for {args.duration:g} s")
            r = await bench.step(f"rate {rate:g}", rate, ami, gen, baseline)
            print_step(r)
            results.append(r)
        if not args.no_kill:
            rate = args.rates[len(args.rates) // 2]
            log(f"kill step at {rate:g} calls/s")
            r = await bench.step(f"kill -9 at {rate:g} calls/s", rate, ami, gen, baseline,
                                 kill_at=args.duration / 3)
            print_step(r)
            results.append(r)
        return {"bench": "serve_journeys", "asterisk_version": ami.asterisk_version, "cpus": os.cpu_count(),
                "agents": args.agents, "talk_s": args.talk, "steps": results}
    finally:
        await qt.hangup_all(ami)
        if baseline is not None:
            baseline.close()
        await bench.close()
        logging.getLogger("ccplane.ami").setLevel(logging.ERROR)
        await ami.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")], default=[30.0, 60.0, 110.0],
                   help="comma-separated calls/s, one step each (30,60,110)")
    p.add_argument("--duration", type=float, default=15.0, help="seconds of load per step (15)")
    p.add_argument("--ramp", type=float, default=2.0, help="seconds to ramp up to each rate (2)")
    p.add_argument("--agents", type=int, default=300, help="Local-channel members (300)")
    p.add_argument("--talk", type=float, default=1.5, help="talk seconds per call (1.5)")
    p.add_argument("--no-kill", action="store_true", help="skip the kill -9 step")
    p.add_argument("--sandbox-from-env", action="store_true",
                   help="use the caller's CCPLANE_SANDBOX_* instead of the bench's own instance")
    p.add_argument("--keep-sandbox", action="store_true")
    p.add_argument("--database-url", default="",
                   help="a PostgreSQL server URL (postgresql+psycopg://user@host:port/db): a fresh database "
                        "is created there and dropped at the end (default: temporary SQLite)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    logging.basicConfig(level=logging.WARNING, format="[ccplane] %(levelname)s %(name)s %(message)s")

    tmp = Path(tempfile.mkdtemp(prefix="journeybench-"))
    sandbox_env = {k: v for k, v in os.environ.items() if k.startswith("CCPLANE_SANDBOX_")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCPLANE_")}
    env.update(sandbox_env if args.sandbox_from_env else BENCH_ENV)
    pg_db = ""
    database_url = f"sqlite+aiosqlite:///{tmp / 'ccplane.db'}"
    if args.database_url.startswith("postgresql"):
        import psycopg
        pg_db = f"journeybench_{secrets.token_hex(4)}"
        with psycopg.connect(_pg_plain(args.database_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_db}"')
        database_url = args.database_url.rsplit("/", 1)[0] + "/" + pg_db
    elif args.database_url:
        log("--database-url must be a postgresql+psycopg:// URL")
        return 2
    env.update({"CCPLANE_ASTERISK_TAKE_OVER": "1",  # a fresh database per run
                "CCPLANE_DATABASE_URL": database_url, "CCPLANE_AUTH_SECRET_KEY": secrets.token_hex(32),
                "CCPLANE_STORAGE_DIR": str(tmp / "storage"), "CCPLANE_LOG_LEVEL": "WARNING"})
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
            started = time.monotonic()
            report = asyncio.run(run(args, env, state, tmp, database_url))
            report["runtime_s"] = round(time.monotonic() - started, 1)
            report["database"] = database_url.split("+", 1)[0].split(":", 1)[0]
            print(f"database: {report['database']}; {args.agents} Local members, talk {args.talk:g} s")
            print(TARGETS)
            for r in report["steps"]:
                print(f"  {r['step']:<24} {r['sustained_cps']:>6} calls/s  lost {r['journeys']['lost']:>4}  "
                      f"open {r['journeys']['left_open']:>3}  lag p99 {r['lag_ms']['ccplane']['p99']}/"
                      f"{r['lag_ms']['bare']['p99']} ms ({r['lag_ms']['ratio_p99']}x)  CPU "
                      f"{r['cpu']['ccplane_pct_of_asterisk']} % of Asterisk  busy {r['cpu']['machine_busy_pct']} %")
            print(json.dumps(report, separators=(",", ":")), flush=True)
        finally:
            if not args.keep_sandbox:
                (Path(state.config_dir) / "bench" / "extensions.conf").unlink(missing_ok=True)
                sandbox.down()
    finally:
        if os.environ.get("BENCH_KEEP_TMP"):
            log(f"kept {tmp}")
        else:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
        if pg_db:
            import psycopg
            with psycopg.connect(_pg_plain(args.database_url), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
    return 0


def _pg_plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


if __name__ == "__main__":
    sys.exit(main())
