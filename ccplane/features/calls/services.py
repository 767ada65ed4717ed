"""Calls: runs the call tracker on AMI events, publishes its domain events on
the bus, keeps every journey in the database and answers the calls API.

Journeys are written behind the calls, in batches (one transaction per
flush), from the tracker's own state: a call is written when it starts (once
its domain is known), as it changes and when it ends, so a call that is up
when ccplane dies is in the database and is taken back at the next resync.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any, cast
from urllib.parse import unquote

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...aio import cancel_and_wait
from ...asterisk.ami import AmiClient
from ...asterisk.events import AmiEvent, CoreShowChannel
from ...bus import EventBus
from ...db.fit import fit, string_lengths
from ...errors import AsteriskError, NotFound
from ...web.context import READ_ROLES, Principal
from ..domains.models import Domain
from ..common import as_utc, iso
from ..domains.services import resolve_domain
from ..steps import JOURNEY_RECORD, OUTBOX
from .domain import Call, CallTracker, Directory, Leg
from .models import CallLeg, CallRecord

log = logging.getLogger("ccplane.calls")

# Seconds between journey writes (a batch per flush): a call changes a dozen
# times in its first seconds; written once a second, most calls are written at
# start, at answer and at end. What a kill -9 loses of the last second is taken
# back from Asterisk at the resync (CoreShowChannels, the outbox records).
FLUSH_INTERVAL = 1.0
WRITE_CHUNK = 200  # call ids per DELETE ... IN (SQLite's bound-parameter limit stays far)
_RECORD_VALUES = ("domain_id", "direction", "status", "state", "caller", "caller_name", "did", "queue", "agent",
                  "alert_id", "started_at", "answered_at", "ended_at", "end_reason", "wait_seconds", "talk_seconds",
                  "transferred", "ring_seconds", "queue_position")
_RECORD_LENGTHS = string_lengths(CallRecord.__table__)
_LEG_LENGTHS = string_lengths(CallLeg.__table__)


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, timezone.utc) if value is not None else None


def _epoch(value: datetime | None) -> float | None:
    v = as_utc(value)
    return v.timestamp() if v else None


def _insert_for(s: AsyncSession) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (SQLite and PostgreSQL alike)."""
    if s.get_bind().dialect.name == "postgresql":
        return pg_insert
    return sqlite_insert


def report_flags(call: Call) -> dict[str, Any]:
    """What the reports read on the call row instead of its legs: a transfer leg, the offer
    legs' ring time summed (in stored microseconds, as the legs' own times give it), and the
    caller's place in line when it joined its (last) queue."""
    rings = [(_ts(leg.ended_at) - _ts(leg.started_at)).total_seconds()  # type: ignore[operator]
             for leg in call.legs if leg.kind == "offer" and leg.ended_at is not None]
    queues = [leg for leg in call.legs if leg.kind == "queue" and not leg.consult]
    return {"transferred": any(leg.kind == "transfer" for leg in call.legs),
            "ring_seconds": round(sum(rings), 6) if rings else None,
            "queue_position": queues[-1].position if queues else None}


def call_times(call: Call) -> tuple[float | None, float | None]:
    """(wait, talk) seconds: queue wait up to the answer or exit; talk of every answered leg."""
    wait = sum(((leg.ended_at or call.ended_at or time.time()) - leg.started_at)
               for leg in call.legs if leg.kind == "queue") if any(l.kind == "queue" for l in call.legs) else None
    talked = [leg for leg in call.legs if leg.kind in ("agent", "extension", "external") and leg.answered_at]
    talk = sum(((leg.ended_at or call.ended_at or time.time()) - (leg.answered_at or 0)) for leg in talked) \
        if talked else None
    return (round(wait, 3) if wait is not None else None, round(talk, 3) if talk is not None else None)


class CallService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ami: AmiClient, bus: EventBus,
                 directory: Directory, clock: Callable[[], float] = time.time) -> None:
        self.sessions = sessions
        self.ami = ami
        self.bus = bus
        self.clock = clock
        self.tracker = CallTracker(directory)
        self._dirty: dict[str, Call] = {}
        self._pks: dict[str, int] = {}
        self._domain_ids: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._stopping = False
        self._stop_requested = asyncio.Event()  # cuts the writer's batching nap short
        self.written = 0
        self.write_failures = 0
        self._ended: dict[str, Call] = {}  # recently ended calls, for views of their last events
        self._deleter: asyncio.Task[None] | None = None
        self._to_delete: list[str] = []  # outbox records of stored journeys (<call>-jr)
        self._writing = 0  # calls in the batch being written
        # set by the attendances feature: the protocol of a call's attendance in progress,
        # and every protocol of a call (domain id, call id)
        self.protocol_of: Callable[[str], str | None] = lambda call_id: None
        self.protocols_of: Callable[[int, str], Awaitable[list[str]]] | None = None

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        self._stopping = False
        self._stop_requested.clear()
        self.ami.on_event(self.on_event, names=CallTracker.EVENTS)
        self._writer = asyncio.create_task(self._write_loop(), name="journey-writer")

    async def stop(self) -> None:
        self._stopping = True
        self._stop_requested.set()
        self._wake.set()
        if self._writer is not None:
            try:
                async with asyncio.timeout(5):
                    await asyncio.shield(self._writer)
            except (TimeoutError, Exception):  # noqa: BLE001
                await cancel_and_wait([self._writer], "journey writer")

    # -- events ----------------------------------------------------------------------
    def on_event(self, event: AmiEvent) -> None:
        """Sync, in AMI order."""
        events = self.tracker.handle(event, self.clock())
        self._collect()
        self.bus.publish_all(events)

    def _collect(self) -> None:
        tracker = self.tracker
        for call in tracker.touched:
            if call.domain is not None:
                self._dirty[call.id] = call
            if call.ended_at is not None:
                self._ended[call.id] = call
                if len(self._ended) > 1000:
                    self._ended.pop(next(iter(self._ended)))
        tracker.touched.clear()
        if self._dirty:
            self._wake.set()

    def force_reason(self, uniqueid: str | None, reason: str) -> None:
        self.tracker.force_reason(uniqueid, reason)

    # -- writing ---------------------------------------------------------------------
    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._stopping:  # gather a batch, unless ccplane stops meanwhile
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(FLUSH_INTERVAL):
                        await self._stop_requested.wait()
            written = await self.flush()
            if self._stopping and (not self._dirty or not written):
                # what could not be written now is still in Asterisk's outbox (AstDB):
                # the next start's resync records it; stopping never waits on a sick database
                return

    async def flush(self) -> bool:
        """Write what changed; False when some calls are kept for a later try."""
        if not self._dirty:
            return True
        batch, self._dirty = self._dirty, {}
        self._writing = len(batch)
        try:
            return await self._write_batch(batch)
        finally:
            self._writing = 0

    async def _write_batch(self, batch: dict[str, Call]) -> bool:
        for attempt in range(6):
            try:
                await self._write(list(batch.values()))
                self.written += len(batch)
                self._to_delete += [f"{c.id}-jr" for c in batch.values() if c.ended_at is not None]
                if self._to_delete and (self._deleter is None or self._deleter.done()):
                    self._deleter = asyncio.create_task(self._delete_records(), name="journey-outbox-delete")
                return True
            except OperationalError as exc:  # busy/locked database, connection lost: retried
                task = asyncio.current_task()
                if task is not None and task.cancelling():  # psycopg reports a cancel as QueryCanceled
                    raise asyncio.CancelledError from exc
                self.write_failures += 1
                log.warning("calls.write_retry attempt=%d calls=%d: %s", attempt + 1, len(batch), exc)
                if self._stopping and attempt >= 1:
                    break
                await asyncio.sleep(min(2.0, 0.1 * 2 ** attempt))
            except Exception:  # noqa: BLE001 - the data of some call: found and set aside below
                self.write_failures += 1
                if len(batch) == 1:
                    # A call the database refuses whatever the moment (never expected: values
                    # are fitted to their columns). Retrying it would block every call written
                    # after it, so it is left out, loudly; its outbox record (if it ended)
                    # stays in AstDB for the next resync.
                    log.exception("calls.write_dropped call=%s", next(iter(batch)))
                    return True
                log.exception("calls.write_failed calls=%d: writing them one by one", len(batch))
                ok = True
                for key, call in batch.items():
                    ok = await self._write_batch({key: call}) and ok
                return ok
        for key, call in batch.items():  # kept for the next flush, never dropped
            self._dirty.setdefault(key, call)
        self._wake.set()
        return False

    async def _delete_records(self) -> None:
        """The journeys are stored: their hangup handlers' records may go."""
        while self._to_delete and not self._stopping:
            key = self._to_delete.pop(0)
            try:
                await self.ami.action({"Action": "DBDel", "Family": OUTBOX, "Key": key})
            except AsteriskError:
                pass  # none (a call that never passed our dialplan), or the link is down: resync reads it again

    async def _domain_id(self, s: AsyncSession, slug: str) -> int | None:
        if slug not in self._domain_ids:
            domain_id = await s.scalar(select(Domain.id).where(Domain.slug == slug))
            if domain_id is None:
                return None
            self._domain_ids[slug] = domain_id
        return self._domain_ids[slug]

    async def _write(self, calls: list[Call]) -> None:
        """One transaction for the batch, in a handful of Core statements whatever its
        size (no ORM objects): new calls in one executemany upsert RETURNING their ids,
        known ones in one executemany UPDATE, their legs replaced by one DELETE and one
        executemany INSERT."""
        pks: dict[str, int | None] = {}
        async with self.sessions() as s:
            new: list[dict[str, Any]] = []
            known: list[dict[str, Any]] = []
            legs_of: list[tuple[Call, int | None]] = []
            for call in calls:
                domain_id = await self._domain_id(s, call.domain or "")
                if domain_id is None:
                    continue
                pk = self._pks.get(call.id)
                wait, talk = call_times(call)
                values = dict(domain_id=domain_id, direction=call.direction,
                              status="ended" if call.ended_at else "active", state=call.state, caller=call.caller,
                              caller_name=call.caller_name or None, did=call.did,
                              queue=call.queue, agent=call.agent, alert_id=call.alert_id,
                              started_at=_ts(call.started_at), answered_at=_ts(call.answered_at),
                              ended_at=_ts(call.ended_at), end_reason=call.end_reason, wait_seconds=wait,
                              talk_seconds=talk, **report_flags(call))
                fit(_RECORD_LENGTHS, values)
                if pk is None:  # new, or written before by a process that is gone: an upsert either way
                    new.append(dict(call_id=call.id, source=call.source, **values))
                else:
                    known.append({"_pk": pk, **{f"v_{k}": v for k, v in values.items()}})
                legs_of.append((call, pk))
            ids: dict[str, int] = {}
            table = cast(Table, CallRecord.__table__)
            if new:  # executemany with RETURNING: one cached statement, rows sent in batches
                upsert = _insert_for(s)(table)
                upsert = upsert.on_conflict_do_update(index_elements=[table.c.call_id],
                                                      set_={k: upsert.excluded[k] for k in _RECORD_VALUES})
                for pk, call_id in await s.execute(upsert.returning(table.c.id, table.c.call_id), new):
                    ids[call_id] = int(pk)
            if known:
                await s.execute(update(table).where(table.c.id == bindparam("_pk"))
                                .values({k: bindparam(f"v_{k}") for k in _RECORD_VALUES}), known)
            written = [(call, pk if pk is not None else ids[call.id]) for call, pk in legs_of]
            stale = [pk for _, pk in written]
            for start in range(0, len(stale), WRITE_CHUNK):
                await s.execute(delete(CallLeg).where(CallLeg.call_pk.in_(stale[start:start + WRITE_CHUNK])))
            legs = [{"call_pk": pk, "seq": seq, "kind": leg.kind, "queue": leg.queue, "agent": leg.agent,
                     "extension": leg.extension, "number": leg.number, "uniqueid": leg.uniqueid,
                     "started_at": _ts(leg.started_at), "answered_at": _ts(leg.answered_at),
                     "ended_at": _ts(leg.ended_at), "result": leg.result,
                     "detail": leg.detail or None}
                    for call, pk in written for seq, leg in enumerate(call.legs)]
            for leg_row in legs:
                fit(_LEG_LENGTHS, leg_row)
            if legs:  # Core, all columns: the ORM's bulk insert leaves out the None ones and
                # so splits the rows into a statement per run of the same columns
                await s.execute(insert(cast(Table, CallLeg.__table__)), legs)
            await s.commit()
            for call, pk in written:
                pks[call.id] = pk if call.ended_at is None else None
        for call_id, kept in pks.items():  # only once committed: a rolled-back id must not be reused
            if kept is None:
                self._pks.pop(call_id, None)
            else:
                self._pks[call_id] = kept

    # -- resync ----------------------------------------------------------------------
    async def resync(self, channels: list[CoreShowChannel]) -> int:
        """After every AMI (re)connect: calls still up are followed again (taken
        back from the database after a restart); calls that ended unseen are
        ended from the record their hangup handler left in the outbox (or now,
        saying so); a call that began and ended while ccplane was away is
        recorded from that record alone."""
        by_linkedid: dict[str, list[tuple[str, str]]] = {}
        live: dict[str, list[CoreShowChannel]] = {}
        for ch in channels:
            if ch.uniqueid and ch.channel:
                by_linkedid.setdefault(ch.linkedid or ch.uniqueid, []).append((ch.uniqueid, ch.channel))
                live.setdefault(ch.linkedid or ch.uniqueid, []).append(ch)
        records = await self._outbox_records()
        now = self.clock()
        ended = 0
        for call in list(self.tracker.calls.values()):  # a reconnect: what ended while we were away
            if not by_linkedid.get(call.id):
                self.bus.publish_all(self.tracker.end_unseen(call, now, records.pop(call.id, None)))
                ended += 1
        async with self.sessions() as s:
            rows = list(await s.scalars(select(CallRecord).where(CallRecord.status == "active")))
            slugs = {d.id: d.slug for d in await s.scalars(select(Domain))}
            stored = set(await s.scalars(select(CallRecord.call_id).where(
                CallRecord.call_id.in_(list(records) + list(live)))))
            for row in rows:
                if row.call_id in self.tracker.calls:
                    continue
                legs = list(await s.scalars(select(CallLeg).where(CallLeg.call_pk == row.id)
                                            .order_by(CallLeg.seq)))
                call = _call_of(row, legs, slugs.get(row.domain_id))
                self._pks[call.id] = row.id
                alive = by_linkedid.get(call.id, [])
                self.tracker.adopt(call, alive)
                if alive:
                    log.info("calls.adopted call=%s channels=%d", call.id, len(alive))
                else:
                    self.bus.publish_all(self.tracker.end_unseen(call, now, records.pop(call.id, None)))
                    ended += 1
        for call_id, up in live.items():  # began while ccplane was away and is still up: follow it from now
            if call_id not in self.tracker.calls and call_id not in stored:
                self.bus.publish_all(self.tracker.adopt_live(call_id, up, now))
        for call_id, record in records.items():
            if call_id in stored or call_id in self.tracker.calls:
                self._to_delete.append(f"{call_id}-jr")  # already complete (or followed live)
                continue
            recorded = self.tracker.from_record(call_id, record)
            if recorded is not None:
                self.bus.publish_all(self.tracker.end_unseen(recorded, float(record.get("At") or now), record))
                ended += 1
        self._collect()
        return ended

    async def _outbox_records(self) -> dict[str, dict[str, str]]:
        try:
            items = await self.ami.action({"Action": "DBGetTree", "Family": OUTBOX})
        except AsteriskError as exc:
            log.warning("calls.outbox_unreadable: %s", exc)
            return {}
        records: dict[str, dict[str, str]] = {}
        for item in items:
            value = str(item.get("Val", ""))
            if item.get("Event") != "DBGetTreeResponse" or not value.startswith(JOURNEY_RECORD + "|"):
                continue
            fields = {}
            for pair in value.split("|")[1:]:
                key, sep, raw = pair.partition("=")
                if sep:
                    fields[key] = unquote(raw)
            if fields.get("Linkedid"):
                records[fields["Linkedid"]] = fields
        return records

    # -- reads -----------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Journeys changed and not yet committed (waiting, or in the write under way)."""
        return len(self._dirty) + self._writing

    def view(self, call_id: str) -> dict[str, Any] | None:
        call = self.tracker.calls.get(call_id) or self._ended.get(call_id)
        return self._live_view(call) if call else None

    def _live_view(self, call: Call) -> dict[str, Any]:
        view = live_view(call)
        view["protocol"] = self.protocol_of(call.id)
        return view

    def waiting(self, slug: str, queue: str) -> int:
        """Callers waiting in one queue now."""
        return sum(1 for c in self.tracker.active(slug) if (leg := c.open_leg("queue")) and leg.queue == queue)

    def queue_view(self, slug: str) -> list[dict[str, Any]]:
        """Callers waiting in each queue of the domain, longest wait first."""
        waiting: dict[str, list[dict[str, Any]]] = {}
        for call in sorted(self.tracker.active(slug), key=lambda c: c.started_at):
            leg = call.open_leg("queue")
            if leg is not None and leg.queue:
                waiting.setdefault(leg.queue, []).append(
                    {"call": call.id, "caller": call.caller, "since": iso(_ts(leg.started_at))})
        return [{"queue": q, "waiting": len(c), "callers": c} for q, c in sorted(waiting.items())]

    def active_view(self, slug: str) -> list[dict[str, Any]]:
        return [self._live_view(c) for c in sorted(self.tracker.active(slug), key=lambda c: c.started_at)]

    async def list(self, me: Principal, slug: str, status: str, *, start: datetime | None, end: datetime | None,
                   queue: str | None, agent: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
        if me.role not in READ_ROLES:
            agent = me.username  # an agent sees the calls they took
        if status == "active":
            items = [v for v in self.active_view(domain.slug)
                     if (queue is None or v["queue"] == queue) and (agent is None or v["agent"] == agent)]
            return items[offset:offset + limit], len(items)
        where = [CallRecord.domain_id == domain.id, CallRecord.status == "ended"]
        if start is not None:
            where.append(CallRecord.started_at >= start)
        if end is not None:
            where.append(CallRecord.started_at < end)
        if queue is not None:
            where.append(CallRecord.queue == queue)
        if agent is not None:
            where.append(CallRecord.id.in_(select(CallLeg.call_pk).where(CallLeg.agent == agent)))
        async with self.sessions() as s:
            total = await s.scalar(select(func.count()).select_from(CallRecord).where(*where)) or 0
            rows = await s.scalars(select(CallRecord).where(*where)
                                   .order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
                                   .limit(limit).offset(offset))
            return [record_view(r) for r in rows], total

    async def get(self, me: Principal, slug: str, call_id: str) -> dict[str, Any]:
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            live = self.tracker.calls.get(call_id)
            if live is not None and live.domain == domain.slug:
                view = self._live_view(live)
                view["legs"] = [_leg_view(leg) for leg in live.legs]
            else:
                row = await s.scalar(select(CallRecord).where(CallRecord.call_id == call_id,
                                                              CallRecord.domain_id == domain.id))
                if row is None:
                    raise NotFound(f"no call {call_id} in domain {domain.slug}")
                view = record_view(row)
                legs = await s.scalars(select(CallLeg).where(CallLeg.call_pk == row.id).order_by(CallLeg.seq))
                view["legs"] = [_row_leg_view(leg) for leg in legs]
        if me.role not in READ_ROLES and not any(leg.get("agent") == me.username for leg in view["legs"]):
            raise NotFound(f"no call {call_id} in domain {domain.slug}")
        view["protocols"] = await self.protocols_of(domain.id, call_id) if self.protocols_of else []
        if view.get("protocol") is None and view["protocols"]:
            view["protocol"] = view["protocols"][-1]
        view.setdefault("recordings", [])
        return view

    async def hangup(self, me: Principal, slug: str, call_id: str) -> None:
        me.require(READ_ROLES, "hang up calls")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
        call = self.tracker.calls.get(call_id)
        if call is None or call.domain != domain.slug:
            raise NotFound(f"no active call {call_id} in domain {domain.slug}")
        for name in self.tracker.channel_names(call):
            try:
                await self.ami.action({"Action": "Hangup", "Channel": name, "Cause": "16"})
            except AsteriskError as exc:  # already gone
                log.info("calls.hangup_skipped %s: %s", name, exc)


def live_view(call: Call) -> dict[str, Any]:
    wait, talk = call_times(call)
    return {"id": call.id, "protocol": None, "caller": call.caller, "caller_name": call.caller_name,
            "queue": call.queue, "agent": call.agent, "state": call.state, "direction": call.direction,
            "did": call.did, "started_at": iso(_ts(call.started_at)), "answered_at": iso(_ts(call.answered_at)),
            "ended_at": iso(_ts(call.ended_at)), "ended_reason": call.end_reason, "alert": call.alert_id,
            "wait_time": wait, "talk_time": talk}


def record_view(row: CallRecord) -> dict[str, Any]:
    return {"id": row.call_id, "protocol": None, "caller": row.caller, "caller_name": row.caller_name,
            "queue": row.queue, "agent": row.agent, "state": row.state, "direction": row.direction, "did": row.did,
            "started_at": iso(row.started_at), "answered_at": iso(row.answered_at), "ended_at": iso(row.ended_at),
            "ended_reason": row.end_reason, "alert": row.alert_id, "wait_time": row.wait_seconds,
            "talk_time": row.talk_seconds}


def _leg_view(leg: Leg) -> dict[str, Any]:
    return {"kind": leg.kind, "agent": leg.agent, "extension": leg.extension, "queue": leg.queue,
            "number": leg.number, "started_at": iso(_ts(leg.started_at)), "answered_at": iso(_ts(leg.answered_at)),
            "ended_at": iso(_ts(leg.ended_at)), "result": leg.result, "detail": leg.detail}


def _row_leg_view(leg: CallLeg) -> dict[str, Any]:
    return {"kind": leg.kind, "agent": leg.agent, "extension": leg.extension, "queue": leg.queue,
            "number": leg.number, "started_at": iso(leg.started_at), "answered_at": iso(leg.answered_at),
            "ended_at": iso(leg.ended_at), "result": leg.result, "detail": leg.detail}


def _call_of(row: CallRecord, legs: list[CallLeg], slug: str | None) -> Call:
    call = Call(id=row.call_id, started_at=_epoch(row.started_at) or 0.0, direction=row.direction, domain=slug,
                caller=row.caller, caller_name=row.caller_name, did=row.did,
                answered_at=_epoch(row.answered_at), alert_id=row.alert_id, state=row.state)
    call.source = "resync"
    for leg in legs:
        call.legs.append(Leg(leg.kind, _epoch(leg.started_at) or 0.0, uniqueid=leg.uniqueid, queue=leg.queue,
                             agent=leg.agent, extension=leg.extension, number=leg.number,
                             answered_at=_epoch(leg.answered_at), ended_at=_epoch(leg.ended_at), result=leg.result,
                             detail=leg.detail))
    return call
