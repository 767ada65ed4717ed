#!/usr/bin/env python
"""Benchmark: /health latency while 16 clients flood the login with wrong passwords.

A benchmark, not a test: it prints figures and asserts nothing. It runs the real
app (``create_app``, a temporary SQLite database, the Asterisk sandbox the
``CCPLANE_SANDBOX_*`` variables name — start it first) on a local port, then
measures ``GET /api/v1/health`` latency from a separate *probe* process:

1. **idle** — nothing else running: the baseline of this run;
2. **flood, throttled** — a *flood* process keeps 16 wrong logins in flight
   (one account each, from one address): what a guesser gets by default;
3. **flood, unthrottled** — the same with the login throttle's allowances
   raised out of reach, so every login costs an argon2 verification: what the
   hashing pool alone does for the event loop;
4. **flood, hashing on the loop** — as 3, with argon2 run inline on the event
   loop as before issue 9: the figure the pool is there to avoid.

Each phase prints p50/p99 (ms) and their ratios against the idle baseline of
the same run, and logins answered per second. About 45 s in all::

    .venv/bin/python bench/login_flood.py [--seconds 8] [--concurrency 16]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from alembic import command

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccplane.app import create_app  # noqa: E402
from ccplane.db.session import alembic_config  # noqa: E402
from ccplane.features.auth import passwords  # noqa: E402
from ccplane.settings import load_settings  # noqa: E402
from ccplane.web.keys import SERVICES  # noqa: E402


def _probe(url: str, seconds: float, out: Any) -> None:
    async def run() -> list[float]:
        samples: list[float] = []
        async with aiohttp.ClientSession() as http:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                t0 = time.perf_counter()
                async with http.get(url + "/api/v1/health") as resp:
                    await resp.read()
                samples.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.02)
        return samples
    out.put(asyncio.run(run()))


def _flood(url: str, concurrency: int, seconds: float, out: Any) -> None:
    async def run() -> dict[str, int]:
        counts: dict[str, int] = {}
        async with aiohttp.ClientSession() as http:
            end = time.monotonic() + seconds

            async def worker(i: int) -> None:
                while time.monotonic() < end:
                    async with http.post(url + "/api/v1/auth/token",
                                         json={"username": f"victim-{i}", "password": "wrong"}) as resp:
                        await resp.read()
                        counts[str(resp.status)] = counts.get(str(resp.status), 0) + 1
            await asyncio.gather(*(worker(i) for i in range(concurrency)))
        return counts
    out.put(asyncio.run(run()))


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _phase(ctx: Any, url: str, seconds: float, concurrency: int | None) -> dict[str, Any]:
    q: Any = ctx.Queue()
    procs = [ctx.Process(target=_probe, args=(url, seconds, q))]
    if concurrency:
        procs.append(ctx.Process(target=_flood, args=(url, concurrency, seconds + 1, q)))
    for p in procs:
        p.start()
    results = [await asyncio.get_running_loop().run_in_executor(None, q.get) for _ in procs]
    for p in procs:
        p.join()
    samples = next(r for r in results if isinstance(r, list))
    counts = next((r for r in results if isinstance(r, dict)), {})
    return {"p50": statistics.median(samples), "p99": _pct(samples, 0.99), "n": len(samples),
            "logins": counts, "logins_per_s": round(sum(counts.values()) / (seconds + 1), 1)}


async def main(args: argparse.Namespace, tmp: Path, db: str) -> None:
    env = {k: v for k, v in os.environ.items() if k.startswith("CCPLANE_") and not k.startswith("CCPLANE_TEST_")}
    env.update({"CCPLANE_ASTERISK_TAKE_OVER": "1",  # a fresh database per run
                "CCPLANE_DATABASE_URL": db, "CCPLANE_AUTH_SECRET_KEY": secrets.token_hex(32),
                "CCPLANE_STORAGE_DIR": str(tmp / "storage"), "CCPLANE_LOG_LEVEL": "WARNING"})
    settings = load_settings(env=env)
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    await site.start()
    url = f"http://127.0.0.1:{args.port}"
    services = app[SERVICES]
    for _ in range(300):
        if services.ready:
            break
        await asyncio.sleep(0.1)
    ctx = mp.get_context("spawn")
    print(f"hashing pool: {passwords.WORKERS} worker(s), at most {passwords.MAX_PENDING} pending; "
          f"{args.concurrency} concurrent wrong logins, {args.seconds:.0f} s per phase")
    phases: dict[str, dict[str, Any]] = {}
    try:
        phases["idle"] = await _phase(ctx, url, args.seconds, None)
        phases["flood, throttled"] = await _phase(ctx, url, args.seconds, args.concurrency)
        throttle = services.auth.throttle
        throttle.account_free = throttle.address_free = 10**9
        throttle._records.clear()  # the waits phase 2 earned
        phases["flood, unthrottled (pool)"] = await _phase(ctx, url, args.seconds, args.concurrency)
        saved = passwords._run

        async def inline(fn: Any) -> Any:  # argon2 on the event loop, as before issue 9
            return fn()
        passwords._run = inline  # type: ignore[assignment]
        throttle._records.clear()
        try:
            phases["flood, hashing on the loop"] = await _phase(ctx, url, args.seconds, args.concurrency)
        finally:
            passwords._run = saved  # type: ignore[assignment]
    finally:
        await runner.cleanup()
    base = phases["idle"]
    print(f"{'phase':30} {'p50 ms':>8} {'p99 ms':>8} {'p50 x':>7} {'p99 x':>7} {'logins/s':>9}  statuses")
    for name, ph in phases.items():
        print(f"{name:30} {ph['p50']:8.2f} {ph['p99']:8.2f} {ph['p50'] / base['p50']:7.1f} "
              f"{ph['p99'] / base['p99']:7.1f} {ph['logins_per_s']:9.1f}  {ph['logins']}")
    print(json.dumps({"phases": phases}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=18791)
    tmp = Path(tempfile.mkdtemp(prefix="login-flood-"))
    db = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    command.upgrade(alembic_config(db), "head")  # runs its own event loop: before ours
    asyncio.run(main(parser.parse_args(), tmp, db))
