"""Composition root: ``create_app(settings)`` wires every resource and feature."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from . import __version__
from .asterisk.ami import AmiClient
from .asterisk.ari import AriClient
from .asterisk.connection import AsteriskTarget, resolve_target
from .asterisk.events import AmiEvent
from .asterisk.render import Renderer
from .asterisk.tracker import ContactTracker
from .aio import cancel_and_wait
from .db.session import create_engine, session_factory
from .features.agents.http import api as agents_api
from .features.alerts.calls import AlertCaller
from .features.alerts.http import api as alerts_api
from .features.alerts.services import AlertService
from .features.agents.runtime import AgentRuntime
from .features.agents.services import AgentService
from .features.auth.http import api as auth_api
from .features.auth.services import AuthService
from .features.domains.http import api as domains_api
from .features.domains.services import DomainService
from .features.extensions.http import api as extensions_api
from .features.extensions.services import ExtensionService
from .features.ivr.http import api as ivr_api
from .features.ivr.prompts import PromptService
from .features.ivr.services import IvrService
from .features.ivr.stasis import CollectHandler
from .features.ivr.system_prompts import ensure_system_prompts
from .features.persons.attachments import AttachmentService
from .features.persons.http import api as persons_api
from .features.persons.services import PersonService
from .features.routes.http import api as routes_api
from .features.routes.services import RouteService
from .features.steps import StepRecorder
from .features.trunks.http import api as trunks_api
from .features.trunks.services import TrunkService
from .features.queues.http import api as queues_api
from .features.queues.domain import split_queue_name
from .features.queues.services import QueueService
from .features.users.http import api as users_api
from .features.users.services import UserService
from .errors import AsteriskError, ServiceUnavailable
from .leader import Leadership
from .scheduler import Scheduler
from .settings import Settings
from .web.keys import SERVICES, SETTINGS
from .web.live import LiveHub, live_feed
from .web.middlewares import error_middleware, standby_middleware
from .web.routing import Api, Req

log = logging.getLogger("ccplane.app")

# One line per feature: its endpoint table.
FEATURE_APIS = (auth_api, domains_api, users_api, extensions_api, queues_api, agents_api, routes_api, ivr_api,
                persons_api, alerts_api, trunks_api)


@dataclass
class Services:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    ami: AmiClient
    ari: AriClient
    contacts: ContactTracker
    renderer: Renderer
    auth: AuthService
    domains: DomainService
    users: UserService
    extensions: ExtensionService
    queues: QueueService
    agent_runtime: AgentRuntime
    agents: AgentService
    live: LiveHub
    routes: RouteService
    prompts: PromptService
    ivrs: IvrService
    persons: PersonService
    collect: CollectHandler
    steps: "StepRecorder"
    alerts: AlertService
    attachments: AttachmentService
    trunks: TrunkService
    leadership: Leadership
    scheduler: Scheduler
    telephony_started: bool = False
    ready: bool = False  # telephony fully started: the API may serve
    exit_on_demotion: bool = False


def build_services(settings: Settings, target: AsteriskTarget) -> Services:
    a = settings.asterisk
    engine = create_engine(settings.database.url)
    sessions = session_factory(engine)
    ami = AmiClient(target.ami_host, target.ami_port, target.ami_username, target.ami_secret,
                    action_timeout=a.action_timeout, ping_interval=a.ping_interval,
                    reconnect_max_delay=a.reconnect_max_delay)
    ari = AriClient(target.ari_url, target.ari_username, target.ari_password, a.ari_app,
                    timeout=a.action_timeout, reconnect_max_delay=a.reconnect_max_delay)
    contacts = ContactTracker()
    renderer = Renderer(sessions, target.config_dir, reloader=ami.action,
                        qualify_frequency=a.qualify_frequency, ari_app=a.ari_app,
                        unknown_did_delay=a.unknown_did_delay)

    async def changed() -> None:
        await renderer.apply()

    runtime = AgentRuntime(sessions, ami, contacts.registered)
    contacts.on_change(runtime.on_registration)
    live = LiveHub()
    prompts = PromptService(sessions, target.sounds_dir)
    persons = PersonService(sessions)
    routes = RouteService(sessions, changed)
    ivrs = IvrService(sessions, changed, prompts.builtin_sound)
    recorder = StepRecorder(ami, routes, ivrs)
    ami.on_event(recorder.put, names=("UserEvent",))
    runtime.listeners.append(lambda slug, view: live.publish(slug, "agent.state", view))
    ami.on_event(lambda ev: _publish_queue_event(live, ev), names=("QueueCallerJoin", "QueueCallerLeave"))
    auth = AuthService(sessions, settings.auth)
    scheduler = Scheduler(settings.database.url)
    alert_caller = AlertCaller(ami, target.sounds_dir)
    alert_caller.preemptor.withdrawn = runtime.board.withdraw_offer  # a ring taken back is no agent's miss
    alerts = AlertService(sessions, auth.signer, live.publish, alert_caller, changed, scheduler)
    persons.on_change.append(alerts.forget_person)
    persons.on_saved.append(alerts.person_saved)
    persons.on_removed.append(alerts.person_removed)
    recorder.alerts = alerts
    trunks = TrunkService(sessions, changed, contacts)
    ami.on_event(trunks.on_registry, names=("Registry",))
    return Services(
        engine=engine, sessions=sessions, ami=ami, ari=ari, contacts=contacts, renderer=renderer,
        auth=auth,
        domains=DomainService(sessions, changed),
        users=UserService(sessions, runtime.policies_changed),
        extensions=ExtensionService(sessions, changed, contacts),
        queues=QueueService(sessions, changed, runtime.policies_changed),
        agent_runtime=runtime,
        agents=AgentService(sessions, runtime, contacts),
        live=live,
        routes=routes,
        prompts=prompts,
        ivrs=ivrs,
        persons=persons,
        collect=CollectHandler(ari, {"cpf_registered": persons.cpf_registered}),
        steps=recorder,
        alerts=alerts,
        attachments=AttachmentService(sessions, Path(settings.storage.dir).expanduser()),
        trunks=trunks,
        leadership=Leadership(settings.database.url, enabled=settings.cluster.leader_election,
                              retry_interval=settings.cluster.retry_interval,
                              check_interval=settings.cluster.check_interval),
        scheduler=scheduler,
    )


def _publish_queue_event(live: LiveHub, event: AmiEvent) -> None:
    names = split_queue_name(str(event.fields.get("Queue", "")))
    if names is None:
        return
    slug, queue = names
    kind = "queue.caller_joined" if event.name == "QueueCallerJoin" else "queue.caller_left"
    live.publish(slug, kind, {"queue": queue, "caller": event.fields.get("CallerIDNum"),
                              "call": event.fields.get("Uniqueid"), "position": event.fields.get("Position"),
                              "count": event.fields.get("Count")})


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
    asked_after = services.trunks.registry_events
    try:
        registrations = await services.ami.action({"Action": "PJSIPShowRegistrationsOutbound"})
    except AsteriskError as exc:  # e.g. the module is not loaded: the rest of the resync still runs
        if not services.ami.connected:
            raise
        log.warning("ami.registrations_unavailable: %s", exc)
    else:
        services.trunks.reset_registrations(registrations, asked_after)
    result = await services.renderer.apply()
    await services.agent_runtime.resync()  # after rendering: the queues must exist first
    replayed = await services.steps.replay_outbox()
    log.info("ami.resynced contacts=%d rendered=%s outbox=%d", len(items), result.changed, replayed)


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
    services.collect.register()
    await services.steps.start()
    await services.scheduler.start()  # persistent jobs run on the leader only
    await services.alerts.start()
    await services.agent_runtime.start()
    await services.ami.start()
    await services.ari.start()
    try:
        await services.renderer.apply()
    except Exception:  # noqa: BLE001 - a config dir problem must not stop the API
        log.exception("render.startup_failed")
    services.scheduler.resume()  # every feature is started: jobs may act now
    await ensure_system_prompts(services.prompts.sounds_dir)
    services.ready = True


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
    steps = [("live feed", services.live.close)]
    if services.telephony_started:
        services.telephony_started = False
        steps += [("step recorder", services.steps.stop), ("alerts", services.alerts.stop),
                  ("scheduler", services.scheduler.stop),
                  ("ari", services.ari.stop), ("agent runtime", services.agent_runtime.stop),
                  ("ami", services.ami.stop)]
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
        async with services.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), 2)
        return True
    except Exception:  # noqa: BLE001
        return False


def _core_api() -> Api:
    api = Api()

    @api.route("GET", "/health", auth=False, tag="health")
    async def health(req: Req) -> dict[str, object]:
        """Liveness of the database and of the AMI/ARI links (no auth)."""
        s: Services = req.services
        db_ok = await _database_ok(s)
        version = s.ami.asterisk_version if s.ami.connected else (
            s.ari.asterisk_version if s.ari.connected else None)
        ok = db_ok and s.ami.connected and s.ari.connected and s.leadership.is_leader
        return {"status": "ok" if ok else "degraded", "database": db_ok, "ami": s.ami.connected,
                "ari": s.ari.connected, "asterisk_version": version, "ccplane_version": __version__,
                "role": s.leadership.role}

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
    app = web.Application(middlewares=[error_middleware, standby_middleware], client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[SERVICES] = services
    api = _core_api()
    for feature in FEATURE_APIS:
        api.include(feature)
    api.register(app)
    spec = api.openapi("ccplane", __version__)

    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(spec)

    app.router.add_get(api.prefix + "/openapi.json", openapi)
    app.router.add_get(api.prefix + "/domains/{domain}/live", live_feed)
    app.cleanup_ctx.append(_telephony_ctx(services))
    return app
