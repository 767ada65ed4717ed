"""`ccplane demo`: the sandbox and a carrier sandbox up, the schema migrated,
ccplane serving in this process, the demo contact center provisioned through the
API, simulated agents on real SIP phones, the traffic generator. Ctrl-C/SIGTERM
stops what it started (by pid), hangs up both sandboxes' calls, keeps the database."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import json
import logging
import random
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import aiohttp

from ..asterisk.ami import AmiClient
from ..asterisk.sandbox import Sandbox, SandboxState
from ..errors import SettingsError
from ..settings import SandboxSettings, Settings
from .agents import SimAgent
from .carrier import start_carrier
from .client import Api
from .provision import (DID_IVR, DID_SUPPORT, DOMAIN, MONITORING, SALES, SUPPORT, Credentials, Layout,
                        provision)
from .traffic import Generator

log = logging.getLogger("ccplane.demo")
ROOT_USER = "demo-root"


@dataclass
class DemoOptions:
    rate: float = 10.0          # calls per minute
    agents: int = 5
    duration: float = 0.0       # seconds of traffic; 0 = until Ctrl-C
    seed: int = 1
    profile: str = "steady"
    host: str | None = None
    port: int | None = None
    report: str | None = None   # also write the generator's report (JSON) here
    credentials: str = "ccplane-demo.json"


def carrier_settings(main: SandboxSettings) -> SandboxSettings:
    """The carrier instance beside the main one: its name plus -carrier, ports 700 above."""
    return dataclasses.replace(main, name=(main.name + "-carrier")[:32], ami_port=main.ami_port + 700,
                               http_port=main.http_port + 700, sip_port=main.sip_port + 700,
                               rtp_start=main.rtp_start + 5000, rtp_end=main.rtp_start + 5499)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Demo:
    def __init__(self, settings: Settings, options: DemoOptions) -> None:
        self.settings, self.options = settings, options
        self.started: list[Sandbox] = []          # sandboxes this run started (stopped at the end)
        self.states: dict[str, SandboxState] = {}
        self.agents: list[SimAgent] = []
        self.generator: Generator | None = None

    # -- sandboxes (blocking; before and after the event loop) ------------------------
    def sandboxes_up(self) -> None:
        for role, sb_settings in (("main", self.settings.sandbox),
                                  ("carrier", carrier_settings(self.settings.sandbox))):
            sandbox = Sandbox(sb_settings, progress=_say)
            before = sandbox.load_state()
            running = before is not None and before.pid is not None
            if role == "carrier":
                _sb, state = start_carrier(sb_settings, progress=_say)
            else:
                state = sandbox.up()
            if not running:
                self.started.append(sandbox)
            self.states[role] = state

    def sandboxes_down(self) -> None:
        for sandbox in self.started:
            try:
                sandbox.down()
            except Exception as exc:  # noqa: BLE001 - stop the others anyway
                _say(f"demo: could not stop sandbox {sandbox.settings.name}: {exc}")

    # -- the event loop part ----------------------------------------------------------
    async def run(self) -> int:
        from aiohttp import web

        from ..app import create_app
        from ..web.keys import SERVICES
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        app = create_app(self.settings)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        host = self.options.host or self.settings.server.host
        port = self.options.port or self.settings.server.port
        site = web.TCPSite(runner, host, port)
        await site.start()
        base_url = f"http://{host}:{port}"
        session = aiohttp.ClientSession()
        try:
            services = app[SERVICES]
            await services.ami.wait_connected(30)
            await services.ari.wait_connected(30)
            await self._wait_leader(session, base_url)
            creds = Credentials.load(Path(self.options.credentials))
            await self._ensure_root(services, creds.of(ROOT_USER))
            root = await Api(session, base_url).login(ROOT_USER, creds.of(ROOT_USER))
            layout = Layout.of(self.options.agents)
            await provision(root, creds, layout, self.states["carrier"].sip_port)
            self.generator = Generator(
                self.states["carrier"], self.states["main"].sip_port, Api(session, base_url),
                await Api(session, base_url).login(layout.monitors[0][0], creds.of(layout.monitors[0][0])),
                creds, self.options.rate, self.options.profile, self.options.seed)
            await self.generator.start()
            await self._start_agents(session, base_url, creds, layout)
            self._banner(base_url, creds, layout)
            if not stop.is_set():
                await self.generator.run(self.options.duration, stop)
                _say("demo: traffic done; waiting for the calls in progress to end")
                await self.generator.drain(timeout=5 if stop.is_set() else 60)
                self._report()
            if not stop.is_set():
                _say("demo: still serving (agents keep answering); Ctrl-C stops everything")
                await stop.wait()
            return 0
        finally:
            _say("demo: stopping")
            await self._shutdown(session)
            await runner.cleanup()

    async def _wait_leader(self, session: aiohttp.ClientSession, base_url: str) -> None:
        for _ in range(300):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(base_url + "/api/v1/health/leader") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise RuntimeError("ccplane did not become the leader within 30 s")

    async def _ensure_root(self, services: Any, password: str) -> None:
        from sqlalchemy import update

        from ..errors import Conflict
        from ..features.auth.passwords import hash_password_async
        from ..features.users.models import User
        try:
            await services.auth.create_root(ROOT_USER, password, name="Demo root")
        except Conflict:  # a second run: the password the credentials file holds
            async with services.sessions() as s:
                await s.execute(update(User).where(User.username == ROOT_USER)
                                .values(password_hash=await hash_password_async(password), active=True))
                await s.commit()

    async def _start_agents(self, session: aiohttp.ClientSession, base_url: str, creds: Credentials,
                            layout: Layout) -> None:
        assert self.generator is not None
        sip_port = self.states["main"].sip_port
        for i, (username, ext) in enumerate(layout.agents + layout.monitors):
            queues = [MONITORING] if (username, ext) in layout.monitors else [SALES, SUPPORT]
            api = await Api(session, base_url).login(username, creds.of(username))
            self.agents.append(SimAgent(username, ext, queues, api, DOMAIN, sip_port, creds.of(f"ramal-{ext}"),
                                        random.Random(self.options.seed * 1000 + i),
                                        on_answered=self.generator.answered,
                                        may_transfer=self.generator.may_transfer,
                                        on_transferred=self.generator.transferred,
                                        on_scheduled=self.generator.scheduled_callback))
        await asyncio.gather(*(a.start() for a in self.agents))

    def _banner(self, base_url: str, creds: Credentials, layout: Layout) -> None:
        lines = [f"ccplane demo serving on {base_url}/  (API {base_url}/api/v1, health {base_url}/api/v1/health)",
                 f"  pages: {base_url}/login, {base_url}/supervisor, {base_url}/alerts, {base_url}/reports, "
                 f"alert app {base_url}/app/{DOMAIN}",
                 f"  domain '{DOMAIN}'; DIDs {DID_IVR} (IVR: 1 vendas, 2 suporte, 3 CPF) and {DID_SUPPORT} (suporte)",
                 "  logins (user / password):",
                 f"    root        {ROOT_USER} / {creds.of(ROOT_USER)}",
                 f"    admin       {layout.admin} / {creds.of(layout.admin)}",
                 f"    supervisor  {layout.supervisor} / {creds.of(layout.supervisor)}"]
        lines += [f"    agent       {u} / {creds.of(u)}  (ramal {e})" for u, e in layout.agents + layout.monitors]
        lines.append(f"  (kept in {self.options.credentials}); calls at {self.options.rate}/min, "
                     f"profile {self.options.profile}, seed {self.options.seed}")
        _say("\n".join(lines))

    def _report(self) -> None:
        assert self.generator is not None
        report = self.generator.report()
        report["agents"] = {a.username: a.summary() for a in self.agents}
        text = json.dumps(report, sort_keys=True)
        print(text, flush=True)
        if self.options.report:
            Path(self.options.report).write_text(text + "\n")

    async def _shutdown(self, session: aiohttp.ClientSession) -> None:
        if self.generator is not None:
            await self.generator.stop()
        await self._hang_up_everything()
        await asyncio.gather(*(a.stop() for a in self.agents), return_exceptions=True)
        await session.close()

    async def _hang_up_everything(self) -> None:
        """Both sandboxes' calls: every channel, whoever placed it."""
        for state in self.states.values():
            ami = AmiClient("127.0.0.1", state.ami_port, state.ami_username, state.ami_secret)
            try:
                await ami.start()
                await ami.wait_connected(5)
                await ami.action({"Action": "Hangup", "Channel": "/.*/"})
            except Exception as exc:  # noqa: BLE001 - none up, or the sandbox is gone
                log.debug("hangup on %s: %s", state.name, exc)
            finally:
                await ami.stop()


def run_demo(settings: Settings, options: DemoOptions) -> int:
    a = settings.asterisk
    if a.ami_username or a.config_dir or a.ari_url:
        raise SettingsError("asterisk", "ccplane demo runs on the local sandboxes (it registers phones and "
                                        "a carrier beside them): unset CCPLANE_ASTERISK_* / [asterisk] "
                                        "credentials, or use `ccplane serve` with your own Asterisk")
    # the sandbox is this checkout's: the demo's database renders into it (as scripts/run.sh does)
    settings = settings.replace(asterisk=dataclasses.replace(a, take_over=True))
    demo = Demo(settings, options)
    with _one_demo_per_sandbox(settings.sandbox):
        try:
            demo.sandboxes_up()
            return asyncio.run(demo.run())
        finally:
            demo.sandboxes_down()


@contextlib.contextmanager
def _one_demo_per_sandbox(sandbox: SandboxSettings) -> Iterator[None]:
    """Two demos on one sandbox pair would register the same phones and share DIDs."""
    sandbox.root.mkdir(parents=True, exist_ok=True)
    path = sandbox.root / f"demo-{sandbox.name}.lock"
    with open(path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SettingsError("sandbox.name", f"another ccplane demo is running on sandbox "
                                                f"'{sandbox.name}' ({path} is locked)") from None
        yield
