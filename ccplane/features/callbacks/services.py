"""Callbacks: the API's service and the scheduler's job.

A scheduled callback is a row (``callbacks``) plus one scheduler job
(``callbacks.run.<id>``) at its time. The job survives restarts (APScheduler's
store in ccplane's database, no misfire grace): a time missed while ccplane was
down runs right after start-up, and ``delay`` records how late it ran. It runs
once: the first run moves the row from ``scheduled`` in one conditional UPDATE,
so a second run (another replica, a replayed job) finds nothing to do.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, Forbidden, NotFound, ValidationFailed
from ...scheduler import Scheduler, service
from ...web.context import READ_ROLES, Principal
from ..common import as_utc
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..queues.models import Queue
from ..users.models import Membership, User
from . import domain as rules
from . import events
from .engine import CallbackDialer
from .models import Callback
from .schemas import CallbackCreate, CallbackOut, CallbackReschedule

log = logging.getLogger("ccplane.callbacks")
USERS = READ_ROLES | {"agent"}
JOB_PREFIX = "callbacks.run."
PAST_GRACE = timedelta(seconds=60)  # an "at" this far in the past is a mistake, not "now"
HORIZON = timedelta(days=366)
READY_WAIT = 20.0  # seconds a due callback waits for the AMI resync at start-up
RETRY_LATER = timedelta(seconds=10)
REAPER_JOB = "callbacks.reaper"
REAP_EVERY = timedelta(seconds=30)

Publish = Callable[[str, str, dict[str, Any]], None]


async def run_callback(callback_id: int) -> None:
    """The scheduler's job (module-level, plain argument: stored by reference)."""
    await service("callbacks").run(callback_id)


async def reap_callbacks() -> None:
    """The reaper's job: looks for callbacks whose call vanished, then re-arms itself."""
    await service("callbacks").sweep()


def job_id(callback_id: int) -> str:
    return f"{JOB_PREFIX}{callback_id}"


def view(c: Callback) -> CallbackOut:
    return CallbackOut(id=c.id, kind=c.kind, number=c.number, at=as_utc(c.at), queue=c.queue, agent=c.agent,  # type: ignore[arg-type]
                       note=c.note, offline_to_queue=c.offline_to_queue, status=c.status, outcome=c.outcome,
                       attempts=c.attempts, started_at=as_utc(c.started_at), delay=c.delay_seconds,
                       agent_answered_at=as_utc(c.agent_answered_at), ended_at=as_utc(c.ended_at),
                       customer_answered_at=as_utc(c.customer_answered_at),
                       routed_to=c.routed_to, call=c.call_id, created_by=c.created_by, position=c.position,
                       expires_at=as_utc(c.expires_at))


class CallbackService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], scheduler: Scheduler, dialer: CallbackDialer,
                 publish: Publish, ready: Callable[[], bool] = lambda: True,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.sessions = sessions
        self.ready = ready  # Asterisk's picture (agents logged in, their states) rebuilt since the last connect
        self.scheduler = scheduler
        self.dialer = dialer
        self.publish = publish
        self.clock = clock
        self._suspects: set[int] = set()  # under way with no channel at the last look

    # -- API -------------------------------------------------------------------------
    async def list(self, me: Principal, slug: str, limit: int, offset: int,
                   status: str | None, *, kind: str | None = None, queue: str | None = None,
                   agent: str | None = None, start: datetime | None = None,
                   end: datetime | None = None) -> tuple[list[CallbackOut], int]:
        me.require(USERS, "list callbacks")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            where = [Callback.domain_id == domain.id]
            if status:
                where.append(Callback.status == status)
            for column, value in ((Callback.kind, kind), (Callback.queue, queue), (Callback.agent, agent)):
                if value is not None:
                    where.append(column == value)
            if start is not None:
                where.append(Callback.at >= start)
            if end is not None:
                where.append(Callback.at < end)
            if me.role == "agent":  # an agent sees the callbacks it owes or scheduled
                where.append((Callback.agent == me.username) | (Callback.created_by == me.username))
            total = await s.scalar(select(func.count()).select_from(Callback).where(*where)) or 0
            rows = await s.scalars(select(Callback).where(*where).order_by(Callback.at, Callback.id)
                                   .limit(limit).offset(offset))
            return [view(c) for c in rows], total

    async def get(self, me: Principal, slug: str, callback_id: int) -> CallbackOut:
        me.require(USERS, "read callbacks")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            return view(await self._find(s, me, domain, callback_id))

    async def create(self, me: Principal, slug: str, body: CallbackCreate) -> CallbackOut:
        me.require(USERS, "schedule callbacks")
        number = self._number(body.number)
        at = self._when(body.at)
        agent = body.agent
        if agent is None and body.queue is None:
            if me.role != "agent":
                raise ValidationFailed("queue or agent is required (who takes the callback)", field="queue")
            agent = me.username  # an agent schedules a return call for itself
        if me.role == "agent" and agent not in (None, me.username):
            raise Forbidden("an agent schedules callbacks for itself or a queue")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if body.queue is not None and not await s.scalar(
                    select(Queue.id).where(Queue.domain_id == domain.id, Queue.name == body.queue)):
                raise ValidationFailed(f"no such queue: {body.queue}", field="queue")
            if agent is not None and not await s.scalar(
                    select(User.id).join(Membership, Membership.user_id == User.id)
                    .where(Membership.domain_id == domain.id, User.username == agent, User.role == "agent")):
                raise ValidationFailed(f"no such agent in this domain: {agent}", field="agent")
            cb = Callback(domain_id=domain.id, kind="scheduled", number=number, at=at, queue=body.queue,
                          agent=agent, note=body.note, offline_to_queue=body.offline_to_queue,
                          status="scheduled", created_by=me.username)
            s.add(cb)
            await s.commit()
            out = view(cb)
        # After the commit: on SQLite the job store's write would wait for this
        # session's lock. A job write that fails leaves no row without its job.
        try:
            await self.scheduler.schedule(at, run_callback, (cb.id,), id=job_id(cb.id))
        except Exception:
            async with self.sessions() as s:
                await s.execute(delete(Callback).where(Callback.id == cb.id))
                await s.commit()
            raise
        self.publish(slug, events.SCHEDULED, out.model_dump(mode="json"))
        return out

    async def cancel(self, me: Principal, slug: str, callback_id: int) -> CallbackOut:
        me.require(USERS, "cancel callbacks")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            cb = await self._find(s, me, domain, callback_id)
            if cb.status not in rules.OPEN:
                raise Conflict(f"callback {callback_id} is {cb.status}: only a scheduled callback can be "
                               "cancelled", field="status")
            cb.status, cb.outcome, cb.ended_at = "cancelled", "cancelled", self.clock()
            await s.commit()
            out = view(cb)
        await self.scheduler.cancel(job_id(callback_id))
        self.publish(slug, events.CANCELLED, out.model_dump(mode="json"))
        return out

    async def reschedule(self, me: Principal, slug: str, callback_id: int, body: CallbackReschedule) -> CallbackOut:
        me.require(USERS, "reschedule callbacks")
        at = self._when(body.at)
        number = self._number(body.number) if body.number is not None else None
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            cb = await self._find(s, me, domain, callback_id)
            if cb.status not in rules.OPEN:
                raise Conflict(f"callback {callback_id} is {cb.status}: only a scheduled callback can be "
                               "rescheduled", field="status")
            cb.at = at
            if number is not None:
                cb.number = number
            if body.note is not None:
                cb.note = body.note
            await s.commit()
            out = view(cb)
        # a job write that fails here leaves the row's new time: start() re-arms it
        await self.scheduler.schedule(at, run_callback, (callback_id,), id=job_id(callback_id))
        self.publish(slug, events.RESCHEDULED, out.model_dump(mode="json"))
        return out

    def _number(self, raw: str) -> str:
        try:
            return rules.dialable_number(raw)
        except ValueError as exc:
            raise ValidationFailed(f"number: {exc}", field="number") from None

    def _when(self, at: datetime) -> datetime:
        at = at.astimezone(UTC)
        now = self.clock()
        if at < now - PAST_GRACE:
            raise ValidationFailed("at: is in the past", field="at")
        if at > now + HORIZON:
            raise ValidationFailed("at: at most a year ahead", field="at")
        return at

    @staticmethod
    async def _find(s: AsyncSession, me: Principal, domain: Domain, callback_id: int) -> Callback:
        cb = await s.scalar(select(Callback).where(Callback.domain_id == domain.id, Callback.id == callback_id))
        if cb is None or (me.role == "agent" and me.username not in (cb.agent, cb.created_by)):
            raise NotFound(f"callback {callback_id} not found", field="id")
        return cb

    # -- the engine ------------------------------------------------------------------
    async def start(self) -> None:
        """Give a job to every scheduled callback whose job is missing or armed for
        another time (a job write lost with its process, a reschedule whose job
        write failed): the row is the truth, nothing is forgotten."""
        jobs = await self.scheduler.jobs(JOB_PREFIX)
        async with self.sessions() as s:
            rows = (await s.execute(select(Callback.id, Callback.at).where(Callback.status == "scheduled"))).all()
        for callback_id, at in rows:
            when = as_utc(at) or self.clock()
            armed = jobs.get(job_id(callback_id))
            if armed is None or abs((armed - when).total_seconds()) > 1:
                log.warning("callback.job_adopted", extra={"callback": callback_id})
                await self.scheduler.schedule(when, run_callback, (callback_id,),
                                              id=job_id(callback_id))
        await self.scheduler.schedule(self.clock() + REAP_EVERY, reap_callbacks, (), id=REAPER_JOB)

    async def sweep(self) -> None:
        try:
            await self.reap()
        except Exception:  # noqa: BLE001 - the next sweep tries again
            log.exception("callback.reap_failed")
        finally:
            await self.scheduler.schedule(self.clock() + REAP_EVERY, reap_callbacks, (), id=REAPER_JOB)

    async def reap(self) -> list[int]:
        """Callbacks under way whose call Asterisk no longer has, seen so at two
        looks in a row (the second look leaves the outbox time to replay a report
        that was still in it): a restarted Asterisk, or a leader that died between
        the claim and the Originate. They end ``failed``/``lost`` (an in-queue
        callback goes back in line while it has retries); a report that arrives
        later still tells what really happened. Returns the ids given up."""
        if not self.ready():
            return []
        now = self.clock()
        async with self.sessions() as s:
            rows = (await s.execute(select(Callback.id, Callback.call_id, Callback.started_at)
                                    .where(Callback.status.in_(rules.ACTIVE)))).all()
        candidates = [(i, call) for i, call, started in rows if rules.may_be_lost(as_utc(started), now)]
        if not candidates:
            self._suspects.clear()
            return []
        live = await self.dialer.live_ids()
        missing = {i for i, call in candidates if not rules.alive(i, call, live)}
        confirmed = sorted(missing & self._suspects)
        self._suspects = missing - set(confirmed)
        for callback_id in confirmed:
            await self._lost(callback_id, now)
        return confirmed

    async def _lost(self, callback_id: int, at: datetime) -> None:
        async with self.sessions() as s:
            cb = await s.get(Callback, callback_id)
            if cb is None or cb.status not in rules.ACTIVE:
                return
            cb.status, cb.outcome, cb.ended_at = "failed", rules.LOST, at
            retry_at = await self._retry(s, cb, rules.LOST, at)
            await s.commit()
            slug = await s.scalar(select(Domain.slug).where(Domain.id == cb.domain_id))
            out = view(cb)
        log.warning("callback.lost", extra={"callback": callback_id, "domain": slug})
        await self._announce(slug, cb.id, retry_at, "failed", rules.LOST, out)

    async def run(self, callback_id: int, position: int | None = None) -> None:
        """Its time came (or came while ccplane was down): ring the agent leg.

        A job due while ccplane was down fires at start-up, before the AMI
        resync has told which agents are logged in and free: it waits for it
        (bounded), and tries again a little later if Asterisk is not there."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_WAIT
        while not self.ready() and loop.time() < deadline:
            await asyncio.sleep(0.1)
        if not self.ready():
            log.warning("callback.deferred: Asterisk not resynced", extra={"callback": callback_id})
            await self.scheduler.schedule(self.clock() + RETRY_LATER, run_callback, (callback_id,),
                                          id=job_id(callback_id))
            return
        started = self.clock()
        async with self.sessions() as s:
            cb = await s.get(Callback, callback_id)
            if cb is None or cb.status != "scheduled":
                return
            delay = rules.delay_seconds(as_utc(cb.at) or started, started)
            claimed = await s.execute(update(Callback).where(Callback.id == callback_id,
                                                             Callback.status == "scheduled")
                                      .values(status="calling_agent", started_at=started, delay_seconds=delay,
                                              attempts=Callback.attempts + 1))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                await s.rollback()
                return  # another run took it: a callback runs once
            await s.commit()
            slug = await s.scalar(select(Domain.slug).where(Domain.id == cb.domain_id))
        if slug is None:
            return
        if cb.agent is not None:
            interface, state = self.dialer.agent_seat(slug, cb.agent)
        else:
            interface, state = None, None
        wait = None
        if cb.expires_at is not None:
            wait = int((as_utc(cb.expires_at) or started).timestamp() - started.timestamp())
            if wait <= 0:
                await self._finish(slug, callback_id, "failed", "expired")
                return
        route = rules.choose_route(wants_agent=cb.agent is not None, agent_state=state, agent_interface=interface,
                                   queue=cb.queue, offline_to_queue=cb.offline_to_queue)
        log.info("callback.started delay=%.3f route=%s", delay,
                 route.kind, extra={"callback": callback_id, "domain": slug})
        if route.kind == "none":
            await self._finish(slug, callback_id, "failed", route.outcome or "failed")
            return
        try:
            call_id = await self.dialer.place(slug, callback_id, cb.number, route, position=position, wait=wait)
        except Exception:  # noqa: BLE001 - recorded as the callback's outcome
            log.exception("callback.originate_failed", extra={"callback": callback_id, "domain": slug})
            await self._finish(slug, callback_id, "failed", "originate_failed")
            return
        async with self.sessions() as s:
            row = await s.get(Callback, callback_id)
            if row is None:
                return
            row.routed_to, row.call_id = route.kind, call_id
            await s.commit()
            out = view(row)
        self.publish(slug, events.STARTED, out.model_dump(mode="json"))

    async def on_report(self, fields: dict[str, Any]) -> None:
        """A stage reported by the dialplan (live, or replayed from the outbox)."""
        raw = str(fields.get("Callback") or "")
        if not raw.isdigit():
            return
        report = rules.Report(stage=str(fields.get("Stage") or ""), status=str(fields.get("Status") or ""))
        at = _epoch(fields.get("At")) or self.clock()
        async with self.sessions() as s:
            cb = await s.get(Callback, int(raw))
            if cb is None:
                return
            if report.stage == "customer_answered":  # the conversation began: its end says the outcome
                if cb.customer_answered_at is not None:
                    return
                cb.customer_answered_at = at
                await s.commit()
                slug = await s.scalar(select(Domain.slug).where(Domain.id == cb.domain_id))
                if slug is not None:
                    self.publish(slug, events.CUSTOMER_ANSWERED, view(cb).model_dump(mode="json"))
                return
            status, outcome = rules.apply_report(cb.status, report, cb.outcome)
            if status == cb.status and outcome is None:
                return
            cb.status = status
            if report.stage == "agent_answered":
                cb.agent_answered_at = at
            if outcome is not None:
                cb.outcome, cb.ended_at = outcome, at
            retry_at = await self._retry(s, cb, outcome, at) if status == "failed" else None
            await s.commit()
            slug = await s.scalar(select(Domain.slug).where(Domain.id == cb.domain_id))
            out = view(cb)
        await self._announce(slug, cb.id, retry_at, status, outcome, out)

    @staticmethod
    async def _retry(s: AsyncSession, cb: Callback, outcome: str | None, at: datetime) -> datetime | None:
        """An in-queue callback whose customer was not reached goes back in line
        (at the end, later, the attempt recorded) while it has retries left."""
        if cb.kind != "in_queue" or outcome not in rules.RETRIED or not cb.queue:
            return None
        queue = await s.scalar(select(Queue).where(Queue.domain_id == cb.domain_id, Queue.name == cb.queue))
        if queue is None:
            return None
        retry_at = rules.retry_at(attempts=cb.attempts, retries=queue.callback_retries,
                                  delay=queue.callback_retry_delay, now=at, expires=as_utc(cb.expires_at))
        if retry_at is not None:
            cb.status, cb.at, cb.ended_at = "scheduled", retry_at, None
        return retry_at

    async def _announce(self, slug: str | None, callback_id: int, retry_at: datetime | None, status: str,
                        outcome: str | None, out: CallbackOut) -> None:
        if slug is None:
            return
        if retry_at is not None:
            await self.scheduler.schedule(retry_at, run_callback, (callback_id,), id=job_id(callback_id))
            log.info("callback.retry outcome=%s", outcome, extra={"callback": callback_id, "domain": slug})
            self.publish(slug, events.RETRY, out.model_dump(mode="json"))
            return
        kind = (events.AGENT_ANSWERED if status == "calling_customer"
                else events.COMPLETED if status == "completed" else events.FAILED)
        log.info("callback.%s outcome=%s", status, outcome, extra={"callback": callback_id, "domain": slug})
        self.publish(slug, kind, out.model_dump(mode="json"))

    async def on_request(self, fields: dict[str, Any]) -> None:
        """A caller waiting in a queue asked to be called back (live or replayed):
        one callback per number at a time; it keeps the caller's place."""
        slug, queue_name = str(fields.get("Domain") or ""), str(fields.get("Queue") or "")
        request = str(fields.get("Uniqueid") or "") or None
        raw_position = str(fields.get("Position") or "")
        position = int(raw_position) if raw_position.isdigit() and int(raw_position) > 0 else None
        now = _epoch(fields.get("At")) or self.clock()
        try:
            number = rules.dialable_number(str(fields.get("Number") or ""))
        except ValueError as exc:
            log.warning("callback.request_refused %s", exc, extra={"domain": slug, "queue": queue_name})
            return
        async with self.sessions() as s:
            row = (await s.execute(select(Domain.id, Queue).join(Queue, Queue.domain_id == Domain.id)
                                   .where(Domain.slug == slug, Queue.name == queue_name))).first()
            if row is None:
                return
            domain_id, queue = row
            if request and await s.scalar(select(Callback.id).where(Callback.request_id == request)):
                return  # the same request, replayed
            pending = await s.scalar(select(Callback.id).where(
                Callback.domain_id == domain_id, Callback.number == number,
                Callback.status.in_(("scheduled", *rules.ACTIVE))))
            if pending is not None:
                log.info("callback.duplicate_request", extra={"domain": slug, "callback": pending})
                self.publish(slug, events.DUPLICATE, {"id": pending, "number": number, "queue": queue_name})
                return
            cb = Callback(domain_id=domain_id, kind="in_queue", number=number, at=now, queue=queue_name,
                          note="", offline_to_queue=True, status="scheduled", request_id=request,
                          position=position, expires_at=now + timedelta(seconds=queue.callback_expiry))
            s.add(cb)
            try:
                await s.commit()
            except IntegrityError:
                return  # the same request stored by a racing replay
            out = view(cb)
        self.publish(slug, events.SCHEDULED, out.model_dump(mode="json"))
        await self.run(cb.id, position=position)

    async def _finish(self, slug: str, callback_id: int, status: str, outcome: str) -> None:
        async with self.sessions() as s:
            cb = await s.get(Callback, callback_id)
            if cb is None:
                return
            cb.status, cb.outcome, cb.ended_at = status, outcome, self.clock()
            await s.commit()
            out = view(cb)
        self.publish(slug, events.FAILED if status == "failed" else events.COMPLETED, out.model_dump(mode="json"))


def _epoch(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC) if value not in (None, "") else None
    except (ValueError, OverflowError, OSError):
        return None


__all__ = ["CallbackService", "reap_callbacks", "run_callback", "view"]
