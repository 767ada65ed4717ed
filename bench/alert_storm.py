#!/usr/bin/env python
"""Benchmark: alert storms (issue 17) against a real Asterisk, beside bare Originates.

A benchmark, not a test: it prints figures and asserts nothing. Two storms, each
run twice in the same process, first as a BASELINE (100 bare AMI Originates of
``Local/s@ccplane-alert-queue`` with the variables ccplane's AlertCaller sets),
(one QUEUE_PRIO per level, as ccplane placed them before issue 17), then through ccplane (100 concurrent ``POST /api/v1/app/{d}/alerts`` from 100
logged-in persons):

- ``reds``:  100 red alerts at once;
- ``mixed``: 50 yellow and 50 red, interleaved (y, r, y, r, ...).

The monitoring queue has 3 attendants (Local members that ring and never
answer; their device state pinned "not in use", as in bench/alert_latency.py)
and a 30 s ring timeout. Printed per storm: the last QueueCallerJoin after the
burst started (ccplane vs baseline, and the target 2x baseline + 100 ms), the
201 latency p50/p99, order violations within a level (pairs of alerts of one
level whose queue positions are not in arrival order, and the same for join
order), offers of a lower level made while a higher-level caller waited
(AgentCalled events), and alerts stored / linked to their call / audited (the
"created" audit row linked into the hash chain, and the chain verified). The
announcement storage (files under sounds/ccplane/alerts) is printed before and
after both storms.

Processes: this one runs ccplane's aiohttp app (on a TestServer, a real TCP
port), the baseline's Originates (on ccplane's own AMI connection) and an AMI
probe (its own connection); the storm's HTTP client runs in a separate process
(``storm_client``: its own event loop and aiohttp session), so the 100 requests
and their 201s are not parsed by the server's loop. Times are CLOCK_MONOTONIC,
which is one clock for every process of the machine: the burst start is taken
in the client process, the joins are the probe's receive times. Uses the
sandbox instance the environment names (CCPLANE_SANDBOX_*), a temporary SQLite
database, or a fresh database on a PostgreSQL server (--database-url), dropped
at the end. Run as root (the sandbox is a chroot), from the repository root::

    .venv/bin/python bench/alert_storm.py                       # about 1 minute
    .venv/bin/python bench/alert_storm.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.events import AmiEvent
from ccplane.asterisk.sandbox import Sandbox, SandboxState
from ccplane.settings import load_settings

ATTENDANT_CONTEXT = "alertstorm-attendants"
ATTENDANTS = 3
STORM = 100
MARK = "; --- appended by bench/alert_storm.py ---"
ALERT_CALLS = "/^Local\\/s@ccplane-alert-queue-/"


def log(msg: str) -> None:
    print(f"[alertstorm] {msg}", file=sys.stderr, flush=True)


def prepare_instance(state: SandboxState) -> None:
    """The attendants' context, in the instance's own extensions.conf (not etc/ccplane/,
    which ccplane re-renders)."""
    ext = Path(state.config_dir) / "extensions.conf"
    if MARK not in ext.read_text():
        with ext.open("a") as fh:
            fh.write(f"\n{MARK}\n[{ATTENDANT_CONTEXT}]\nexten => _X!,1,Ringing()\n same => n,Wait(3600)\n"
                     " same => n,Hangup()\n")


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def inversions(seq: list[int]) -> int:
    return sum(1 for i in range(len(seq)) for j in range(i + 1, len(seq)) if seq[i] > seq[j])


def storage(root: Path | None) -> tuple[int, int]:
    if root is None or not root.exists():
        return 0, 0
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def storm_client(conn: Any, base_url: str) -> None:
    """A separate process: fires the storms it is sent, with its own loop and aiohttp session."""
    asyncio.run(_storm_client(conn, base_url))


async def _storm_client(conn: Any, base_url: str) -> None:
    import aiohttp
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(base_url, connector=aiohttp.TCPConnector(limit=0)) as session:
        conn.send("ready")
        while True:
            msg = await loop.run_in_executor(None, conn.recv)
            if msg is None:
                return
            path, requests = msg  # [(token, level)]

            async def post(token: str, level: str, path: str = path) -> tuple[int, Any, float]:
                start = time.monotonic()
                async with session.post(path, json={"level": level, "location": None},
                                        headers={"Authorization": f"Bearer {token}"}) as resp:
                    body = await resp.json()
                    return resp.status, body, time.monotonic() - start
            t0 = time.monotonic()
            results = await asyncio.gather(*(post(tok, lv) for tok, lv in requests))
            conn.send((t0, time.monotonic() - t0, results))


class Probe:
    """Every queue event of the monitoring queue, with its receive time."""

    def __init__(self, state: SandboxState, queue: str) -> None:
        self.ami = AmiClient(state.ami_host, state.ami_port, state.ami_username, state.ami_secret,
                             action_timeout=15)
        self.queue = queue
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self.ami.on_event(self._on, names=("QueueCallerJoin", "QueueCallerLeave", "AgentCalled", "AgentRingNoAnswer"))

    def _on(self, event: AmiEvent) -> None:
        if event.fields.get("Queue") == self.queue:
            self.events.append((time.monotonic(), event.name, dict(event.fields)))

    def joins(self, since: float) -> dict[str, float]:
        first: dict[str, float] = {}
        for t, name, f in self.events:
            if name == "QueueCallerJoin" and t >= since:
                first.setdefault(str(f["Uniqueid"]), t)
        return first


class Bench:
    def __init__(self, settings: Any, state: SandboxState) -> None:
        self.settings, self.state = settings, state

    async def api(self, method: str, path: str, body: Any = None, token: str | None = None,
                  status: int = 200) -> Any:
        resp = await self.client.request(method, "/api/v1" + path, json=body,
                                         headers={"Authorization": f"Bearer {token or self.root}"})
        out = await resp.json()
        if resp.status != status:
            raise RuntimeError(f"{method} {path} -> {resp.status} {out}")
        return out

    async def setup(self) -> None:
        from aiohttp.test_utils import TestClient, TestServer

        from ccplane.app import create_app
        from ccplane.features.persons.domain import cpf_check_digits
        from ccplane.web.keys import SERVICES

        self.app = create_app(self.settings)
        self.client = TestClient(TestServer(self.app))
        await self.client.start_server()
        self.services = self.app[SERVICES]
        await self.services.ami.wait_connected(30)
        await self.services.ami.command("dialplan reload")
        user, password = f"root-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
        await self.services.auth.create_root(user, password)
        resp = await self.client.post("/api/v1/auth/token", json={"username": user, "password": password})
        self.root = (await resp.json())["access_token"]
        self.slug = f"as{secrets.token_hex(3)}"
        await self.api("POST", "/domains", {"slug": self.slug, "name": "Alert storm"}, status=201)
        d = f"/domains/{self.slug}"
        await self.api("POST", d + "/queues", {"name": "monitor", "strategy": "ringall", "ring_timeout": 30,
                                               "retry": 1}, status=201)
        await self.api("PUT", d + "/alert-app", {"monitoring_queue": "monitor",
                                                 "ack_deadlines": {"red": 3600, "yellow": 3600}})
        self.queue = f"{self.slug}_monitor"
        self.tokens: list[str] = []
        log(f"creating {STORM} persons")
        for i in range(STORM):
            first9 = f"{secrets.randbelow(9 * 10**8) + 10**8}"
            cpf = first9 + cpf_check_digits(first9)
            await self.api("POST", d + "/monitored-persons", {"name": f"Pessoa {i}", "cpf": cpf,
                                                              "phone": str(11980000000 + i), "password": "pw-123456"},
                           status=201)
            resp = await self.client.post(f"/api/v1/app/{self.slug}/login", json={"cpf": cpf, "password": "pw-123456"})
            self.tokens.append((await resp.json())["access_token"])
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.client_proc = ctx.Process(target=storm_client, args=(child, f"http://{self.client.server.host}:{self.client.server.port}"),
                                       daemon=True)
        self.client_proc.start()
        if not await asyncio.get_running_loop().run_in_executor(None, self.conn.poll, 120):
            raise RuntimeError("the storm client process did not start")
        self.conn.recv()  # "ready"
        self.probe = Probe(self.state, self.queue)
        await self.probe.ami.start()
        await self.probe.ami.wait_connected(30)
        await self.services.alerts.caller.announcer.idle()

    async def members(self) -> None:
        """3 attendants, state pinned free (ccplane's resync removes members it does not know)."""
        ami = self.services.ami
        for i in range(ATTENDANTS):
            await ami.command(f"devstate change Custom:alertstorm-att{i} NOT_INUSE")
        items = await ami.action({"Action": "QueueStatus", "Queue": self.queue})
        present = {str(m.get("Location")) for m in items if m.get("Event") == "QueueMember"}
        for i in range(ATTENDANTS):
            iface = f"Local/{100 + i}@{ATTENDANT_CONTEXT}/n"
            if iface not in present:
                await ami.action({"Action": "QueueAdd", "Queue": self.queue, "Interface": iface,
                                  "MemberName": f"att{i}", "StateInterface": f"Custom:alertstorm-att{i}"})

    async def clear(self) -> None:
        """Hang up every alert call, close the alerts (the next storm is new alerts, not repeats)."""
        from sqlalchemy import update

        from ccplane.features.alerts.models import Alert
        ami = self.services.ami
        with contextlib.suppress(Exception):  # none up
            await ami.action({"Action": "Hangup", "Channel": ALERT_CALLS})
        for _ in range(100):
            items = await ami.action({"Action": "QueueStatus", "Queue": self.queue})
            if not any(e.get("Event") == "QueueEntry" for e in items):
                break
            await asyncio.sleep(0.1)
        async with self.services.sessions() as s:
            await s.execute(update(Alert).where(Alert.status == "new").values(status="closed", escalate_at=None))
            await s.commit()
        self.services.alerts._recent.clear()
        # the journeys of the calls just hung up, and the audit chain, written before the next storm
        # starts (each storm is measured on its own, not behind the previous one's clean-up)
        await asyncio.sleep(0.5)
        await self.services.calls.flush()
        await self.services.alerts.chain.flush()

    async def baseline(self, levels: list[str]) -> dict[str, Any]:
        from ccplane.features.alerts.domain import QUEUE_PRIORITY
        from ccplane.features.queues.domain import asterisk_queue_name
        await self.members()
        run = secrets.token_hex(3)
        ids = [f"base{run}{i:03d}-2" for i in range(len(levels))]
        t0 = time.monotonic()
        await asyncio.gather(*(self.services.ami.action({
            "Action": "Originate", "Channel": "Local/s@ccplane-alert-queue", "Context": "ccplane-alert-person",
            "Exten": "s", "Priority": "1", "Timeout": "3600000", "Async": "true",
            "CallerID": f'"Base {i}" <{11970000000 + i}>', "ChannelId": f"base{run}{i:03d}-1",
            "OtherChannelId": uid,
            "Variable": [f"__CCPLANE_ALERT={900000 + i}", f"__CCPLANE_DOMAIN={self.slug}",
                         f"__CCPLANE_PRIO={QUEUE_PRIORITY[level]}", "CCPLANE_PERSON_NUMBER=0",
                         f"__CCPLANE_ALERT_QUEUE={asterisk_queue_name(self.slug, 'monitor')}",
                         "__CCPLANE_ANNOUNCE="]}) for i, (uid, level) in enumerate(zip(ids, levels))))
        joins = await self.wait_joins(set(ids), t0)
        last = max(joins.values()) - t0 if len(joins) == len(ids) else None
        arrival = {uid: i for i, uid in enumerate(ids)}
        out = {"last_join_s": last, "joined": len(joins),
               **self.order(levels, arrival, joins, await self.positions())}
        await self.clear()
        return out

    async def ccplane(self, levels: list[str]) -> dict[str, Any]:
        from sqlalchemy import func, select

        from ccplane.features.alerts.audit import verify_domain_chain
        from ccplane.features.alerts.models import Alert, AlertAudit
        await self.members()
        cpu0 = time.process_time()
        self.conn.send((f"/api/v1/app/{self.slug}/alerts", list(zip(self.tokens, levels))))
        t0, burst_s, results = await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)
        server_cpu = time.process_time() - cpu0  # the server's process until the last 201 (with the probe)
        load = os.getloadavg()[0]
        refused = [(status, body) for status, body, _ in results if status != 201]
        if refused:
            raise RuntimeError(f"{len(refused)} alerts not 201: {refused[:3]}")
        ids = [int(body["id"]) for _, body, _ in results]
        lat = [seconds for _, _, seconds in results]

        async def calls() -> dict[int, str]:
            async with self.services.sessions() as s:
                rows = (await s.execute(select(Alert.id, Alert.call_id).where(Alert.id.in_(ids)))).all()
            return {i: c for i, c in rows if c}
        deadline = time.monotonic() + 20
        linked = await calls()
        while len(linked) < len(ids) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            linked = await calls()
        by_call = {c: i for i, c in linked.items()}
        joins = await self.wait_joins(set(by_call), t0)
        last = max(joins.values()) - t0 if len(joins) == len(ids) else None
        # arrival order = alert id order (ids are taken in arrival order)
        arrival = {c: rank for rank, (_, c) in enumerate(sorted(linked.items()))}
        level_of = dict(zip(ids, levels))
        out = {"last_join_s": last, "joined": len(joins), "burst_s": burst_s, "server_cpu_ms": 1000 * server_cpu,
               "loadavg_1m": load,
               "p50_201_ms": 1000 * (pct(lat, 0.5) or 0), "p99_201_ms": 1000 * (pct(lat, 0.99) or 0),
               **self.order([level_of[by_call[c]] for c in sorted(arrival, key=arrival.get)],  # type: ignore[arg-type]
                            arrival, joins, await self.positions()),
               "lower_offers_while_higher_waits": self.lower_offers(t0, {c: level_of[i] for c, i in by_call.items()})}
        await self.services.alerts.chain.flush()
        async with self.services.sessions() as s:
            out["stored"] = await s.scalar(select(func.count()).select_from(Alert).where(Alert.id.in_(ids)))
            out["linked"] = len(linked)
            out["audited"] = await s.scalar(select(func.count()).select_from(AlertAudit).where(
                AlertAudit.alert_id.in_(ids), AlertAudit.action == "created", AlertAudit.seq.is_not(None)))
        ok, message = await verify_domain_chain(self.services.sessions, self.slug)
        out["chain"] = "ok" if ok else message
        await self.clear()
        return out

    async def wait_joins(self, uids: set[str], t0: float, timeout: float = 20) -> dict[str, float]:
        deadline = time.monotonic() + timeout
        while True:
            joins = {u: t for u, t in self.probe.joins(t0).items() if u in uids}
            if len(joins) == len(uids) or time.monotonic() > deadline:
                return joins
            await asyncio.sleep(0.02)

    async def positions(self) -> list[str]:
        items = await self.services.ami.action({"Action": "QueueStatus", "Queue": self.queue})
        entries = [e for e in items if e.get("Event") == "QueueEntry"]
        return [str(e["Uniqueid"]) for e in sorted(entries, key=lambda e: int(e["Position"]))]

    @staticmethod
    def order(levels: list[str], arrival: dict[str, int], joins: dict[str, float],
              positions: list[str]) -> dict[str, Any]:
        """Pairs of one level out of arrival order: in the queue's positions, and in join order."""
        level = {uid: levels[rank] for uid, rank in arrival.items()}
        by_pos = {lv: [arrival[u] for u in positions if level.get(u) == lv] for lv in set(levels)}
        by_join = {lv: [arrival[u] for u in sorted(joins, key=joins.get)  # type: ignore[arg-type]
                        if level.get(u) == lv] for lv in set(levels)}
        cross = sum(1 for i, u in enumerate(positions) for v in positions[i + 1:]
                    if level.get(u) == "yellow" and level.get(v) == "red")
        return {"position_order_violations": sum(inversions(v) for v in by_pos.values()),
                "join_order_violations": sum(inversions(v) for v in by_join.values()),
                "yellow_ahead_of_red_pairs": cross, "waiting_at_end": len(positions)}

    def lower_offers(self, t0: float, level_of: dict[str, str]) -> tuple[int, float | None]:
        """AgentCalled for a caller while a caller of a higher level waited (joined, not left):
        how many, and the longest such ring (AgentCalled to that member leg's AgentRingNoAnswer,
        which a withdrawal causes; None if one never ended)."""
        rank = {"yellow": 1, "red": 2}
        waiting: dict[str, int] = {}
        bad = 0
        rings: dict[str, float] = {}  # member uniqueid of a lower offer -> when it started
        longest: float | None = 0.0
        for t, name, f in self.probe.events:
            if name == "AgentRingNoAnswer" and str(f.get("DestUniqueid")) in rings:
                longest = max(longest or 0.0, t - rings.pop(str(f.get("DestUniqueid"))))
                continue
            uid = str(f.get("Uniqueid"))
            if t < t0 or uid not in level_of:
                continue
            if name == "QueueCallerJoin":
                waiting[uid] = rank[level_of[uid]]
            elif name == "QueueCallerLeave":
                waiting.pop(uid, None)
            elif name == "AgentCalled" and any(lv > rank[level_of[uid]] for u, lv in waiting.items() if u != uid):
                bad += 1
                rings[str(f.get("DestUniqueid"))] = t
        return bad, (None if rings else longest)


def print_storm(name: str, base: dict[str, Any], cc: dict[str, Any]) -> None:
    target = 2 * (base["last_join_s"] or 0) + 0.1
    print(f"\n== storm: {name} ({STORM} alerts) ==")
    print(f"last join after burst start   ccplane {cc['last_join_s']!s:.6} s   baseline {base['last_join_s']!s:.6} s"
          f"   ratio {cc['last_join_s'] / base['last_join_s'] if cc['last_join_s'] and base['last_join_s'] else 0:.2f}"
          f"   target <= {target:.3f} s")
    print(f"joined                        ccplane {cc['joined']}   baseline {base['joined']}")
    print(f"201 latency                   p50 {cc['p50_201_ms']:.1f} ms   p99 {cc['p99_201_ms']:.1f} ms"
          f"   (last 201 {1000 * cc['burst_s']:.0f} ms after the burst started; target p99 <= 150 ms)")
    print(f"server CPU until the last 201   {cc['server_cpu_ms']:.0f} ms ({cc['server_cpu_ms'] / STORM:.2f} ms per alert)"
          f"   machine load (1 min) {cc['loadavg_1m']:.1f} on {os.cpu_count()} CPUs")
    for key in ("position_order_violations", "join_order_violations", "yellow_ahead_of_red_pairs"):
        print(f"{key:<30}ccplane {cc[key]}   baseline {base[key]}")
    count, longest = cc["lower_offers_while_higher_waits"]
    print(f"lower-level offers while a higher level waited: {count}" + (
        f"   (started by app_queue racing the higher join; longest ring before its withdrawal "
        f"{'never ended' if longest is None else f'{1000 * longest:.0f} ms'})" if count else ""))
    print(f"stored {cc['stored']}  linked {cc['linked']}  audited {cc['audited']}  chain {cc['chain']}")


async def run(settings: Any, state: SandboxState, profile: str = "") -> dict[str, Any]:
    bench = Bench(settings, state)
    await bench.setup()
    announcer = bench.services.alerts.caller.announcer
    report: dict[str, Any] = {"storage_before": storage(announcer.root)}
    try:
        storms = {"reds": ["red"] * STORM, "mixed": ["yellow", "red"] * (STORM // 2)}
        for name, levels in storms.items():
            base = await bench.baseline(levels)
            if profile:
                import cProfile
                prof = cProfile.Profile()
                prof.enable()
            cc = await bench.ccplane(levels)
            if profile:
                prof.disable()
                prof.dump_stats(f"{profile}.{name}")
            print_storm(name, base, cc)
            report[name] = {"baseline": base, "ccplane": cc}
        report["storage_after"] = storage(announcer.root)
        print(f"\nannouncement storage (files, bytes): before {report['storage_before']}"
              f"  after {report['storage_after']}")
    finally:
        bench.conn.send(None)
        bench.client_proc.join(10)
        await bench.probe.ami.stop()
        await bench.client.close()
    return report


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default="", help="a PostgreSQL server URL (postgresql+psycopg://...): "
                   "a fresh database is created there and dropped at the end (default: temporary SQLite)")
    p.add_argument("--profile", default="", help="write a cProfile of each ccplane storm to PROFILE.<storm>")
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    from alembic import command

    from ccplane.db.session import alembic_config
    tmp = Path(tempfile.mkdtemp(prefix="alertstorm-"))
    pg_db = ""
    url = f"sqlite+aiosqlite:///{tmp / 'ccplane.db'}"
    if args.database_url.startswith("postgresql"):
        import psycopg
        pg_db = f"alertstorm_{secrets.token_hex(4)}"
        with psycopg.connect(args.database_url.replace("+psycopg", "", 1), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_db}"')
        url = args.database_url.rsplit("/", 1)[0] + "/" + pg_db
    env = {k: v for k, v in os.environ.items() if k.startswith("CCPLANE_")}
    env.update({"CCPLANE_ASTERISK_TAKE_OVER": "1",  # a fresh database per run
                "CCPLANE_DATABASE_URL": url, "CCPLANE_AUTH_SECRET_KEY": secrets.token_hex(32),
                "CCPLANE_STORAGE_DIR": str(tmp / "storage"), "CCPLANE_LOG_FORMAT": "text"})
    settings = load_settings(env=env)
    try:
        state = Sandbox(settings.sandbox, progress=log).up()
        prepare_instance(state)
        command.upgrade(alembic_config(url), "head")
        report = asyncio.run(run(settings, state, args.profile))
        report["database"] = "postgresql" if pg_db else "sqlite"
        print(f"\ndatabase: {report['database']}")
        print(json.dumps(report, default=str))
    finally:
        if pg_db:
            import psycopg
            with psycopg.connect(args.database_url.replace("+psycopg", "", 1), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
