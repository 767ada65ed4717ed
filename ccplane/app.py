"""Composition root: ``create_app(settings)`` wires every resource and feature."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from typing import Any, AsyncIterator

from aiohttp import web
from sqlalchemy import text

from . import __version__, background
from .asterisk.ami import AmiClient
from .asterisk.ari import AriClient
from .asterisk.connection import AsteriskTarget, resolve_target
from .asterisk.render import NotOwner, Renderer
from .asterisk.tracker import ContactTracker
from .aio import cancel_and_wait
from .bus import EventBus
from .db.identity import deployment_id
from .db.session import create_engine, session_factory
from .errors import AsteriskError, ServiceUnavailable
from .features.agents.plugin import FEATURE as agents
from .features.alerts.plugin import FEATURE as alerts
from .features.attendances.plugin import FEATURE as attendances
from .features.auth.plugin import FEATURE as auth
from .features.callgroups.plugin import FEATURE as callgroups
from .features.callbacks.plugin import FEATURE as callbacks
from .features.calls.plugin import FEATURE as calls
from .features.dialer.plugin import FEATURE as dialer
from .features.domains.plugin import FEATURE as domains
from .features.extensions.plugin import FEATURE as extensions
from .features.ivr.plugin import FEATURE as ivr
from .features.monitoring_groups.plugin import FEATURE as monitoring_groups
from .features.persons.plugin import FEATURE as persons
from .features.queues.plugin import FEATURE as queues
from .features.recordings.plugin import FEATURE as recordings
from .features.reports.plugin import FEATURE as reports
from .features.routes.plugin import FEATURE as routes
from .features.steps import FEATURE as steps
from .features.supervision.plugin import FEATURE as supervision
from .features.trunks.plugin import FEATURE as trunks
from .features.users.plugin import FEATURE as users
from .features.webrtc.plugin import FEATURE as webrtc
from .leader import Leadership
from .plugin import Feature, Services, Wiring
from .scheduler import Scheduler
from .settings import Settings
from .web.keys import SERVICES, SETTINGS
from .web.live import LiveHub, live_feed
from .web.middlewares import error_middleware, standby_middleware
from .web.pages import register_pages
from .web.routing import Api, Req

log = logging.getLogger("ccplane.app")

# Every feature, once, in dependency order (a feature's setup may use the
# services of those before it; render contributions run in this order too).
FEATURES: tuple[Feature, ...] = (auth, domains, extensions, agents, users, queues, routes, persons, ivr,
                                 alerts, trunks, steps, calls, attendances, reports, callgroups, monitoring_groups,
                                 recordings, callbacks, dialer, webrtc, supervision)

__all__ = ["FEATURES", "Services", "build_services", "create_app", "render_contributions"]


def render_contributions() -> list[Any]:
    return [f.render for f in FEATURES if f.render is not None]


def build_services(settings: Settings, target: AsteriskTarget) -> Services:
    a = settings.asterisk
    engine = create_engine(settings.database.url)
    sessions = session_factory(engine)
    ami = AmiClient(target.ami_host, target.ami_port, target.ami_username, target.ami_secret,
                    action_timeout=a.action_timeout, ping_interval=a.ping_interval,
                    reconnect_max_delay=a.reconnect_max_delay)
    ari = AriClient(target.ari_url, target.ari_username, target.ari_password, a.ari_app,
                    timeout=a.action_timeout, reconnect_max_delay=a.reconnect_max_delay)
    renderer = Renderer(sessions, target.config_dir, contributions=render_contributions(), reloader=ami.action,
                        qualify_frequency=a.qualify_frequency, ari_app=a.ari_app,
                        unknown_did_delay=a.unknown_did_delay, admission=settings.admission)
    renderer.take_over = a.take_over
    core = Services(engine=engine, sessions=sessions, ami=ami, ari=ari, contacts=ContactTracker(),
                    renderer=renderer, live=LiveHub(), bus=EventBus(), scheduler=Scheduler(settings.database.url),
                    leadership=Leadership(settings.database.url, enabled=settings.cluster.leader_election,
                                          retry_interval=settings.cluster.retry_interval,
                                          check_interval=settings.cluster.check_interval))

    async def changed() -> None:
        await renderer.apply()
        for follower in wiring.followers:
            await follower()

    wiring = Wiring(settings, target, core, changed)
    for feature in FEATURES:
        if feature.setup is not None:
            feature.setup(wiring)
    return core


async def _resync(services: Services) -> None:
    """After every AMI (re)connect: rebuild live state from Asterisk, re-apply config.
    Retried while the link stays up: a half-loaded Asterisk must not leave us stale."""
    for attempt in range(1, 6):
        try:
            await _resync_once(services)
            return
        except AsteriskError as exc:
            if not services.ami.connected:
                return  # the next connect resyncs
            log.warning("ami.resync_failed attempt=%d: %s", attempt, exc)
            await asyncio.sleep(attempt)
    log.error("ami.resync_gave_up")


async def _resync_once(services: Services) -> None:
    items = await services.ami.action({"Action": "PJSIPShowContacts"})
    services.contacts.reset(items)
    for before_render, hook in services.resync_hooks:
        if before_render:
            await hook()
    result = await services.renderer.apply()
    for before_render, hook in services.resync_hooks:
        if not before_render:
            await hook()  # in feature order: agents, then calls, then the outbox
    services.resynced = True
    log.info("ami.resynced contacts=%d rendered=%s", len(items), result.changed)


def _telephony_ctx(services: Services):  # type: ignore[no-untyped-def]
    """Telephony runs on the elected replica only. Elected at start (the usual,
    single-replica case): started before the server listens, and a failure stops
    the start. Otherwise the replica stands by and starts telephony once elected."""
    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        leadership = services.leadership
        waiter: asyncio.Task[None] | None = None
        try:
            if await leadership.try_acquire():
                await _start_telephony(services)
                leadership.watch(lambda: _demote(services))
            else:
                log.warning("leader.standby: another replica leads (%s); waiting", leadership.kind)
                waiter = asyncio.create_task(_lead_when_elected(services), name="leader-wait")
        except BaseException:
            await _shutdown(services)  # aiohttp runs no cleanup for a failed startup
            raise
        yield
        await cancel_and_wait([waiter], "leader wait")
        await _shutdown(services)
    return ctx


async def _start_telephony(services: Services) -> None:
    services.telephony_started = True
    services.ami.on_event(services.contacts.handle, names=("ContactStatus",))
    services.ami.on_connect(lambda: _resync(services))
    services.ami.on_disconnect(lambda: _not_resynced(services))
    services.renderer.owner = await deployment_id(services.sessions)  # the Asterisk we render into is ours
    await services.scheduler.start()  # paused: persistent jobs run on the leader only, once all is up
    for hook in services.start_hooks:
        await hook()
    await services.ami.start()
    await services.ari.start()
    try:
        await services.renderer.apply()
    except NotOwner as exc:  # health says so; nothing is written into the other deployment's Asterisk
        services.render_error = str(exc)
        log.error("render.refused %s", exc)
    except Exception:  # noqa: BLE001 - a config dir problem must not stop the API
        log.exception("render.startup_failed")
    services.scheduler.resume()  # every feature is started: jobs may act now
    for hook in services.after_start_hooks:
        await hook()
    services.ready = True


async def _not_resynced(services: Services) -> None:
    services.resynced = False


async def _lead_when_elected(services: Services) -> None:
    await services.leadership.wait()
    log.warning("leader.taking_over")
    try:
        await _start_telephony(services)
    except Exception:  # noqa: BLE001 - give the lock to a replica that can lead
        log.exception("leader.takeover_failed")
        await services.leadership.release()
        services.leadership.role = "demoted"
        await _demote(services)
        return
    services.leadership.watch(lambda: _demote(services))


async def _demote(services: Services) -> None:
    """Another replica leads now: stop acting at once. ``ccplane serve`` then
    exits (75) so its supervisor restarts it as a standby; embedded, the app
    keeps answering /health with role "demoted"."""
    await _stop_telephony(services)
    if services.exit_on_demotion:
        os.kill(os.getpid(), signal.SIGTERM)  # aiohttp's run_app shuts down gracefully


async def _shutdown(services: Services, step_limit: float = 10.0) -> None:
    """Each step bounded and on its own: one that fails or hangs does not keep
    the others (and the database pool) from closing."""
    await _stop_telephony(services, step_limit)
    steps = (("leadership", services.leadership.release), ("database", services.engine.dispose))
    await _run_steps(steps, step_limit)


async def _stop_telephony(services: Services, step_limit: float = 10.0) -> None:
    services.ready = False
    steps: list[tuple[str, Any]] = [("live feed", services.live.close)]
    if services.telephony_started:
        services.telephony_started = False
        steps += list(reversed(services.stop_hooks))
        steps += [("scheduler", services.scheduler.stop), ("ari", services.ari.stop), ("ami", services.ami.stop)]
    await _run_steps(steps, step_limit)


async def _run_steps(steps: Any, step_limit: float) -> None:
    for what, step in steps:
        try:
            async with asyncio.timeout(step_limit):
                await step()
        except Exception:  # noqa: BLE001 - includes TimeoutError
            log.exception("shutdown.step_failed %s", what)


async def _database_ok(services: Services) -> bool:
    try:
        async with asyncio.timeout(2):  # a pool checkout that hangs counts too
            async with services.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001
        return False


class _DatabaseProbe:
    """/health's database check, shared: concurrent requests await one probe and a
    result younger than ``max_age`` seconds is reused, so a monitor polling /health
    many times a second costs the database (and the event loop) one query a second.

    A refresh that takes longer than ``patience`` seconds (a database busy with a
    burst of writes) does not hold /health: the previous result answers meanwhile,
    as long as it is younger than ``stale_after``; older, the database is reported
    down until the probe comes back."""

    def __init__(self, max_age: float = 1.0, patience: float = 0.02, stale_after: float = 5.0) -> None:
        self.max_age = max_age
        self.patience = patience
        self.stale_after = stale_after
        self._at = float("-inf")
        self._ok = False
        self._probe: asyncio.Task[bool] | None = None

    async def ok(self, services: Services) -> bool:
        if time.monotonic() - self._at < self.max_age:
            return self._ok
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(self._refresh(services))
        if self._at == float("-inf"):  # never probed: wait for the first answer
            return await asyncio.shield(self._probe)
        done, _ = await asyncio.wait({self._probe}, timeout=self.patience)
        if done:
            return self._probe.result()
        return self._ok and time.monotonic() - self._at < self.stale_after

    async def _refresh(self, services: Services) -> bool:
        ok = await _database_ok(services)
        self._ok, self._at = ok, time.monotonic()
        return ok


def _core_api() -> Api:
    api = Api()
    database = _DatabaseProbe()

    @api.route("GET", "/health", auth=False, tag="health")
    async def health(req: Req) -> dict[str, object]:
        """Liveness of the database (checked at most once a second) and of the AMI/ARI links (no auth)."""
        s: Services = req.services
        db_ok = await database.ok(s)
        version = s.ami.asterisk_version if s.ami.connected else (
            s.ari.asterisk_version if s.ari.connected else None)
        ready = s.ready and s.resynced and s.ami.connected and not s.render_error
        ok = db_ok and s.ami.connected and s.ari.connected and s.leadership.is_leader and ready
        return {"status": "ok" if ok else "degraded", "database": db_ok, "ami": s.ami.connected,
                "ari": s.ari.connected, "asterisk_version": version, "ccplane_version": __version__,
                "role": s.leadership.role, "ready": ready, "render_error": s.render_error, "background_failures": background.failures(),
                "journeys": {"active": len(s.calls.tracker.calls), "written": s.calls.written,
                             "write_failures": s.calls.write_failures, "pending": s.calls.pending},
                # AMI event lag since start (socket read -> dispatch done), docs/architecture.md
                "ami_lag_ms": s.ami.lag.snapshot()}

    @api.route("GET", "/health/leader", auth=False, tag="health")
    async def health_leader(req: Req) -> dict[str, object]:
        """200 on the replica that acts, 503 on a standby: for load balancers."""
        s: Services = req.services
        if not (s.leadership.is_leader and s.ready):
            raise ServiceUnavailable(f"this replica is {s.leadership.role}; the leader serves requests")
        return {"role": s.leadership.role}

    return api


def create_app(settings: Settings, *, target: AsteriskTarget | None = None,
               exit_on_demotion: bool = False) -> web.Application:
    target = target or resolve_target(settings)
    services = build_services(settings, target)
    services.exit_on_demotion = exit_on_demotion
    # Request lines up to 64 KB: a report's filters (each up to 1,000 characters, percent-encoded)
    # must reach the API's own validation, not aiohttp's 8 KB line limit and its plain-text 400.
    app = web.Application(middlewares=[error_middleware, standby_middleware], client_max_size=1024 * 1024,
                          handler_args={"max_line_size": 65536, "max_field_size": 16384})
    app[SETTINGS] = settings
    app[SERVICES] = services
    api = _core_api()
    for feature in FEATURES:
        if feature.api is not None:
            api.include(feature.api)
    api.register(app)
    spec: dict[str, Any] = {}  # built at its first request (a quarter second of CPU), then kept

    async def openapi(_request: web.Request) -> web.Response:
        if not spec:
            spec.update(api.openapi("ccplane", __version__))
        return web.json_response(spec)

    app.router.add_get(api.prefix + "/openapi.json", openapi)
    app.router.add_get(api.prefix + "/domains/{domain}/live", live_feed)
    register_pages(app)  # the web pages (issue 13)
    app.cleanup_ctx.append(_telephony_ctx(services))
    return app
