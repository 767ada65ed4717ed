"""Recordings: stored from what the dialplan reports, finished from the files
Asterisk leaves, listed and played under the monitoring groups' rule.

- A start is reported by the dialplan (``CcplaneRecording``: UserEvent, and
  AstDB family ``ccplane-recordings`` first): one row, status ``recording``,
  linked to the call, the agent leg (its channel's uniqueid; the agent's
  username from the tracker's ``LegAnswered``, or from the stored journey),
  the queue. The AstDB entry is deleted once the row is stored; what is left
  there is stored at every resync (a call recorded while ccplane was away).
- A file in ``<monitor_dir>/ccplane/done/`` is finished (the MixMonitor command
  moved it there): it is moved into ``recordings.dir`` and its row gets size,
  duration and ``ready``. Looked for every ``recordings.poll_interval``.
- The consultation of an attended transfer stops at the transfer (AMI
  StopMixMonitor on the consultation's channel, when the transferring agent's
  leg ends by transfer); the attendance goes on with the caller.
- Retention: one scheduler job per domain with a retention
  (``recordings.purge.<domain id>``) deletes files and rows past it, then
  schedules itself for the next one due (a day later at most).
"""
from __future__ import annotations

import asyncio
import builtins
import logging
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...aio import cancel_and_wait
from ...background import watch
from ...asterisk.ami import AmiClient
from ...errors import AsteriskError, NotFound
from ...scheduler import Scheduler, service
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..agents.models import AgentSession
from ..calls import events as ev
from ..calls.models import CallLeg
from ..common import as_utc
from ..attendances.models import Attendance
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..extensions.models import Extension
from ..monitoring_groups.services import covered_queues
from ..users.models import User
from . import store
from .domain import Audience, RecordingReport, parse_outbox_value, parse_report, purge_before, wav_duration
from .models import Recording, RecordingPolicy
from .schemas import RecordingOut, RecordingQuery

log = logging.getLogger("ccplane.recordings")

OUTBOX = "ccplane-recordings"  # AstDB family the dialplan reports starts to
USER_EVENT = "CcplaneRecording"
PURGE_PREFIX = "recordings.purge."
PURGE_AT_MOST_EVERY = timedelta(days=1)
# recordings without a protocol looked up at start: an attendance comes within seconds of
# its recording, so older ones will not get one
UNLINKED_WINDOW = timedelta(days=1)


async def purge_domain(domain_id: int) -> None:
    """The scheduler's job (module-level, plain arguments)."""
    await service("recordings").purge(domain_id)


def _ts(at: float | None) -> datetime:
    return datetime.fromtimestamp(at, timezone.utc) if at is not None else datetime.now(timezone.utc)


class RecordingService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ami: AmiClient, scheduler: Scheduler,
                 monitor_dir: Path | None, store_dir: Path, poll_interval: float = 1.0) -> None:
        self.sessions = sessions
        self.ami = ami
        self.scheduler = scheduler
        self.monitor_dir = monitor_dir
        self.store_dir = store_dir
        self.poll_interval = poll_interval
        self.reports: asyncio.Queue[tuple[dict[str, str], str | None]] = asyncio.Queue()
        self._agents: OrderedDict[str, str] = OrderedDict()  # agent leg uniqueid -> username (recent)
        self._tasks: list[asyncio.Task[None]] = []
        self._stops: set[asyncio.Task[None]] = set()
        self.finished = 0  # files moved into the store since start
        self._wake = asyncio.Event()
        self._protocols: dict[str, str] = {}  # agent leg uniqueid -> protocol, to write on recordings
        self._protocol_task: asyncio.Future[None] | None = None
        self._known: OrderedDict[str, str] = OrderedDict()  # agent leg uniqueid -> protocol (recent)
        # agent legs with a recording stored without its protocol (the attendance came later):
        # only these need the UPDATE when their protocol is known. None: not read yet
        # (every protocol is then written, as before)
        self._unlinked: OrderedDict[str, None] | None = None

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        try:  # recordings an earlier process stored before their attendance
            async with self.sessions() as s:
                legs = await s.scalars(select(Recording.agent_uniqueid).where(
                    Recording.protocol.is_(None), Recording.agent_uniqueid.is_not(None),
                    Recording.started_at >= datetime.now(timezone.utc) - UNLINKED_WINDOW))
                self._unlinked = OrderedDict.fromkeys(str(leg) for leg in legs)
        except Exception:  # noqa: BLE001 - then every protocol is written, as before
            log.warning("recordings.unlinked_unknown", exc_info=True)
            self._unlinked = None
        self._tasks = [asyncio.create_task(self._store_reports(), name="recordings-reports"),
                       asyncio.create_task(self._finish_loop(), name="recordings-finish")]

    async def stop(self) -> None:
        await cancel_and_wait([*self._tasks, *self._stops], "recordings")
        self._tasks = []

    async def resync(self) -> None:
        """Reports left in AstDB while nobody listened."""
        items = await self.ami.action({"Action": "DBGetTree", "Family": OUTBOX})
        count = 0
        for item in items:
            if item.get("Event") != "DBGetTreeResponse":
                continue
            key = str(item.get("Key", "")).rsplit("/", 1)[-1]
            self.reports.put_nowait((parse_outbox_value(str(item.get("Val", ""))), key))
            count += 1
        if count:
            log.info("recordings.outbox_replay entries=%d", count)

    # -- events in -------------------------------------------------------------------
    async def on_report(self, raw: dict[str, Any]) -> None:
        """A live ``CcplaneRecording`` report, handed over by the step recorder
        (features never read raw AMI themselves)."""
        # a key the UserEvent repeats (e.g. its own Channel) arrives as a list: keep the first
        fields = {k: str(v[0] if isinstance(v, list) and v else v) for k, v in raw.items()}
        self.reports.put_nowait((fields, None))

    def on_leg_answered(self, event: ev.LegAnswered) -> None:
        if event.kind == "agent" and event.agent:
            self._agents[event.uniqueid] = event.agent
            while len(self._agents) > 10000:
                self._agents.popitem(last=False)

    def on_leg_ended(self, event: ev.LegEnded) -> None:
        """The transferring agent's leg ended by an attended transfer: the consultation's
        recording stops there (the caller's attendance recording goes on)."""
        if event.kind == "agent" and event.reason == "transfer":
            self._spawn_stop(agent_uniqueid=event.uniqueid, call_id=None)

    def on_transferred(self, event: ev.CallTransferred) -> None:
        if event.mode == "attended" and event.result.lower() == "success":
            self._spawn_stop(agent_uniqueid=None, call_id=event.call_id)

    def _spawn_stop(self, *, agent_uniqueid: str | None, call_id: str | None) -> None:
        task = asyncio.ensure_future(self._stop_consultations(agent_uniqueid, call_id))
        self._stops.add(task)
        task.add_done_callback(self._stops.discard)

    async def _stop_consultations(self, agent_uniqueid: str | None, call_id: str | None) -> None:
        where = [Recording.kind == "consultation", Recording.status == "recording"]
        where.append(Recording.agent_uniqueid == agent_uniqueid if agent_uniqueid else Recording.call_id == call_id)
        async with self.sessions() as s:
            channels = [c for c in await s.scalars(select(Recording.channel).where(*where)) if c]
        for channel in channels:
            try:
                await self.ami.action({"Action": "StopMixMonitor", "Channel": channel})
                log.info("recordings.consultation_stopped channel=%s", channel)
            except AsteriskError as exc:  # already stopped (or gone): the file finishes on its own
                log.info("recordings.consultation_stop_skipped channel=%s: %s", channel, exc)

    # -- starts ----------------------------------------------------------------------
    async def _store_reports(self) -> None:
        while True:
            fields, key = await self.reports.get()
            try:
                report = parse_report(fields, key)
                if report is None:
                    log.warning("recordings.bad_report %s", fields)
                else:
                    await self.store_report(report)
            except Exception:  # noqa: BLE001 - one bad report must not stop the others
                log.exception("recordings.report_failed")
                continue
            ident = key or fields.get("File")
            if ident:
                try:
                    await self.ami.action({"Action": "DBDel", "Family": OUTBOX, "Key": ident})
                except AsteriskError as exc:  # stored again (idempotently) at the next resync
                    log.debug("recordings.outbox_delete_failed key=%s: %s", ident, exc)
            self._wake.set()

    async def store_report(self, report: RecordingReport) -> None:
        """Idempotent: a report seen live and again from AstDB is stored once."""
        async with self.sessions() as s:
            if await s.scalar(select(Recording.id).where(Recording.file == report.file)) is not None:
                return
            domain_id = await s.scalar(select(Domain.id).where(Domain.slug == report.domain))
            if domain_id is None:
                log.warning("recordings.unknown_domain %s", report.domain)
                return
            agent = self._agents.get(report.agent_uniqueid or "") if report.agent_uniqueid else None
            if agent is None and report.agent_extension:  # ccplane was away at the answer
                agent = await s.scalar(select(User.username).join(AgentSession, AgentSession.user_id == User.id)
                                       .join(Extension, Extension.id == AgentSession.extension_id)
                                       .where(Extension.domain_id == domain_id,
                                              Extension.number == report.agent_extension))
            protocol = self._known.get(report.agent_uniqueid or "")
            if protocol is None and report.agent_uniqueid:
                protocol = await s.scalar(select(Attendance.protocol).where(
                    Attendance.leg_uniqueid == report.agent_uniqueid))
            s.add(Recording(domain_id=domain_id, file=report.file, kind=report.kind, call_id=report.call_id,
                            queue=report.queue, agent=agent, agent_uniqueid=report.agent_uniqueid, protocol=protocol,
                            channel=report.channel, status="recording", started_at=_ts(report.at)))
            if protocol is None and report.agent_uniqueid and self._unlinked is not None:
                self._unlinked[report.agent_uniqueid] = None  # before the commit: see protocol_known
                while len(self._unlinked) > 10000:
                    self._unlinked.popitem(last=False)
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()  # stored meanwhile
        late = self._known.get(report.agent_uniqueid or "")
        if protocol is None and late is not None:  # the attendance was stored while this was
            await self.set_protocol(str(report.agent_uniqueid), late)
        log.info("recordings.started file=%s kind=%s", report.file, report.kind, extra={"call": report.call_id})

    # -- finishes --------------------------------------------------------------------
    async def _finish_loop(self) -> None:
        while True:
            try:
                await self.finish_done()
            except Exception:  # noqa: BLE001 - a bad file must not stop the loop
                log.exception("recordings.finish_failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except TimeoutError:
                pass

    async def finish_done(self) -> int:
        """Move every finished file whose start is stored into the store."""
        if self.monitor_dir is None:
            return 0
        folder = store.done_dir(self.monitor_dir)
        try:
            names = sorted(p.name for p in folder.iterdir() if p.suffix == ".wav")
        except FileNotFoundError:
            return 0
        if not names:
            return 0
        async with self.sessions() as s:
            rows = list(await s.scalars(select(Recording).where(Recording.file.in_(names),
                                                                Recording.status == "recording")))
            for row in rows:
                target = store.stored_path(self.store_dir, row.domain_id, row.file)
                await asyncio.to_thread(store.move_into_store, folder / row.file, target)
                header, size, written = await asyncio.to_thread(store.read_header, target)
                row.size = size
                row.duration = wav_duration(header, size)  # seconds of audio (what a player plays)
                row.status = "ready"
                # when MixMonitor closed it (the rename keeps the time), never before the start
                row.ended_at = max(datetime.fromtimestamp(written, timezone.utc),
                                   as_utc(row.started_at) or datetime.now(timezone.utc))
                if row.agent is None and row.agent_uniqueid:
                    row.agent = await s.scalar(select(CallLeg.agent).where(
                        CallLeg.uniqueid == row.agent_uniqueid, CallLeg.agent.is_not(None)).limit(1))
            await s.commit()
        for row in rows:
            log.info("recordings.finished file=%s duration=%s size=%s", row.file, row.duration, row.size,
                     extra={"call": row.call_id})
        self.finished += len(rows)
        return len(rows)

    # -- reading ---------------------------------------------------------------------
    async def _audience(self, s: AsyncSession, me: Principal, domain: Domain) -> Audience:
        covered = await covered_queues(s, domain.id, me.user_id) if me.role == "supervisor" else set()
        return Audience.of(me.role, covered)

    @staticmethod
    def _scope(audience: Audience) -> list[Any]:
        if audience.everything:
            return []
        if not audience.queues:
            return [Recording.id.is_(None)]  # nothing (a where clause that matches no row)
        return [Recording.queue.in_(sorted(audience.queues))]

    def _view(self, row: Recording) -> RecordingOut:
        status = row.status
        if status == "ready" and not store.stored_path(self.store_dir, row.domain_id, row.file).is_file():
            status = "missing"
        return RecordingOut(id=row.id, call=row.call_id, protocol=row.protocol, agent=row.agent, queue=row.queue,
                            kind=row.kind, status=status, started_at=row.started_at, ended_at=row.ended_at,  # type: ignore[arg-type]
                            duration=row.duration, size=row.size)

    async def list(self, me: Principal, slug: str, q: RecordingQuery) -> tuple[builtins.list[RecordingOut], int]:
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            where = [Recording.domain_id == domain.id, *self._scope(await self._audience(s, me, domain))]
            for column, value in ((Recording.call_id, q.call), (Recording.protocol, q.protocol),
                                  (Recording.agent, q.agent), (Recording.queue, q.queue)):
                if value is not None:
                    where.append(column == value)
            if q.from_ is not None:
                where.append(Recording.started_at >= q.from_)
            if q.to is not None:
                where.append(Recording.started_at < q.to)
            total = await s.scalar(select(func.count()).select_from(Recording).where(*where)) or 0
            rows = await s.scalars(select(Recording).where(*where)
                                   .order_by(Recording.started_at.desc(), Recording.id.desc())
                                   .limit(q.limit).offset(q.offset))
            return [self._view(r) for r in rows], total

    async def for_call(self, me: Principal, slug: str, call_id: str) -> builtins.list[RecordingOut]:
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            where = [Recording.domain_id == domain.id, Recording.call_id == call_id,
                     *self._scope(await self._audience(s, me, domain))]
            rows = await s.scalars(select(Recording).where(*where).order_by(Recording.started_at, Recording.id))
            return [self._view(r) for r in rows]

    async def _visible(self, s: AsyncSession, me: Principal, slug: str, recording_id: int) -> Recording:
        domain = await resolve_domain(s, me, slug)
        row = await s.scalar(select(Recording).where(Recording.domain_id == domain.id, Recording.id == recording_id))
        if row is None or not (await self._audience(s, me, domain)).may_see(row.queue):
            raise NotFound(f"recording {recording_id} not found", field="id")
        return row

    async def get(self, me: Principal, slug: str, recording_id: int) -> RecordingOut:
        async with self.sessions() as s:
            return self._view(await self._visible(s, me, slug, recording_id))

    async def audio(self, me: Principal, slug: str, recording_id: int) -> Path:
        """The file to stream; 404 when it is not finished yet or has vanished."""
        async with self.sessions() as s:
            row = await self._visible(s, me, slug, recording_id)
        if row.status != "ready":
            raise NotFound(f"recording {recording_id} is still being recorded", field="id")
        path = store.stored_path(self.store_dir, row.domain_id, row.file)
        if not path.is_file():
            raise NotFound(f"recording {recording_id} is missing: its file is no longer in the store", field="id")
        return path

    # -- retention -------------------------------------------------------------------
    async def policy(self, me: Principal, slug: str) -> int | None:
        me.require(READ_ROLES, "read the recording policy")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            row = await s.get(RecordingPolicy, domain.id)
            return row.retention_days if row else None

    async def set_policy(self, me: Principal, slug: str, retention_days: int | None) -> int | None:
        me.require(ADMIN_ROLES, "change the recording policy")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            row = await s.get(RecordingPolicy, domain.id)
            if row is None:
                s.add(RecordingPolicy(domain_id=domain.id, retention_days=retention_days))
            else:
                row.retention_days = retention_days
            await s.commit()
            domain_id = domain.id
        if retention_days is None:
            await self.scheduler.cancel(PURGE_PREFIX + str(domain_id))
        else:
            await self.scheduler.schedule(datetime.now(timezone.utc), purge_domain, (domain_id,),
                                          id=PURGE_PREFIX + str(domain_id))
        return retention_days

    async def ensure_purge_jobs(self) -> None:
        """Every domain with a retention has its job (one lost with its row is recreated)."""
        jobs = await self.scheduler.jobs(PURGE_PREFIX)
        async with self.sessions() as s:
            ids = list(await s.scalars(select(RecordingPolicy.domain_id).where(
                RecordingPolicy.retention_days.is_not(None))))
        for domain_id in ids:
            if PURGE_PREFIX + str(domain_id) not in jobs:
                await self.scheduler.schedule(datetime.now(timezone.utc), purge_domain, (domain_id,),
                                              id=PURGE_PREFIX + str(domain_id))

    async def purge(self, domain_id: int, now: datetime | None = None) -> int:
        """Delete the domain's recordings past its retention (files, then rows);
        schedule the next run when the oldest left falls due (a day at most)."""
        now = now or datetime.now(timezone.utc)
        async with self.sessions() as s:
            policy = await s.get(RecordingPolicy, domain_id)
            cutoff = purge_before(policy.retention_days if policy else None, now)
            if cutoff is None or policy is None or policy.retention_days is None:
                return 0
            due = list(await s.scalars(select(Recording).where(Recording.domain_id == domain_id,
                                                               Recording.status != "recording",
                                                               Recording.started_at < cutoff)))
            for row in due:
                await asyncio.to_thread(store.stored_path(self.store_dir, domain_id, row.file).unlink, True)
            if due:
                await s.execute(delete(Recording).where(Recording.id.in_([r.id for r in due])))
            oldest = await s.scalar(select(func.min(Recording.started_at)).where(Recording.domain_id == domain_id))
            await s.commit()
            retention = timedelta(days=policy.retention_days)
        next_at = now + PURGE_AT_MOST_EVERY
        if oldest is not None:
            next_at = min(next_at, max((as_utc(oldest) or now) + retention, now + timedelta(seconds=1)))
        await self.scheduler.schedule(next_at, purge_domain, (domain_id,), id=PURGE_PREFIX + str(domain_id))
        if due:
            log.info("recordings.purged domain=%s count=%d", domain_id, len(due))
        return len(due)

    def protocol_known(self, agent_uniqueid: str, protocol: str) -> None:
        """From the attendances feature (sync): a recording stored before its protocol takes it now.
        Gathered: one task writes what has come in meanwhile in one UPDATE (executemany)."""
        self._known[agent_uniqueid] = protocol  # a recording being stored now takes it from here
        while len(self._known) > 10000:
            self._known.popitem(last=False)
        if self._unlinked is not None:
            # no recording of this leg stored without a protocol (one being stored now reads
            # _known after its commit): nothing to update, no transaction per attendance batch
            if agent_uniqueid not in self._unlinked:
                return
            del self._unlinked[agent_uniqueid]
        self._protocols[agent_uniqueid] = protocol
        if self._protocol_task is None or self._protocol_task.done():
            self._protocol_task = asyncio.ensure_future(self._set_protocols())
            watch(self._protocol_task, "recording protocols", agent_uniqueid=agent_uniqueid)

    async def _set_protocols(self) -> None:
        while self._protocols:
            batch, self._protocols = self._protocols, {}
            try:
                await self.set_protocols(batch)
            except BaseException:
                self._protocols = {**batch, **self._protocols}  # kept for the next try
                raise

    async def set_protocols(self, protocols: dict[str, str]) -> None:
        """:meth:`set_protocol` for many agent legs, in one statement."""
        table = Recording.__table__
        stmt = (update(table).where(table.c.agent_uniqueid == bindparam("leg"), table.c.protocol.is_(None))
                .values(protocol=bindparam("proto")))
        async with self.sessions() as s:
            await s.execute(stmt, [{"leg": leg, "proto": proto} for leg, proto in protocols.items()])
            await s.commit()

    async def set_protocol(self, agent_uniqueid: str, protocol: str) -> None:
        """For the protocols feature: the attendance of this agent leg has this protocol."""
        async with self.sessions() as s:
            await s.execute(update(Recording).where(Recording.agent_uniqueid == agent_uniqueid,
                                                    Recording.protocol.is_(None)).values(protocol=protocol))
            await s.commit()
