"""The panel's service level over a sliding window (24 h by default): one figure per
domain and queue, computed on the server and shared by every browser.

Per queue: the calls answered within the target (``within``) and the calls that
count (answered, or abandoned after the target: ``counted``) among the calls that
started in the last ``window``. It is recomputed, one query per domain, every
``interval`` seconds while a live feed of the domain is open, and shortly after a
call leaves a queue or ends (the journeys are written behind the calls). A queue's
figure that changed goes out on the live feed as ``queue.service_level`` (scoped by
monitoring group like every ``queue.*`` event), so old calls leave the figure of a
panel left open for days, and fifty panels cost what one does.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...aio import cancel_and_wait
from ...db.base import utcnow
from ..calls import events as ev
from ..calls.models import CallRecord as C
from ..domains.models import Domain

if TYPE_CHECKING:
    from ...bus import EventBus
    from ...web.live import LiveHub

log = logging.getLogger("ccplane.supervision")

SERVICE_LEVEL_SECONDS = 20  # answered within 20 s: the usual 80/20 target of a contact center
WINDOW = timedelta(hours=24)  # sliding: a 24-hour centre's figures do not reset at midnight
INTERVAL = 30.0  # seconds between recomputations while a domain's feed is open
SETTLE = 2.0  # seconds after a call event (the journey is written within a second or so)
EVENT = "queue.service_level"

Figures = dict[str, dict[str, int]]  # queue -> {"within", "counted"}


class ServiceLevelWindow:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], live: "LiveHub", *,
                 window: timedelta = WINDOW, interval: float = INTERVAL, sl_seconds: int = SERVICE_LEVEL_SECONDS,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.live = live
        self.window = window
        self.interval = interval
        self.sl_seconds = sl_seconds
        self.clock = clock  # tests move it to age the calls
        self.computations = 0  # queries run (one per domain and recomputation)
        self._figures: dict[str, Figures] = {}
        self._agents: dict[str, dict[str, list[str]]] = {}  # slug -> agent -> queues they took calls of
        self._locks: dict[str, asyncio.Lock] = {}
        self._at: dict[str, float] = {}  # slug -> when its figures were computed (monotonic)
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- reading ---------------------------------------------------------------------------
    def cached(self, slug: str) -> Figures:
        return self._figures.get(slug, {})

    async def current(self, slug: str) -> Figures:
        """The domain's figures: the shared ones, computed now only when there are none yet or
        they are older than a round (no feed of the domain was open to keep them fresh)."""
        if slug not in self._figures or time.monotonic() - self._at.get(slug, 0.0) > self.interval:
            await self.refresh(slug)
        return self.cached(slug)

    def agents(self, slug: str) -> dict[str, list[str]]:
        """The agents who took calls of each queue within the window (the panel lists those
        not logged in now as *Desconectado*): agent -> queues."""
        return self._agents.get(slug, {})

    def view(self, queue: str, figures: dict[str, int]) -> dict[str, Any]:
        return {"queue": queue, "within": figures["within"], "counted": figures["counted"],
                "window": int(self.window.total_seconds()), "sl": self.sl_seconds}

    def snapshot(self, slug: str) -> list[dict[str, Any]]:
        return [self.view(q, f) for q, f in sorted(self.cached(slug).items())]

    # -- computing -------------------------------------------------------------------------
    async def refresh(self, slug: str) -> Figures:
        """Recompute one domain (one query) and publish each queue whose figure changed.
        Callers at the same time share the one computation."""
        lock = self._locks.setdefault(slug, asyncio.Lock())
        if lock.locked():
            async with lock:
                return self.cached(slug)
        async with lock:
            new, agents = await self._compute(slug)
            self._agents[slug] = agents
            self._at[slug] = time.monotonic()
            old = self._figures.get(slug)
            self._figures[slug] = new
        if old is not None:
            zero = {"within": 0, "counted": 0}
            for queue in sorted(set(old) | set(new)):
                if old.get(queue, zero) != new.get(queue, zero):
                    self.live.publish(slug, EVENT, self.view(queue, new.get(queue, zero)))
        return new

    async def _compute(self, slug: str) -> tuple[Figures, dict[str, list[str]]]:
        self.computations += 1
        since = self.clock() - self.window
        answered = C.answered_at.is_not(None)
        wait = func.coalesce(C.wait_seconds, 0)
        late_abandon = and_(C.end_reason == "abandon", wait > self.sl_seconds)
        stmt = (select(C.queue,
                       func.sum(case((and_(answered, wait <= self.sl_seconds), 1), else_=0)),
                       func.sum(case((answered, 1), (late_abandon, 1), else_=0)))
                .join(Domain, Domain.id == C.domain_id)
                .where(Domain.slug == slug, C.queue.is_not(None), C.started_at >= since)
                .group_by(C.queue))
        who = (select(C.agent, C.queue).distinct().join(Domain, Domain.id == C.domain_id)
               .where(Domain.slug == slug, C.queue.is_not(None), C.agent.is_not(None), C.started_at >= since))
        async with self.sessions() as s:
            rows = (await s.execute(stmt)).all()
            pairs = (await s.execute(who)).all()
        agents: dict[str, list[str]] = {}
        for agent, queue in sorted(pairs):
            agents.setdefault(str(agent), []).append(str(queue))
        return {str(q): {"within": int(w or 0), "counted": int(n or 0)} for q, w, n in rows if q}, agents

    # -- keeping it fresh (on the leader: started with telephony) --------------------------
    def call_event(self, event: ev.CallEvent) -> None:
        if event.domain is not None and event.domain in self._figures:
            self._dirty.add(event.domain)
            self._wake.set()

    def subscribe(self, bus: "EventBus") -> None:
        bus.subscribe(ev.CallLeftQueue, self.call_event)
        bus.subscribe(ev.CallEnded, self.call_event)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="service-level-window")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task], "service level window", grace=1.0)
            self._task = None

    async def _run(self) -> None:
        while True:
            # asyncio.wait, not a suppressed asyncio.timeout: on Python 3.11 a cancel that meets
            # the timeout's own can come out as the TimeoutError suppressed here, and this loop
            # would then outlive every cancel (a test run's event loop waited on it forever)
            waiter = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({waiter}, timeout=self.interval)
            finally:
                waiter.cancel()
            if self._wake.is_set():
                self._wake.clear()
                await asyncio.sleep(SETTLE)  # let the journeys of those calls be written
                slugs, self._dirty = set(self._dirty), set()
            else:
                slugs = set()
            # every domain someone watches: old calls leave the window even when none ends
            slugs |= {slug for slug in list(self._figures) if self.live.clients(slug)}
            for slug in sorted(slugs):
                try:
                    await self.refresh(slug)
                except Exception:  # noqa: BLE001 - the next round tries again
                    log.exception("supervision.service_level_failed", extra={"domain": slug})
