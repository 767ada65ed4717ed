"""Issue 14 acceptance: `ccplane demo` for 60 s at a fixed seed, in a subprocess
with its own database, sandbox instances (main and carrier) and port. ccplane's
journeys, reports and alerts must match what the traffic generator says it did;
the API shows agents in varied states during the run; Ctrl-C leaves no child and
no channel on either sandbox. A second, short run on the same database reuses
the demo domain (same users, the printed passwords still work, the first run's
journeys still there) and is stopped by Ctrl-C with calls in progress."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlencode

import aiohttp
import pytest

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.sandbox import Sandbox
from ccplane.demo.baresip import free_port
from ccplane.demo.carrier import start_carrier
from ccplane.demo.client import Api
from ccplane.demo.provision import DID_IVR, DID_SUPPORT, DOMAIN, SALES, SUPPORT
from ccplane.demo.runner import carrier_settings
from ccplane.settings import SandboxSettings, load_settings
from tests.support.sandboxes import instance_env
from tests.support.waiting import eventually

DEMO_SANDBOX = instance_env("demo", 5838, 8888, 5860, 16000, 16499)
SECONDS, SEED, RATE, AGENTS = 60, 7, 24, 4


@contextlib.contextmanager
def own_database(tmp_path: Path) -> Iterator[str]:
    """An empty database of the demo's own: SQLite in tmp_path, or a new one on the
    PostgreSQL server of CCPLANE_TEST_DATABASE_URL (dropped after)."""
    base = os.environ.get("CCPLANE_TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
        return
    import psycopg
    admin = base.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"ccplane_demo_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def children_of(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def iso(value: str, shift: float = 0) -> str:
    return (datetime.fromisoformat(value) + timedelta(seconds=shift)).isoformat()


def quiet(_message: str) -> None:
    pass


@pytest.fixture
def demo_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCPLANE_")}
    env.update(DEMO_SANDBOX)
    env.update({"CCPLANE_ASTERISK_TAKE_OVER": "1", "CCPLANE_LOG_FORMAT": "text",
                "CCPLANE_AUTH_SECRET_KEY": secrets.token_hex(32), "PYTHONUNBUFFERED": "1"})
    main = load_settings(env=env).sandbox
    # both sandboxes up before the demo (scripts/run.sh starts the main one too): a demo keeps
    # running what it did not start, so after its Ctrl-C the test asks both for channels left
    try:
        Sandbox(main, progress=quiet).up()
        start_carrier(carrier_settings(main), progress=quiet)
        yield env
    finally:
        for settings in (main, carrier_settings(main)):
            Sandbox(settings, progress=quiet).down()


async def channels_on(settings: SandboxSettings) -> list[str]:
    """The channels a running sandbox instance has (AMI CoreShowChannels)."""
    state = Sandbox(settings, progress=quiet).load_state()
    assert state is not None and state.pid is not None and alive(state.pid), f"{settings.name} is not running"
    ami = AmiClient("127.0.0.1", state.ami_port, state.ami_username, state.ami_secret)
    await ami.start()
    try:
        await ami.wait_connected(10)
        items = await ami.action({"Action": "CoreShowChannels"})
    finally:
        await ami.stop()
    return [str(i.get("Channel")) for i in items if i.get("Event") == "CoreShowChannel"]


async def assert_no_channels(env: dict[str, str]) -> None:
    """Neither sandbox has a channel left (the demo hung every one up before it exited;
    Asterisk destroys a hung-up channel asynchronously, hence the short wait)."""
    main = load_settings(env=env).sandbox
    left: dict[str, list[str]] = {}

    async def none_left() -> bool:
        for settings in (main, carrier_settings(main)):
            left[settings.name] = await channels_on(settings)
        return not any(left.values())
    await eventually(none_left, timeout=5, interval=0.2, what="no channel on either sandbox",
                     details=lambda: repr(left))


LOGIN_LINE = re.compile(r"^\s+(?:root|admin|supervisor|agent)\s+(\S+) / (\S+)", re.M)


def printed_logins(stderr: str) -> dict[str, str]:
    """The logins (user: password) the demo's banner printed."""
    return dict(LOGIN_LINE.findall(stderr.split("logins (user / password)", 1)[1]))


async def demo_users(root: Api) -> dict[str, str]:
    """The demo domain's users: username -> created_at (a user created again would differ)."""
    items = (await root.ok("GET", f"/domains/{DOMAIN}/users?limit=500"))["items"]
    usernames = [u["username"] for u in items]
    assert len(usernames) == len(set(usernames)), usernames
    return {u["username"]: u["created_at"] for u in items}


async def test_demo_run_matches_ccplane_records(tmp_path: Path, demo_env: dict[str, str]) -> None:
    port = free_port()
    report_path, creds_path = tmp_path / "report.json", tmp_path / "creds.json"
    out, err = open(tmp_path / "stdout", "wb"), open(tmp_path / "stderr", "wb")
    with own_database(tmp_path) as url:
        env = {**demo_env, "CCPLANE_DATABASE_URL": url}
        cmd = [sys.executable, "-m", "ccplane", "demo", "--duration", str(SECONDS), "--seed", str(SEED),
               "--rate", str(RATE), "--agents", str(AGENTS), "--port", str(port), "--report", str(report_path),
               "--credentials", str(creds_path)]
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        started = time.monotonic()
        seen_children: set[int] = set()

        def log_tail() -> str:
            return (tmp_path / "stderr").read_text(errors="replace")[-4000:]
        try:
            async with aiohttp.ClientSession() as session:
                base = f"http://127.0.0.1:{port}"

                async def banner() -> bool:
                    assert proc.poll() is None, f"the demo exited ({proc.returncode}):\n{log_tail()}"
                    return "logins (user / password)" in (tmp_path / "stderr").read_text(errors="replace")
                await eventually(banner, timeout=60, interval=0.5, what="the demo's banner", details=log_tail)
                creds = json.loads(creds_path.read_text())
                root = await Api(session, base).login("demo-root", creds["demo-root"])

                # during the run: agents through the API, in varied states
                states: dict[str, set[str]] = {}
                while not report_path.exists():
                    assert proc.poll() is None, f"the demo exited ({proc.returncode}):\n{log_tail()}"
                    assert time.monotonic() - started < 130, f"no report after 130 s:\n{log_tail()}"
                    seen_children |= children_of(proc.pid)
                    for agent in (await root.ok("GET", f"/domains/{DOMAIN}/agents"))["items"]:
                        states.setdefault(agent["username"], set()).add(agent["state"])
                    await asyncio.sleep(0.5)  # the sampling period of the agents' states
                logged_in = [u for u, s in states.items() if s - {"offline", "inactive"}]
                assert len(logged_in) >= 3, states
                assert len(set().union(*states.values()) - {"offline", "inactive"}) >= 3, states
                report = json.loads(report_path.read_text())
                await check_records(root, report)
                users = await demo_users(root)
        finally:
            seen_children |= children_of(proc.pid)
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # Ctrl-C
            try:
                code = proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise AssertionError(f"the demo ignored Ctrl-C for 30 s:\n{log_tail()}") from None
        assert code == 0, log_tail()
        assert seen_children, "the demo started no child (no phones, no sandbox?)"
        left = [pid for pid in seen_children if alive(pid)]
        assert not left, f"children left after Ctrl-C: {left}"
        assert time.monotonic() - started < 150
        await assert_no_channels(env)
        if url.startswith("sqlite"):  # left for inspection
            assert Path(url.split("///", 1)[1]).stat().st_size > 0, url
        first = printed_logins((tmp_path / "stderr").read_text(errors="replace"))
        assert first == {u: creds[u] for u in first} and len(first) == 3 + AGENTS + 2, first
        await second_run(tmp_path, env, port, creds_path, report, users, first)


async def second_run(tmp_path: Path, env: dict[str, str], port: int, creds_path: Path, report: dict[str, Any],
                     users: dict[str, str], logins: dict[str, str]) -> None:
    """The demo again on the same database and credentials file: it reuses the demo
    domain (no duplicate, the same users, the same printed passwords, which still log
    in), the first run's journeys are still there; Ctrl-C with calls in progress
    leaves no child and no channel on either sandbox."""
    cmd = [sys.executable, "-m", "ccplane", "demo", "--duration", "0", "--seed", str(SEED + 1),
           "--rate", "60", "--agents", str(AGENTS), "--port", str(port), "--credentials", str(creds_path)]
    err_path = tmp_path / "stderr2"
    with open(tmp_path / "stdout2", "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    seen_children: set[int] = set()

    def log_tail() -> str:
        return err_path.read_text(errors="replace")[-4000:]
    try:
        async with aiohttp.ClientSession() as session:
            base = f"http://127.0.0.1:{port}"

            async def banner() -> bool:
                assert proc.poll() is None, f"the second run exited ({proc.returncode}):\n{log_tail()}"
                return "logins (user / password)" in err_path.read_text(errors="replace")
            await eventually(banner, timeout=60, interval=0.5, what="the second run's banner", details=log_tail)
            again = printed_logins(err_path.read_text(errors="replace"))
            assert again == logins, (again, logins)
            for username, password in again.items():  # every printed password still logs in
                await Api(session, base).login(username, password)
            root = await Api(session, base).login("demo-root", again["demo-root"])
            assert await demo_users(root) == users
            window = urlencode({"from": iso(report["started_at"], -1), "to": iso(report["ended_at"], 1)})
            kept = (await root.ok("GET", f"/domains/{DOMAIN}/calls?status=ended&limit=500&{window}"))["items"]
            assert len([j for j in kept if j["did"] in (DID_IVR, DID_SUPPORT)]) == report["calls"]["placed"]

            async def talking() -> bool:  # a caller in conversation with an agent: Ctrl-C now
                seen_children.update(children_of(proc.pid))
                active = (await root.ok("GET", f"/domains/{DOMAIN}/calls"))["items"]
                return any(c["answered_at"] and c["agent"] for c in active)
            await eventually(talking, timeout=60, interval=0.2, what="a call answered in the second run",
                             details=log_tail)
    finally:
        seen_children |= children_of(proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError(f"the second run ignored Ctrl-C for 30 s:\n{log_tail()}") from None
    assert code == 0, log_tail()
    left = [pid for pid in seen_children if alive(pid)]
    assert seen_children and not left, (seen_children, left)
    await assert_no_channels(env)


async def check_records(root: Api, report: dict[str, Any]) -> None:
    calls, alerts = report["calls"], report["alerts"]
    assert calls["placed"] >= 10 and calls["answered"] >= 3, report
    assert calls["still_up"] == 0 and report["failures"] == 0, report
    assert all(alerts[level] >= 1 for level in ("green", "yellow", "red")), alerts
    window = urlencode({"from": iso(report["started_at"], -1), "to": iso(report["ended_at"], 1)})
    # the callbacks' own calls (outbound, no DID) are not calls the generator placed
    period = window + "&short_abandon=0&" + urlencode({"dids": f"{DID_IVR},{DID_SUPPORT}"})
    d = f"/domains/{DOMAIN}"

    # journeys: one per placed call, answered by the agent whose phone answered it
    # (the journey writer commits once a second: the last calls may land just after the report)
    async def journeys() -> list[dict[str, Any]]:
        items = (await root.ok("GET", f"{d}/calls?status=ended&limit=500&{window}"))["items"]
        return [j for j in items if j["did"] in (DID_IVR, DID_SUPPORT)]

    async def all_written() -> bool:
        return len(await journeys()) >= calls["placed"]
    await eventually(all_written, timeout=10, interval=0.5, what="a journey for every call placed")
    ours = await journeys()
    assert len(ours) == calls["placed"], (len(ours), calls)
    # (a transferred call's agent is the last one who answered it, the generator's too)
    answered = {j["caller"]: j["agent"] for j in ours if j["answered_at"]}
    assert answered == report["answered_by"], (answered, report["answered_by"])
    assert sum(1 for j in ours if not j["answered_at"]) == calls["abandoned"] + calls["callback_requests"]

    # transfers: a call with a transfer leg for each one the agents made and the API accepted,
    # ending in the queue it was transferred to
    transfers = report["transfers"]
    assert transfers["refused"] == 0, transfers
    with_transfer: dict[str, str | None] = {}
    for j in ours:
        legs = (await root.ok("GET", f"{d}/calls/{j['id']}"))["legs"]
        if any(leg["kind"] == "transfer" for leg in legs):
            with_transfer[j["caller"]] = j["queue"]
    assert with_transfer == transfers["to"], (with_transfer, transfers)
    assert sum(a["transfers"] for a in report["agents"].values()) == transfers["accepted"], report["agents"]

    # in-queue callbacks: one per caller who pressed the key and confirmed; ccplane ends the caller's
    # journey as an overflow of the queue to the callback (not an abandon, not answered)
    requests = sorted(report["callback_requests"])
    assert len(requests) == calls["callback_requests"], report

    async def listed() -> list[dict[str, Any]]:
        items = (await root.ok("GET", f"{d}/callbacks?limit=500"))["items"]
        return [c for c in items if c["kind"] == "in_queue"]
    await eventually(lambda: _count_at_least(listed, len(requests)), timeout=10, interval=0.5,
                     what="a callback for every request")
    got = await listed()
    assert sorted(c["number"] for c in got) == requests, (got, requests)
    # and the callbacks agents booked after a call ("call me back later"), for themselves
    assert report["callbacks_schedule_refused"] == 0, report
    booked = [c for c in (await root.ok("GET", f"{d}/callbacks?limit=500"))["items"] if c["kind"] == "scheduled"]
    assert sorted(c["number"] for c in booked) == report["callbacks_scheduled"], (booked, report)
    assert all(c["agent"] in report["agents"] and c["status"] == "scheduled" for c in booked), booked
    assert all(c["queue"] == SUPPORT for c in got), got
    assert sorted(j["caller"] for j in ours if j["ended_reason"] == "overflow") == requests, \
        [(j["caller"], j["ended_reason"]) for j in ours]

    # reports: per queue, what the generator's IVR choices led to
    by_queue = {r["queue"]: r for r in (await root.ok("GET", f"{d}/reports/listing?{period}"))["items"]}
    for queue in (SALES, SUPPORT):
        want = report["calls"]["by_queue"][queue]
        got = by_queue.get(queue, {"total": 0, "answered": 0, "abandoned": 0})
        assert (got["total"], got["answered"], got["abandoned"]) == \
            (want["placed"], want["answered"], want["abandoned"]), (queue, got, want)
    assert sum(r["transferred"] for r in by_queue.values()) == transfers["accepted"], by_queue
    qn = (await root.ok("GET", f"{d}/reports/quantitative?{period}"))["items"][0]
    assert qn["total"] == calls["placed"], qn
    assert qn["answered"] == calls["answered"], qn
    assert qn["transferred"] == transfers["accepted"], qn
    assert qn["overflowed"] == calls["callback_requests"], qn

    # alerts of each level, as posted through the app
    for level in ("green", "yellow", "red"):
        got = await root.ok("GET", f"{d}/alerts?level={level}&limit=500&{window}")
        assert got["total"] == alerts[level], (level, got["total"], alerts)


async def _count_at_least(items: Any, n: int) -> bool:
    return len(await items()) >= n
