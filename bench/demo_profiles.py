#!/usr/bin/env python
"""Benchmark: the demo's traffic generator, each profile, checked against ccplane.

For each profile (``steady``, ``spike``, ``alert-storm``) it runs ``ccplane demo``
(a subprocess: ccplane serving, simulated agents on baresip phones, the generator
placing real calls from the carrier sandbox into the demo's DIDs and posting
alerts through the app API) for a short fixed duration and seed, on a fresh
SQLite database (a fresh demo domain), then prints, side by side, what the
generator says it did (its JSON report) and what ccplane recorded (journeys,
``reports/quantitative`` restricted to the demo's DIDs, ``alerts?level=``), with
the difference and the ratio ccplane/generator; and ccplane's CPU per call, with
Asterisk's CPU per call measured over the same window as the baseline, and the
answer latency (the journeys' queue wait of answered calls) p50/p95.

It exits 1 when a record does not match (a figure ccplane/generator differs).

The demo process holds ccplane *and* the generator and the agents' controllers
(the phones are baresip subprocesses): its CPU is an upper bound of ccplane's.

Both sandboxes (``<sandbox name>-bd`` and its carrier, ports 900 above the
configured sandbox's) are started first and stopped at the end. Run it under the
shared benchmark lock::

    flock /tmp/bench.lock python bench/demo_profiles.py
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from ccplane.asterisk.sandbox import Sandbox
from ccplane.demo.baresip import free_port
from ccplane.demo.carrier import start_carrier
from ccplane.demo.client import Api
from ccplane.demo.provision import DID_IVR, DID_SUPPORT, DOMAIN
from ccplane.demo.runner import carrier_settings
from ccplane.settings import load_settings

LEVELS = ("green", "yellow", "red")
CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK


def iso(value: str, shift: float) -> str:
    return (datetime.fromisoformat(value) + timedelta(seconds=shift)).isoformat()


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


@dataclass
class Row:
    what: str
    generator: int
    ccplane: int

    def line(self, profile: str) -> str:
        ratio = f"{self.ccplane / self.generator:.2f}" if self.generator else ("1.00" if not self.ccplane else "inf")
        mark = "ok" if self.generator == self.ccplane else "MISMATCH"
        return (f"{profile:<12} {self.what:<28} generator {self.generator:>5}  ccplane {self.ccplane:>5}  "
                f"diff {self.ccplane - self.generator:+d}  ratio {ratio}  {mark}")


def env_for(base_env: dict[str, str], main: Any) -> dict[str, str]:
    env = {k: v for k, v in base_env.items() if not k.startswith("CCPLANE_")}
    env.update({"CCPLANE_SANDBOX_NAME": main.name, "CCPLANE_SANDBOX_AMI_PORT": str(main.ami_port),
                "CCPLANE_SANDBOX_HTTP_PORT": str(main.http_port), "CCPLANE_SANDBOX_SIP_PORT": str(main.sip_port),
                "CCPLANE_SANDBOX_RTP_START": str(main.rtp_start), "CCPLANE_SANDBOX_RTP_END": str(main.rtp_end),
                "CCPLANE_ASTERISK_TAKE_OVER": "1", "CCPLANE_LOG_FORMAT": "text",
                "CCPLANE_AUTH_SECRET_KEY": secrets.token_hex(32), "PYTHONUNBUFFERED": "1"})
    if "CCPLANE_SANDBOX_DIR" in base_env:
        env["CCPLANE_SANDBOX_DIR"] = base_env["CCPLANE_SANDBOX_DIR"]
    return env


async def records(root: Api, report: dict[str, Any]) -> tuple[list[Row], list[float]]:
    """ccplane's figures beside the generator's, and the answered calls' queue waits."""
    d = f"/domains/{DOMAIN}"
    window = urlencode({"from": iso(report["started_at"], -1), "to": iso(report["ended_at"], 1)})
    period = window + "&short_abandon=0&" + urlencode({"dids": f"{DID_IVR},{DID_SUPPORT}"})
    calls = report["calls"]

    async def journeys() -> list[dict[str, Any]]:
        items = (await root.ok("GET", f"{d}/calls?status=ended&limit=500&{window}"))["items"]
        return [j for j in items if j["did"] in (DID_IVR, DID_SUPPORT)]
    ours = await journeys()
    for _ in range(40):  # the journey writer commits about once a second
        if len(ours) >= calls["placed"]:
            break
        await asyncio.sleep(0.25)
        ours = await journeys()
    qn = (await root.ok("GET", f"{d}/reports/quantitative?{period}"))["items"]
    q = qn[0] if qn else {"total": 0, "answered": 0, "abandoned": 0, "overflowed": 0, "transferred": 0}
    answered_by = {j["caller"]: j["agent"] for j in ours if j["answered_at"]}
    same_agent = sum(1 for n, a in report["answered_by"].items() if answered_by.get(n) == a)
    rows = [Row("calls placed / journeys", calls["placed"], len(ours)),
            Row("calls placed / report total", calls["placed"], q["total"]),
            Row("answered", calls["answered"], q["answered"]),
            Row("answered by the same agent", calls["answered"], same_agent),
            Row("abandoned", calls["abandoned"], q["abandoned"]),
            Row("callback requests/overflowed", calls["callback_requests"], q["overflowed"]),
            Row("transfers accepted", report["transfers"]["accepted"], q["transferred"])]
    for level in LEVELS:
        got = await root.ok("GET", f"{d}/alerts?level={level}&limit=1&{window}")
        rows.append(Row(f"alerts {level}", report["alerts"][level], got["total"]))
    rows.append(Row("alert posts (new + repeated)", sum(report["alert_posts"].values()),
                    sum(r.ccplane for r in rows[-3:]) + report["alerts_repeated"]))
    waits = [float(j["wait_time"]) for j in ours if j["answered_at"] and j.get("wait_time") is not None]
    return rows, waits


async def run_profile(args: argparse.Namespace, profile: str, duration: float, env: dict[str, str],
                      pids: dict[str, int | None], work: Path) -> tuple[list[Row], dict[str, Any]]:
    port = free_port()
    report_path, creds_path = work / f"{profile}.json", work / f"{profile}-creds.json"
    err_path = work / f"{profile}.stderr"
    env = {**env, "CCPLANE_DATABASE_URL": f"sqlite+aiosqlite:///{work / (profile + '.db')}"}
    cmd = [sys.executable, "-m", "ccplane", "demo", "--profile", profile, "--duration", str(duration),
           "--seed", str(args.seed), "--rate", str(args.rate), "--agents", str(args.agents), "--port", str(port),
           "--report", str(report_path), "--credentials", str(creds_path)]
    with open(err_path, "wb") as err, open(work / f"{profile}.stdout", "wb") as out:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while "logins (user / password)" not in err_path.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{profile}: the demo did not start:\n{err_path.read_text()[-3000:]}")
            await asyncio.sleep(0.1)
        cpu0 = {name: cpu_seconds(pid) for name, pid in {**pids, "demo": proc.pid}.items()}
        t0 = time.monotonic()
        deadline = time.monotonic() + duration + 90
        while not report_path.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{profile}: no report:\n{err_path.read_text()[-3000:]}")
            await asyncio.sleep(0.1)
        wall = time.monotonic() - t0
        cpu = {name: cpu_seconds(pid) - cpu0[name] for name, pid in {**pids, "demo": proc.pid}.items()}
        report = json.loads(report_path.read_text())
        creds = json.loads(creds_path.read_text())
        async with aiohttp.ClientSession() as session:
            root = await Api(session, f"http://127.0.0.1:{port}").login("demo-root", creds["demo-root"])
            rows, waits = await records(root, report)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    placed = max(report["calls"]["placed"], 1)
    return rows, {"wall": wall, "cpu": cpu, "placed": report["calls"]["placed"], "per_call": {
        k: v / placed for k, v in cpu.items()}, "wait_p50": pct(waits, 0.5), "wait_p95": pct(waits, 0.95),
        "answered": len(waits), "still_up": report["calls"]["still_up"], "failures": report["failures"]}


def secs(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", default="steady,spike,alert-storm")
    parser.add_argument("--duration", type=float, default=40.0, help="seconds of traffic per profile")
    parser.add_argument("--rate", type=float, default=24.0, help="calls per minute (the profile shapes it)")
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    base = load_settings().sandbox
    # ports 900 above the configured sandbox's (its carrier: 1600), RTP 7000 above (carrier: 12000):
    # clear of the test instances' (tests/support/sandboxes.py) and of a demo's carrier (+700)
    main_sb = dataclasses.replace(base, name=(base.name + "-bd")[:20], ami_port=base.ami_port + 900,
                                  http_port=base.http_port + 900, sip_port=base.sip_port + 900,
                                  rtp_start=base.rtp_start + 7000, rtp_end=base.rtp_start + 7499)
    quiet = lambda _m: None  # noqa: E731
    main_box = Sandbox(main_sb, progress=quiet)
    main_state = main_box.up()
    carrier_box, carrier_state = start_carrier(carrier_settings(main_sb), progress=quiet)
    pids = {"asterisk": main_state.pid, "carrier": carrier_state.pid}
    env = env_for(dict(os.environ), main_sb)
    print(f"demo profiles: {args.duration:.0f} s of traffic each, rate {args.rate:g}/min, {args.agents} agents, "
          f"seed {args.seed}; sandboxes {main_sb.name} and its carrier; SQLite, a fresh demo domain per profile",
          flush=True)
    bad = 0
    results: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="ccplane-demo-bench-") as tmp:
            for profile in args.profiles.split(","):
                rows, fig = await run_profile(args, profile, args.duration, env, pids, Path(tmp))
                results[profile] = fig
                for row in rows:
                    print(row.line(profile), flush=True)
                    bad += row.generator != row.ccplane
                bad += fig["still_up"] != 0 or fig["failures"] != 0
                pc = fig["per_call"]
                ratio = pc["demo"] / pc["asterisk"] if pc["asterisk"] else float("nan")
                print(f"{profile:<12} CPU per call placed: demo process (ccplane + generator + agents) "
                      f"{pc['demo'] * 1000:.0f} ms, ccplane's Asterisk {pc['asterisk'] * 1000:.0f} ms "
                      f"(demo/Asterisk {ratio:.2f}x), carrier {pc['carrier'] * 1000:.0f} ms; over {fig['wall']:.0f} s, "
                      f"demo {100 * fig['cpu']['demo'] / fig['wall']:.0f} % of a core", flush=True)
                print(f"{profile:<12} answer latency (queue wait of the {fig['answered']} answered calls): "
                      f"p50 {secs(fig['wait_p50'])}, p95 {secs(fig['wait_p95'])}; still up {fig['still_up']}, "
                      f"failures {fig['failures']}", flush=True)
    finally:
        carrier_box.down()
        main_box.down()
    steady = results.get("steady")
    if steady and steady["per_call"]["demo"]:
        for profile, fig in results.items():
            print(f"ratio to steady  {profile:<12} demo CPU per call "
                  f"{fig['per_call']['demo'] / steady['per_call']['demo']:.2f}x", flush=True)
    print("records match" if not bad else f"{bad} MISMATCH(ES)", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
