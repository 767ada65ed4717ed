"""Runs the agent board against Asterisk: feeds it AMI events, carries out its
effects (pauses, timers, hangups, queue_log lines, call records) and
reconciles Asterisk's queue members with the stored logins after every
(re)connect."""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...aio import cancel_and_wait
from ...asterisk.ami import AmiClient
from ...asterisk.events import RINGING_DEVICE_STATES
from ...background import watch
from ..calls.events import CallEvent
from ..domains.models import Domain
from ..extensions.domain import endpoint_name
from ..extensions.models import Extension
from ..queues.domain import asterisk_queue_name
from ..queues.models import Queue
from ..users.models import User
from .domain import (Agent, AgentBoard, CallEnded, Effect, ExpireAt, HangupAt, Hold, OfferFailed, QueueLog,
                     QueuePolicy, SetPaused, StateChanged)
from .models import AgentSession, AgentSessionQueue

log = logging.getLogger("ccplane.agents")



def policy_of(q: Queue) -> QueuePolicy:
    return QueuePolicy(wrapup_time=q.wrapup_time, max_no_answer=q.max_no_answer, call_timeout=q.call_timeout,
                       reject_delay=q.reject_delay, busy_delay=q.busy_delay, noanswer_delay=q.noanswer_delay)


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, timezone.utc)


class AgentRuntime:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ami: AmiClient,
                 is_registered: Callable[[str], bool], clock: Callable[[], float] = time.time) -> None:
        self.sessions = sessions
        self.ami = ami
        self.is_registered = is_registered
        self.clock = clock
        self.board = AgentBoard()
        self.domain_of: dict[str, int] = {}  # interface -> domain id
        self.slug_of: dict[str, str] = {}  # interface -> domain slug
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self.timeout_listeners: list[Callable[[str | None], None]] = []  # a call hung up for its call timeout
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._hangups: dict[tuple[str, str | None], asyncio.TimerHandle] = {}
        self._actions: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        # A resync rebuilds the board and Asterisk's members from one snapshot of the
        # logins: a login or logout applied meanwhile would be undone by it (its member
        # removed as stale, its agent dropped from the board). They wait for each other.
        self._sync = asyncio.Lock()

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._run_actions(), name="agent-actions")
        watch(self._worker, "agent action worker")

    async def stop(self) -> None:
        self._stopping = True
        for handle in [*self._timers.values(), *self._hangups.values()]:
            handle.cancel()
        self._actions.put_nowait({})  # wakes the worker, which sees _stopping
        await cancel_and_wait([*self._tasks, self._worker], "agent runtime")

    # -- inputs --------------------------------------------------------------------
    def on_call_event(self, event: CallEvent) -> None:
        """The call tracker's domain events (bus subscriber), in the order Asterisk sent their causes."""
        self.apply(self.board.handle(event, self.clock()))

    def on_registration(self, endpoint: str, registered: bool) -> None:
        self.apply(self.board.set_registered(f"PJSIP/{endpoint}", registered))

    # -- effects -------------------------------------------------------------------
    def apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, SetPaused):
                action = {"Action": "QueuePause", "Interface": effect.interface,
                          "Paused": "true" if effect.paused else "false"}
                if effect.paused:
                    action["Reason"] = effect.reason
                self._actions.put_nowait(action)
            elif isinstance(effect, ExpireAt):
                self._schedule_expiry(effect)
            elif isinstance(effect, HangupAt):
                self._schedule_hangup(effect)
            elif isinstance(effect, QueueLog):
                # the agent field of queue_log: the member name (the username), as Asterisk's own lines
                agent = self.board.agents.get(effect.interface)
                self._actions.put_nowait({"Action": "QueueLog", "Queue": effect.queue, "Event": effect.event,
                                          "Interface": agent.username if agent else effect.interface,
                                          "UniqueID": effect.uniqueid, "Message": effect.message})
            elif isinstance(effect, CallEnded):
                self._call_ended(effect)
            elif isinstance(effect, OfferFailed):
                log.info("agent.offer_failed %s %s", effect.interface, effect.outcome.value,
                         extra={"interface": effect.interface, "queue": effect.queue})
            elif isinstance(effect, StateChanged):
                self._publish(effect.interface)

    def _schedule_expiry(self, effect: ExpireAt) -> None:
        key = (effect.interface, effect.kind)
        if key in self._timers:
            self._timers.pop(key).cancel()
        delay = max(0.0, effect.at - self.clock())

        def fire() -> None:
            self._timers.pop(key, None)
            self.apply(self.board.expire(effect.interface, effect.kind, self.clock()))
        self._timers[key] = asyncio.get_running_loop().call_later(delay, fire)

    def _schedule_hangup(self, effect: HangupAt) -> None:
        key = (effect.interface, effect.caller_uniqueid)
        delay = max(0.0, effect.at - self.clock())

        def fire() -> None:
            self._hangups.pop(key, None)
            if not self.board.in_call(effect.interface):
                return
            self.board.mark_end_reason(effect.interface, effect.caller_uniqueid, effect.reason)
            for listener in self.timeout_listeners:
                listener(effect.caller_uniqueid)
            log.info("call.timeout hanging up %s", effect.channel,
                     extra={"channel": effect.channel, "interface": effect.interface})
            self._actions.put_nowait({"Action": "Hangup", "Channel": effect.channel, "Cause": "16"})
        self._hangups[key] = asyncio.get_running_loop().call_later(delay, fire)

    async def _run_actions(self) -> None:
        while not self._stopping:
            action = await self._actions.get()
            if self._stopping:
                return
            try:
                await self.ami.action(action)
            except Exception as exc:  # noqa: BLE001 - resync re-applies pauses after reconnect
                log.warning("agent.action_failed %s: %s", action.get("Action"), exc)

    def _call_ended(self, ended: CallEnded) -> None:
        """The agent's conversation ended: its call-timeout timer goes. The record
        of the call is its journey (features/calls), written from the same events."""
        handle = self._hangups.pop((ended.interface, ended.caller_uniqueid), None)
        if handle is not None:
            handle.cancel()
        log.info("call.agent_leg_ended reason=%s", ended.reason,
                 extra={"queue": ended.queue, "call": ended.caller_uniqueid, "interface": ended.interface})

    def _publish(self, interface: str) -> None:
        agent = self.board.agents.get(interface)
        if agent is None:
            return
        view = {"username": agent.username, **agent.view(self.clock())}
        slug = self.slug_of.get(interface)
        for listener in self.listeners:
            if slug:
                listener(slug, view)

    def views(self, slug: str) -> list[dict[str, Any]]:
        """What supervisors see of every logged-in agent of the domain (the live snapshot)."""
        now = self.clock()
        return [{"username": a.username, **a.view(now)} for i, a in sorted(self.board.agents.items())
                if self.slug_of.get(i) == slug]

    def _publish_offline(self, interface: str, username: str | None) -> None:
        slug = self.slug_of.get(interface)
        if slug:
            for listener in self.listeners:
                listener(slug, {"username": username, "state": "offline", "pause_reason": None,
                                "since": None, "wrapup_left": None, "missed_in_a_row": 0})

    def _spawn(self, coro: Any, what: str, **context: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        watch(task, what, **context)

    # -- sessions -------------------------------------------------------------------
    async def load_agent(self, s: AsyncSession, session: AgentSession) -> tuple[Agent, list[str]]:
        user = await s.get(User, session.user_id)
        ext = await s.get(Extension, session.extension_id)
        domain = await s.get(Domain, session.domain_id)
        assert user and ext and domain
        self.slug_of[f"PJSIP/{endpoint_name(domain.slug, ext.number)}"] = domain.slug
        queues = list(await s.scalars(select(Queue).join(AgentSessionQueue,
                                                         AgentSessionQueue.queue_id == Queue.id)
                                      .where(AgentSessionQueue.session_id == session.id)))
        endpoint = endpoint_name(domain.slug, ext.number)
        interface = f"PJSIP/{endpoint}"
        agent = Agent(username=user.username, interface=interface, registered=self.is_registered(endpoint),
                      queues={asterisk_queue_name(domain.slug, q.name): policy_of(q) for q in queues},
                      wrapup_override=user.wrapup_time)
        if session.paused:
            since = session.paused_at.timestamp() if session.paused_at else self.clock()
            agent.holds["manual"] = Hold("manual", session.pause_reason or "pause", since)
        return agent, sorted(agent.queues)

    async def apply_login(self, session_id: int) -> None:
        async with self._sync:
            await self._apply_login(session_id)

    async def _apply_login(self, session_id: int) -> None:
        async with self.sessions() as s:
            session = await s.get(AgentSession, session_id)
            if session is None:
                return
            agent, queues = await self.load_agent(s, session)
        self.board.put(agent)
        self.domain_of[agent.interface] = session.domain_id
        for q in queues:
            await self._add_member(q, agent)
        self._publish(agent.interface)

    async def _add_member(self, queue: str, agent: Agent) -> None:
        # MemberName is the username: unique, and queue_log's agent field on every line
        action = {"Action": "QueueAdd", "Queue": queue, "Interface": agent.interface, "MemberName": agent.username,
                  "StateInterface": agent.interface, "Penalty": "0",
                  "Paused": "true" if agent.paused else "false"}
        if agent.paused:
            action["Reason"] = agent.pause_reason
        try:
            await self.ami.action(action)
        except Exception as exc:  # noqa: BLE001 - applied again on the next resync
            log.warning("agent.queue_add_failed %s %s: %s", queue, agent.interface, exc)

    async def apply_logout(self, interface: str, queues: list[str]) -> None:
        async with self._sync:
            await self._apply_logout(interface, queues)

    async def _apply_logout(self, interface: str, queues: list[str]) -> None:
        agent = self.board.agents.get(interface)
        self.board.remove(interface)
        self.domain_of.pop(interface, None)
        self._publish_offline(interface, agent.username if agent else None)
        self.slug_of.pop(interface, None)
        for key in [k for k in self._timers if k[0] == interface]:
            self._timers.pop(key).cancel()
        for q in queues:
            try:
                await self.ami.action({"Action": "QueueRemove", "Queue": q, "Interface": interface})
            except Exception as exc:  # noqa: BLE001
                log.warning("agent.queue_remove_failed %s %s: %s", q, interface, exc)

    async def policies_changed(self) -> None:
        """A queue's settings changed: agents pick up the new policy at once."""
        async with self.sessions() as s:
            for session in await s.scalars(select(AgentSession)):
                agent, _ = await self.load_agent(s, session)
                current = self.board.agents.get(agent.interface)
                if current is not None:
                    current.queues = agent.queues
                    current.wrapup_override = agent.wrapup_override

    async def resync(self) -> None:
        """After every AMI (re)connect: make Asterisk's members match the stored logins."""
        async with self._sync:
            await self._resync()

    async def _resync(self) -> None:
        async with self.sessions() as s:
            sessions = list(await s.scalars(select(AgentSession)))
            loaded = [(sess, *(await self.load_agent(s, sess))) for sess in sessions]
            slugs = {d.id: d.slug for d in await s.scalars(select(Domain))}
            ours = {asterisk_queue_name(slugs[q.domain_id], q.name) for q in await s.scalars(select(Queue))}
        status = await self.ami.action({"Action": "QueueStatus"})
        present: dict[tuple[str, str], dict[str, Any]] = {}
        for item in status:
            if item.get("Event") == "QueueMember":
                present[(str(item.get("Queue")), str(item.get("Location") or item.get("Interface")))] = item
        wanted: set[tuple[str, str]] = set()
        for sess, agent, queues in loaded:
            previous = self.board.agents.get(agent.interface)
            if previous is not None:  # keep live holds (wrap-up, delays) across an AMI reconnect
                agent.holds = {**previous.holds, **agent.holds}
                agent.missed_in_a_row = previous.missed_in_a_row
            self.board.put(agent)
            self.domain_of[agent.interface] = sess.domain_id
            members = [present[(q, agent.interface)] for q in queues if (q, agent.interface) in present]
            # Events were lost while disconnected: what Asterisk reports now is the truth. A
            # member it does not know (a restarted Asterisk has none) has no call and no offer.
            if not any(str(m.get("InCall")) not in ("", "0") for m in members):
                agent.calls.clear()
            if not any(str(m.get("Status")) in RINGING_DEVICE_STATES for m in members):
                agent.offers.clear()
            for q in queues:
                wanted.add((q, agent.interface))
                member = present.get((q, agent.interface))
                if member is None:
                    await self._add_member(q, agent)
                elif str(member.get("Paused")) not in (("1",) if agent.paused else ("0",)):
                    self.apply([SetPaused(agent.interface, agent.paused, agent.pause_reason)])
        for (q, interface) in set(present) - wanted:
            if q in ours:
                log.info("agent.stale_member_removed %s %s", q, interface)
                await self.ami.action({"Action": "QueueRemove", "Queue": q, "Interface": interface})
        for interface in set(self.board.agents) - {a.interface for _, a, _ in loaded}:
            self.board.remove(interface)
        for _, agent, _ in loaded:
            self._publish(agent.interface)  # the live feed learns the rebuilt states
        log.info("agents.resynced sessions=%d", len(loaded))
