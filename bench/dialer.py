#!/usr/bin/env python
"""Benchmark: the dialer's progressive pacing under load, on real Asterisks.

A benchmark, not a test: it prints figures and asserts nothing. In one process
it runs ccplane (``create_app``: the campaign API, the pacer, the dialplan it
renders, the reports of the calls) against its own Asterisk sandbox instance,
with a second instance as the carrier (the customers): each contact rings for a
random 1-3 s (``--answer-min/--answer-max``), answers, talks ``--talk`` seconds
and hangs up. The agents are ``--agents`` Local-channel members of the
campaign's queue (``Local/<n>@bench-agents/n``, AMI QueueAdd; they answer at
once). They are not ccplane agents, so the pacer reads their free count from
the queue's member events (AgentCalled/AgentConnect/AgentComplete/
QueueMemberStatus) instead of the agent board: the pacing rule, the dialplan,
the reports and the database are ccplane's own.

Printed:
- calls placed per minute (first dial to the campaign's end) beside the
  theoretical best, agents x 60 / talk (every agent always talking), and
  their ratio;
- agent idle time between calls (a member's AgentComplete to its next
  AgentConnect): p50, p90, max;
- calls in flight, sampled every 100 ms from Asterisk's channel list (distinct
  linkedids of the campaign's calls): max, beside the bound (agents);

Run as root from the repository root::

    .venv/bin/python bench/dialer.py                 # 200 contacts, 10 agents, about 2-3 min
    .venv/bin/python bench/dialer.py --contacts 50 --agents 5 --talk 2
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ccplane.asterisk.events import AmiEvent  # noqa: E402
from ccplane.asterisk.sandbox import Sandbox  # noqa: E402
from ccplane.settings import load_settings  # noqa: E402

OFFSET = int(os.environ.get("CCPLANE_TEST_PORT_OFFSET", "0") or 0)
SUFFIX = os.environ.get("CCPLANE_TEST_SANDBOX_SUFFIX", "")


def instance(name: str, ami: int, http: int, sip: int, rtp: int) -> dict[str, str]:
    return {"CCPLANE_SANDBOX_NAME": name + SUFFIX, "CCPLANE_SANDBOX_AMI_PORT": str(ami + OFFSET),
            "CCPLANE_SANDBOX_HTTP_PORT": str(http + OFFSET), "CCPLANE_SANDBOX_SIP_PORT": str(sip + OFFSET),
            "CCPLANE_SANDBOX_RTP_START": str(rtp + OFFSET), "CCPLANE_SANDBOX_RTP_END": str(rtp + 499 + OFFSET)}


MAIN = instance("dbench", 5738, 8788, 5760, 16000)
CUSTOMERS = instance("dbcarrier", 5739, 8789, 5761, 16500)

CARRIER_PJSIP = """[customer]
type=endpoint
context=carrier-in
disallow=all
allow=ulaw,alaw
direct_media=no

[customer]
type=identify
endpoint=customer
match=127.0.0.1
"""


def carrier_dialplan(answer_min: float, answer_max: float, talk: float) -> str:
    # The sandbox has no func_rand (RAND() is empty): the last digit of the channel's
    # uniqueid (a sequence number) spreads the ring time over ten steps instead.
    lo, hi = int(answer_min * 1000), int(answer_max * 1000)
    step = (hi - lo) // 9
    return f"""[carrier-in]
exten => _X.,1,UserEvent(CarrierCall,Number: ${{EXTEN}})
 same => n,Ringing()
 same => n,Set(DELAY=$[{lo} + ${{UNIQUEID:-1}} * {step} + 1000])
 same => n,Wait($[${{DELAY:0:-3}} - 1].${{DELAY:-3}})
 same => n,Answer()
 same => n,Wait({talk})
 same => n,Hangup()
"""


AGENTS_DIALPLAN = """; written by bench/dialer.py
[bench-agents]
exten => _X!,1,Answer()
 same => n,Wait(3600)
 same => n,Hangup()
"""


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class MemberSeats:
    """Free Local members of one queue, from Asterisk's member events (the
    bench's stand-in for the agent board: same question, same answer)."""

    def __init__(self, queue: str, members: list[str]) -> None:
        self.queue = queue
        self.busy: dict[str, str] = {}  # interface -> ringing | in_call
        self.members = set(members)
        self.connects: list[tuple[float, str]] = []
        self.completes: list[tuple[float, str]] = []
        self.wake = lambda: None

    def free_agents(self, slug: str, queue: str) -> int:
        return len(self.members) - len(self.busy)

    def __call__(self, e: AmiEvent) -> None:
        if e.fields.get("Queue") != self.queue:
            return
        iface = str(e.fields.get("Interface") or e.fields.get("MemberName") or "")
        now = time.monotonic()
        if e.name == "AgentCalled":
            self.busy[iface] = "ringing"
        elif e.name == "AgentConnect":
            self.busy[iface] = "in_call"
            self.connects.append((now, iface))
        elif e.name in ("AgentRingNoAnswer", "AgentDump"):
            self.busy.pop(iface, None)
            self.wake()
        elif e.name == "AgentComplete":
            self.busy.pop(iface, None)
            self.completes.append((now, iface))
            self.wake()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from ccplane.app import create_app
    from ccplane.web.keys import SERVICES
    from alembic import command
    from ccplane.db.session import alembic_config

    log("starting the two sandbox instances (ccplane's and the customers')")
    main_box = Sandbox(load_settings(env=MAIN).sandbox, progress=log)
    main = main_box.up()
    cust_box = Sandbox(load_settings(env=CUSTOMERS).sandbox, progress=log)
    cust = cust_box.up()
    etc = Path(cust.config_dir) / "ccplane"
    (etc / "pjsip.conf").write_text(CARRIER_PJSIP)
    (etc / "extensions.conf").write_text(carrier_dialplan(args.answer_min, args.answer_max, args.talk))
    cust_box.cli("module reload res_pjsip.so")
    cust_box.cli("dialplan reload")
    (Path(main.config_dir) / "bench").mkdir(exist_ok=True)
    (Path(main.config_dir) / "bench" / "extensions.conf").write_text(AGENTS_DIALPLAN)

    tmp = tempfile.mkdtemp(prefix="dialer-bench-")
    url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")  # env.py runs its own loop
    env = {**{k: v for k, v in os.environ.items() if k.startswith("CCPLANE_") and not k.startswith("CCPLANE_TEST")},
           **MAIN, "CCPLANE_DATABASE_URL": url, "CCPLANE_AUTH_SECRET_KEY": secrets.token_hex(32),
           "CCPLANE_ASTERISK_TAKE_OVER": "1", "CCPLANE_STORAGE_DIR": tmp, "CCPLANE_LOG_LEVEL": "WARNING"}
    settings = load_settings(env=env)
    app = create_app(settings)
    services = app[SERVICES]
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}/api/v1"
    http = aiohttp.ClientSession()
    result: dict[str, Any] = {}
    try:
        await services.ami.wait_connected(20)
        user, password = f"root-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
        await services.auth.create_root(user, password)
        async with http.post(base + "/auth/token", json={"username": user, "password": password}) as r:
            token = (await r.json())["access_token"]
        auth = {"Authorization": f"Bearer {token}"}

        async def api(method: str, path: str, body: Any = None) -> Any:
            async with http.request(method, base + path, json=body, headers=auth) as r:
                data = await r.json()
                if r.status >= 300:
                    raise RuntimeError(f"{method} {path}: {r.status} {data}")
                return data
        slug = f"db{secrets.token_hex(3)}"
        await api("POST", "/domains", {"slug": slug, "name": "Dialer bench"})
        await api("POST", f"/domains/{slug}/queues", {"name": "ativo", "strategy": "rrmemory", "ring_timeout": 5,
                                                       "retry": 1})
        await api("POST", f"/domains/{slug}/trunks", {"name": "carrier", "host": "127.0.0.1",
                                                       "port": cust.sip_port, "caller_id": "1140040000"})
        await api("POST", f"/domains/{slug}/outbound-routes",
                  {"name": "brasil", "patterns": ["_XXXXXXXXXX", "_XXXXXXXXXXX"], "trunks": ["carrier"],
                   "strip": 0, "prefix": ""})
        queue = f"{slug}_ativo"
        await services.ami.command("dialplan reload")  # our bench/extensions.conf, whatever ccplane rendered first
        members = [f"Local/{7000 + i}@bench-agents/n" for i in range(args.agents)]
        seats = MemberSeats(queue, members)
        seats.wake = services.dialer.wake
        services.dialer.seats = seats
        marks: dict[tuple[str, int], float] = {}
        publish = services.dialer.publish

        def timed(slug_: str, kind: str, data: dict[str, Any]) -> None:
            contact = data.get("contact")
            cid = contact["id"] if isinstance(contact, dict) else contact
            marks.setdefault((kind, int(cid or 0)), time.monotonic())
            publish(slug_, kind, data)
        services.dialer.publish = timed
        services.ami.on_event(seats, names=("AgentCalled", "AgentConnect", "AgentComplete", "AgentRingNoAnswer",
                                            "AgentDump"))

        async def add_members() -> None:
            for m in members:
                try:
                    await services.ami.action({"Action": "QueueAdd", "Queue": queue, "Interface": m,
                                               "MemberName": m, "Penalty": "0", "Paused": "false"})
                except Exception:  # noqa: BLE001 - already a member
                    pass
        await add_members()
        camp = await api("POST", f"/domains/{slug}/campaigns",
                         {"name": "bench", "queue": "ativo", "max_attempts": 1,
                          "calling_hours": {d: [["00:00", "24:00"]] for d in
                                            ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
        numbers = sorted({"119" + str(secrets.randbelow(10**8)).zfill(8) for _ in range(args.contacts * 2)})
        await api("POST", f"/domains/{slug}/campaigns/{camp['id']}/contacts",
                  [{"number": n} for n in numbers[:args.contacts]])
        prefix = f"cp{camp['id']}x"
        samples: list[int] = []

        async def sample() -> None:
            while True:
                channels = await services.ami.action({"Action": "CoreShowChannels"})
                calls = {str(c.get("Linkedid")) for c in channels if str(c.get("Linkedid", "")).startswith(prefix)}
                samples.append(len(calls))
                await asyncio.sleep(0.1)
        sampler = asyncio.create_task(sample())
        log(f"campaign of {args.contacts} contacts, {args.agents} agents, talk {args.talk}s, "
            f"answer after {args.answer_min}-{args.answer_max}s")
        t0 = time.monotonic()
        await api("POST", f"/domains/{slug}/campaigns/{camp['id']}/start")
        last_log = t0
        while True:
            c = await api("GET", f"/domains/{slug}/campaigns/{camp['id']}")
            if c["status"] == "finished":
                break
            if time.monotonic() - last_log > 10:
                last_log = time.monotonic()
                log(f"{time.monotonic() - t0:5.0f}s progress {c['progress']}")
            if time.monotonic() - t0 > args.timeout:
                log("timed out")
                break
            await asyncio.sleep(0.5)
        elapsed = time.monotonic() - t0
        sampler.cancel()
        idle: list[float] = []
        by_member: dict[str, list[tuple[float, str]]] = {}
        for t, m in seats.completes:
            by_member.setdefault(m, []).append((t, "end"))
        for t, m in seats.connects:
            by_member.setdefault(m, []).append((t, "start"))
        talks: list[float] = []
        for events_ in by_member.values():
            events_.sort()
            for (t1, k1), (t2, k2) in zip(events_, events_[1:]):
                if k1 == "end" and k2 == "start":
                    idle.append(t2 - t1)
                elif k1 == "start" and k2 == "end":
                    talks.append(t2 - t1)
        placed = services.dialer.placed
        answer_delays = [marks[("campaign.answered", c)] - t for (k, c), t in marks.items()
                         if k == "campaign.dialing" and ("campaign.answered", c) in marks]
        result = {
            "contacts": args.contacts, "agents": args.agents, "talk_s": args.talk,
            "answer_delay_s": [args.answer_min, args.answer_max], "elapsed_s": round(elapsed, 1),
            "progress": c["progress"], "calls_placed": placed,
            "calls_per_min": round(placed / elapsed * 60, 1),
            "best_calls_per_min_agents_x_talk": round(args.agents * 60 / args.talk, 1),
            "agent_idle_s": {"p50": round(pct(idle, 50), 2), "p90": round(pct(idle, 90), 2),
                             "max": round(max(idle, default=0.0), 2), "n": len(idle)},
            "agent_talk_s": {"p50": round(pct(talks, 50), 2), "n": len(talks)},
            "answer_delay_measured_s": {"p50": round(pct(answer_delays, 50), 2),
                                        "p90": round(pct(answer_delays, 90), 2), "n": len(answer_delays)},
            "in_flight_max": max(samples, default=0), "in_flight_bound": args.agents,
            "samples": len(samples),
        }
    finally:
        await http.close()
        await runner.cleanup()
        if not args.keep_sandbox:
            main_box.down()
            cust_box.down()
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--contacts", type=int, default=200)
    p.add_argument("--agents", type=int, default=10)
    p.add_argument("--talk", type=float, default=3.0)
    p.add_argument("--answer-min", type=float, default=1.0)
    p.add_argument("--answer-max", type=float, default=3.0)
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--database-url", default="")
    p.add_argument("--keep-sandbox", action="store_true")
    args = p.parse_args()
    r = asyncio.run(run(args))
    if r:
        best = r["best_calls_per_min_agents_x_talk"]
        print(f"calls placed/min   {r['calls_per_min']:>8}   theoretical best (agents x 60/talk) {best}  "
              f"ratio {r['calls_per_min'] / best:.2f}")
        # a progressive dialler's agent also waits while its customer's phone rings
        cycle = r["agent_talk_s"]["p50"] + r["answer_delay_measured_s"]["p50"]
        if cycle > 0:
            progressive = r["agents"] * 60 / cycle
            print(f"                              progressive best (agents x 60/(talk + ring), measured) "
                  f"{progressive:.1f}  ratio {r['calls_per_min'] / progressive:.2f}")
        print(f"agent idle (s)     p50 {r['agent_idle_s']['p50']}  p90 {r['agent_idle_s']['p90']}  "
              f"max {r['agent_idle_s']['max']}  (mean answer delay {sum(r['answer_delay_s']) / 2}; "
              f"agent talk p50 {r['agent_talk_s']['p50']} s; dial -> answered p50 "
              f"{r['answer_delay_measured_s']['p50']} s)")
        print(f"in flight          max {r['in_flight_max']} of bound {r['in_flight_bound']} ({r['samples']} samples)")
        print(json.dumps(r))


if __name__ == "__main__":
    main()
