"""Attendances: every agent answer (a queue's AgentConnect, or a transfer's
target answering) opens an attendance with a new protocol; the end of that
agent's leg (the caller hangs up, the agent hangs up, or the agent transfers)
closes it with the talk time. Fed by the call tracker's domain events on the
bus, written in order by one task; ``attendance.started`` on the live feed
tells the agent the protocol as the call connects.

Protocol sequences are allocated in the database, in the transaction that
stores the attendance: the day's counter row is created if missing (ON
CONFLICT DO NOTHING) and incremented with UPDATE ... RETURNING, which
PostgreSQL serialises with the row lock and SQLite with its write lock, so
concurrent answers (or replicas) never get the same number.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...aio import cancel_and_wait
from ...errors import Forbidden, NotFound, ValidationFailed
from ...web.context import READ_ROLES, Principal
from ..calls.events import CallEvent, LegAnswered, LegEnded
from ..common import iso
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..queues.models import Queue
from .domain import may_qualify, protocol_day, protocol_number
from .models import Attendance, ProtocolCounter

ZONE_TTL = 60.0  # seconds a domain's time zone is kept before it is read again
log = logging.getLogger("ccplane.attendances")

Publish = Callable[[str, str, dict[str, Any]], None]

BATCH_MAX = 200  # events written in one transaction at most
# a write follows another within BUSY_WITHIN s: wait GATHER s for more events first (an
# answer alone, at a quiet time, is written at once)
BUSY_WITHIN, GATHER = 1.0, 0.4  # under load: a batch every ~0.5 s instead of ~0.2 s


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, timezone.utc) if value is not None else None


def view(a: Attendance) -> dict[str, Any]:
    return {"protocol": a.protocol, "call": a.call_id, "agent": a.agent, "queue": a.queue,
            "started_at": iso(a.started_at), "ended_at": iso(a.ended_at), "talk_time": a.talk_time,
            "end_reason": a.end_reason, "disposition": a.disposition, "description": a.description,
            "qualified_by": a.qualified_by, "qualified_at": iso(a.qualified_at)}


async def allocate(s: AsyncSession, domain_id: int, day: str) -> str:
    """The next protocol of the domain's day, inside the caller's transaction."""
    return (await allocate_many(s, domain_id, day, 1))[0]


async def allocate_many(s: AsyncSession, domain_id: int, day: str, count: int) -> list[str]:
    """The next ``count`` protocols of the domain's day, in order, inside the caller's
    transaction: one counter UPDATE for all of them."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    await s.execute(insert(ProtocolCounter).values(domain_id=domain_id, day=day, last=0)
                    .on_conflict_do_nothing(index_elements=["domain_id", "day"]))
    last = await s.scalar(update(ProtocolCounter)
                          .where(ProtocolCounter.domain_id == domain_id, ProtocolCounter.day == day)
                          .values(last=ProtocolCounter.last + count).returning(ProtocolCounter.last))
    assert last is not None
    first = int(last) - count + 1
    return [protocol_number(day, first + i) for i in range(count)]


class AttendanceService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], publish: Publish) -> None:
        self.sessions = sessions
        self.publish = publish
        self._queue: asyncio.Queue[CallEvent | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._domain_ids: dict[str, tuple[int, str, float]] = {}  # slug -> (id, time zone, read at)
        self.current: dict[str, str] = {}  # call id -> the protocol of its attendance in progress
        self._open: dict[tuple[str, str], str] = {}  # (call, agent leg uniqueid) -> protocol
        self.failures = 0
        self._busy = False  # events taken from the queue and not yet written
        # (agent leg uniqueid, protocol) once an attendance is stored: recordings take its protocol
        self.started_listeners: list[Callable[[str, str], None]] = []

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="attendances")

    async def stop(self) -> None:
        if self._task is not None:
            self._queue.put_nowait(None)
            try:
                async with asyncio.timeout(5):
                    await asyncio.shield(self._task)
            except (TimeoutError, Exception):  # noqa: BLE001
                await cancel_and_wait([self._task], "attendances")

    def on_event(self, event: CallEvent) -> None:
        """Sync, from the bus: agent answers and the end of agent legs, in order."""
        if event.domain is None:
            return
        if isinstance(event, (LegAnswered, LegEnded)) and event.kind == "agent":
            self._queue.put_nowait(event)

    async def idle(self) -> None:
        """Every event received so far is written (tests, shutdown)."""
        while not self._queue.empty() or self._busy:
            await asyncio.sleep(0.02)

    async def _run(self) -> None:
        """Writes what has queued up since the last write in one transaction (at a
        quiet time an event alone is written at once; when busy, after GATHER s); a batch
        that fails for another reason than a busy database is written again event
        by event, so one bad event does not stop the others."""
        last_write = float("-inf")
        loop = asyncio.get_running_loop()
        while True:
            batch: list[CallEvent] = []
            self._busy = False
            event = await self._queue.get()
            self._busy = True
            if event is not None and loop.time() - last_write < BUSY_WITHIN:
                await asyncio.sleep(GATHER)  # busy: let a batch form (each write costs the same)
            while event is not None:
                batch.append(event)
                if self._queue.empty() or len(batch) >= BATCH_MAX:
                    break
                event = self._queue.get_nowait()
            if batch:
                await self._write_batch(batch)
                last_write = loop.time()
            if event is None:
                return

    async def _write_batch(self, batch: list[CallEvent]) -> None:
        for attempt in range(5):
            try:
                await self._write_many(batch)
                return
            except OperationalError as exc:
                log.warning("attendances.retry attempt=%d events=%d: %s", attempt + 1, len(batch), exc)
                await asyncio.sleep(0.1 * 2 ** attempt)
            except Exception:  # noqa: BLE001 - e.g. another replica stored one: event by event
                log.info("attendances.batch_fallback events=%d", len(batch), exc_info=True)
                break
        for event in batch:
            await self._write_one(event)

    async def _write_one(self, event: CallEvent) -> None:
        for attempt in range(5):
            try:
                if isinstance(event, LegAnswered):
                    await self._open_attendance(event)
                elif isinstance(event, LegEnded):
                    await self._close_attendance(event)
                return
            except OperationalError as exc:
                log.warning("attendances.retry attempt=%d: %s", attempt + 1, exc)
                await asyncio.sleep(0.1 * 2 ** attempt)
            except Exception:  # noqa: BLE001 - one bad event must not stop the others
                self.failures += 1
                log.exception("attendances.failed call=%s", event.call_id)
                return

    async def _write_many(self, batch: list[CallEvent]) -> None:
        """The batch's attendances opened and closed in one transaction, with one
        protocol counter update per domain and day; the effects (feed, listeners,
        in-memory maps) follow the commit, in the events' order."""
        async with self.sessions() as s:
            opens = [e for e in batch if isinstance(e, LegAnswered) and e.domain is not None]
            call_ids = {e.call_id for e in batch}
            rows: dict[tuple[str, str], Attendance] = {}
            for row in await s.scalars(select(Attendance).where(Attendance.call_id.in_(call_ids))):
                if row.leg_uniqueid is not None:
                    rows[(row.call_id, row.leg_uniqueid)] = row
            new: dict[tuple[int, str], list[LegAnswered]] = {}
            for e in opens:
                known = await self._domain(s, e.domain or "")
                if known is not None and (e.call_id, e.uniqueid) not in rows:
                    domain_id, zone = known  # the protocol's day is the domain's day
                    group = new.setdefault((domain_id, protocol_day(e.at, zone)), [])
                    if all(o.uniqueid != e.uniqueid or o.call_id != e.call_id for o in group):
                        group.append(e)
            added = []
            for (domain_id, day), events in new.items():
                for e, protocol in zip(events, await allocate_many(s, domain_id, day, len(events))):
                    row = Attendance(domain_id=domain_id, protocol=protocol, call_id=e.call_id,
                                     leg_uniqueid=e.uniqueid, agent=e.agent, queue=e.queue, started_at=_ts(e.at))
                    rows[(e.call_id, e.uniqueid)] = row
                    added.append(row)
            effects: list[tuple[CallEvent, Attendance, dict[str, Any]]] = []
            closed: set[tuple[str, str]] = set()
            for e in batch:
                if e.domain is None:
                    continue
                key = (e.call_id, getattr(e, "uniqueid", ""))
                if isinstance(e, LegAnswered):
                    if (row := rows.get(key)) is not None:
                        effects.append((e, row, {}))
                elif isinstance(e, LegEnded) and e.answered_at is not None:
                    row = rows.get(key)
                    known = self._open.get(key)
                    if row is None or (known and row.protocol != known) or row.ended_at is not None \
                            or key in closed:
                        continue
                    row.ended_at = _ts(e.at)
                    row.talk_time = round(max(0.0, e.at - e.answered_at), 3)
                    row.end_reason = e.reason[:32]
                    closed.add(key)
                    effects.append((e, row, {}))
            if added:  # one executemany (Core, every column), closed ones already with their end
                columns = [c.name for c in Attendance.__table__.columns if c.name != "id"]
                await s.execute(insert(Attendance.__table__),
                                [{c: getattr(row, c) for c in columns} for row in added])
            await s.commit()
            done = [(e, row, view(row)) for e, row, _ in effects]
        for e, row, data in done:
            assert e.domain is not None
            if isinstance(e, LegAnswered):
                self.current[e.call_id] = row.protocol
                self._open[(e.call_id, e.uniqueid)] = row.protocol
                log.info("attendances.started protocol=%s call=%s agent=%s", row.protocol, e.call_id, e.agent,
                         extra={"call": e.call_id, "domain": e.domain})
                self.publish(e.domain, "attendance.started", data)
                for listener in self.started_listeners:
                    listener(e.uniqueid, row.protocol)
            elif isinstance(e, LegEnded):
                self._open.pop((e.call_id, e.uniqueid), None)
                if self.current.get(e.call_id) == data["protocol"]:
                    self.current.pop(e.call_id, None)
                self.publish(e.domain, "attendance.ended", data)

    async def _domain_id(self, s: AsyncSession, slug: str) -> int | None:
        known = await self._domain(s, slug)
        return known[0] if known else None

    async def _domain(self, s: AsyncSession, slug: str) -> tuple[int, str] | None:
        """(id, time zone) of a domain, read again after a minute (a changed zone follows)."""
        cached = self._domain_ids.get(slug)
        if cached is None or time.monotonic() - cached[2] > ZONE_TTL:
            found = (await s.execute(select(Domain.id, Domain.timezone).where(Domain.slug == slug))).first()
            if found is None:
                return None
            cached = self._domain_ids[slug] = (found[0], found[1], time.monotonic())
        return cached[0], cached[1]

    async def _open_attendance(self, e: LegAnswered) -> None:
        assert e.domain is not None
        async with self.sessions() as s:
            known = await self._domain(s, e.domain)
            if known is None:
                return
            domain_id, zone = known
            existing = await s.scalar(select(Attendance).where(Attendance.call_id == e.call_id,
                                                               Attendance.leg_uniqueid == e.uniqueid))
            if existing is None:  # another replica may have stored it already
                protocol = await allocate(s, domain_id, protocol_day(e.at, zone))
                row = Attendance(domain_id=domain_id, protocol=protocol, call_id=e.call_id, leg_uniqueid=e.uniqueid,
                                 agent=e.agent, queue=e.queue, started_at=_ts(e.at))
                s.add(row)
                try:
                    await s.commit()
                except IntegrityError:
                    await s.rollback()
                    row = await s.scalar(select(Attendance).where(Attendance.call_id == e.call_id,
                                                                  Attendance.leg_uniqueid == e.uniqueid))
                    if row is None:
                        raise
            else:
                row = existing
        self.current[e.call_id] = row.protocol
        self._open[(e.call_id, e.uniqueid)] = row.protocol
        log.info("attendances.started protocol=%s call=%s agent=%s", row.protocol, e.call_id, e.agent,
                 extra={"call": e.call_id, "domain": e.domain})
        self.publish(e.domain, "attendance.started", view(row))
        for listener in self.started_listeners:
            listener(e.uniqueid, row.protocol)

    async def _close_attendance(self, e: LegEnded) -> None:
        assert e.domain is not None
        if e.answered_at is None:
            return
        protocol = self._open.pop((e.call_id, e.uniqueid), None)
        async with self.sessions() as s:
            where = [Attendance.call_id == e.call_id]
            where.append(Attendance.protocol == protocol if protocol else Attendance.leg_uniqueid == e.uniqueid)
            row = await s.scalar(select(Attendance).where(*where))
            if row is None or row.ended_at is not None:
                return
            row.ended_at = _ts(e.at)
            row.talk_time = round(max(0.0, e.at - e.answered_at), 3)
            row.end_reason = e.reason[:32]
            await s.commit()
            data = view(row)
        if self.current.get(e.call_id) == data["protocol"]:
            self.current.pop(e.call_id, None)
        self.publish(e.domain, "attendance.ended", data)

    # -- reads -----------------------------------------------------------------------
    def protocol_of(self, call_id: str) -> str | None:
        return self.current.get(call_id)

    async def protocols(self, domain_id: int, call_id: str) -> list[str]:
        async with self.sessions() as s:
            return list(await s.scalars(select(Attendance.protocol).where(
                Attendance.domain_id == domain_id, Attendance.call_id == call_id).order_by(Attendance.protocol)))

    async def list(self, me: Principal, slug: str, *, start: datetime | None, end: datetime | None,
                   agent: str | None, queue: str | None, protocol: str | None, call: str | None,
                   limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if me.role not in READ_ROLES:
                agent = me.username  # an agent sees the attendances they handled
            where = [Attendance.domain_id == domain.id]
            if start is not None:
                where.append(Attendance.started_at >= start)
            if end is not None:
                where.append(Attendance.started_at < end)
            if agent is not None:
                where.append(Attendance.agent == agent)
            if queue is not None:
                where.append(Attendance.queue == queue)
            if protocol is not None:
                where.append(Attendance.protocol == protocol)
            if call is not None:
                where.append(Attendance.call_id == call)
            total = await s.scalar(select(func.count()).select_from(Attendance).where(*where)) or 0
            rows = await s.scalars(select(Attendance).where(*where)
                                   .order_by(Attendance.protocol.desc()).limit(limit).offset(offset))
            return [view(r) for r in rows], int(total)

    async def qualify(self, me: Principal, slug: str, protocol: str, disposition: str,
                      description: str | None) -> dict[str, Any]:
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            row = await s.scalar(select(Attendance).where(Attendance.domain_id == domain.id,
                                                          Attendance.protocol == protocol))
            if row is None:
                raise NotFound(f"no attendance with protocol {protocol} in domain {domain.slug}", field="protocol")
            if not may_qualify(me.role, me.username, row.agent, frozenset(READ_ROLES)):
                raise Forbidden(f"only the agent who handled protocol {protocol} (or a supervisor) may qualify it")
            allowed: list[str] = []
            if row.queue:
                queue = await s.scalar(select(Queue).where(Queue.domain_id == domain.id, Queue.name == row.queue))
                allowed = list(queue.dispositions or []) if queue is not None else []
            if disposition not in allowed:
                listed = ", ".join(allowed) if allowed else "none"
                raise ValidationFailed(f"disposition {disposition!r} is not one of queue {row.queue}'s "
                                       f"dispositions ({listed})", field="disposition")
            row.disposition, row.description = disposition, description
            row.qualified_by, row.qualified_at = me.username, datetime.now(timezone.utc)
            await s.commit()
            out = view(row)
        self.publish(slug, "attendance.qualified", out)
        return out
