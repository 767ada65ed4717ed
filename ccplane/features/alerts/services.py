"""The alert channel: app login, alerts (committed before the app hears 201),
the audit chain, acknowledgement, escalation and the monitoring-queue calls."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Protocol, TypeVar

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ... import scheduler as jobs
from ...aio import cancel_and_wait
from ...db.ids import IdReserve
from ...scheduler import Scheduler
from ...errors import Conflict, NotFound, ServiceUnavailable, Unauthorized, ValidationFailed
from ...web.context import ADMIN_ROLES, Principal
from ..auth.domain import InvalidToken, TokenSigner
from ..auth.passwords import verify_password_async
from ..auth.throttle import LoginThrottle
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..persons.models import MonitoredPerson
from ..queues.models import Queue
from . import domain as rules
from .announce import Announcer
from .audit import AuditChain, append_audit, audit_values, insert_audits, verify_domain_chain
from .escalation import MAX_ESCALATIONS, Escalations, first_deadline
from .writer import GroupWriter
from .models import Alert, AlertAppConfig
from .schemas import DEFAULT_APP_NAME, AlertAppOut, AlertAppUpdate, AlertCreate, AlertCreated, AlertOut, AppLook, AppToken

log = logging.getLogger("ccplane.alerts")
TEAM = ADMIN_ROLES | {"supervisor", "agent"}
DUPLICATE_WINDOW = 30.0  # seconds: a stuck button re-sends the same alert, it is not a new one
MARK_LINGER = 0.25  # seconds without a new alert before the open alerts are told to Asterisk
MARK_MAX_DELAY = 1.0  # ... and never later than this after the first of them
_NEW_ALERT_COLUMNS = ("id", "domain_id", "person_id", "person_name", "person_cpf", "person_phone", "level", "lat",
                      "lon", "accuracy", "created_at", "status", "escalations", "escalate_at")
__all__ = ["AlertService", "append_audit", "verify_domain_chain", "MAX_ESCALATIONS"]

Publish = Callable[[str, str, dict[str, Any]], None]
T = TypeVar("T")


class Caller(Protocol):
    announcer: Announcer

    async def __call__(self, slug: str, alert: Alert, queue: str, call_id: str | None = None) -> str: ...
    async def mark_open(self, slug: str, alert: Alert) -> None: ...
    async def unmark(self, slug: str, phone: str) -> None: ...
    async def hangup(self, call_id: str) -> None: ...
    def new_call_id(self, alert: Alert) -> str: ...


def _utc(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return _utc(value).isoformat() if value is not None else None


def alert_view(a: Alert) -> AlertOut:
    def since_created(moment: datetime | None) -> float | None:
        """The SLA clock: seconds from the alert to ``moment``."""
        if moment is None:
            return None
        return round((_utc(moment) - _utc(a.created_at)).total_seconds(), 3)
    return AlertOut(id=a.id, level=a.level, person={"name": a.person_name, "cpf": a.person_cpf,
                                                     "phone": a.person_phone}, person_id=a.person_id,
                    location=rules.location_view(a.lat, a.lon, a.accuracy),
                    location_text=rules.location_text(a.lat, a.lon), created_at=_iso(a.created_at) or "",
                    status=a.status, acknowledged_by=a.acknowledged_by, acknowledged_at=_iso(a.acknowledged_at),
                    seconds_to_ack=since_created(a.acknowledged_at),
                    seconds_to_answer=since_created(a.call_answered_at), call=a.call_id, recording=a.recording,
                    person_call=a.person_call_id, escalations=a.escalations, outcome=a.outcome)


def config_view(c: AlertAppConfig | None) -> AlertAppOut:
    return AlertAppOut.from_stored(c)


@dataclass(frozen=True)
class AppPerson:
    """What an alert needs of its person. Kept between alerts, so checking an app
    token reads no row; dropped at once when the team changes the person, and the
    row is checked again when the alert is stored."""
    id: int
    domain_id: int
    slug: str
    name: str
    cpf: str
    phone: str
    token_version: int


@dataclass(frozen=True)
class Routing:
    """The part of a domain's app settings an alert needs at once."""
    monitoring_queue: str | None
    call_number: str | None
    texts: dict[str, Any]
    deadlines: dict[str, Any]


class _Revoked(Exception):
    """The person's row no longer matches the token (changed elsewhere)."""


@dataclass
class _Seen:
    """The open alert of a person and level, for the stuck-button rule."""
    alert_id: int
    created: datetime
    committed: asyncio.Future[bool]  # True once its row is committed, False if it never will be


@dataclass(frozen=True)
class _Stored:
    """What the database said while storing: the person and routing as they are
    now, and the open alert this one duplicates (then nothing was written)."""
    person: AppPerson
    routing: Routing
    duplicate: Alert | None


def _settle(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


def _stored_already() -> asyncio.Future[bool]:
    """The ``committed`` of an alert whose row is known to exist."""
    future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    future.set_result(True)
    return future


def _card(p: MonitoredPerson, slug: str) -> AppPerson:
    return AppPerson(id=p.id, domain_id=p.domain_id, slug=slug, name=p.name, cpf=p.cpf, phone=p.phone,
                     token_version=p.token_version)


def _routing(c: AlertAppConfig | None) -> Routing:
    view = config_view(c)  # tolerant of bad stored values, as the app's reads are
    return Routing(monitoring_queue=view.monitoring_queue, call_number=view.call_number, texts=view.texts,
                   deadlines=view.ack_deadlines)


class AlertService:
    """Alerts ring first and are checked against the database after.

    The token check and the routing of a yellow/red alert use what this process
    keeps in memory (persons, each domain's app settings, open alerts), so the
    call's Originate is written before any row is read or stored. Storing the
    alert then reads the person and settings again: a token revoked meanwhile
    withdraws the call (401); a phone, name or monitoring queue changed where
    this process could not see it (another replica) replaces the call with one
    placed from the stored data; an open alert found only in the database makes
    this one a duplicate. The memory makes the ring fast, never the outcome wrong.
    In a storm (several alerts being created at once) each alert is stored first
    and rung from its stored row right after its batch's 201s (``_create``).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], signer: TokenSigner, publish: Publish,
                 caller: Caller, changed: Callable[[], Awaitable[None]], scheduler: Scheduler, *,
                 app_token_ttl: int = 30 * 86400, throttle: LoginThrottle | None = None) -> None:
        self.sessions = sessions
        self.throttle = throttle or LoginThrottle()
        self.changed = changed
        self.signer = signer
        self.publish = publish
        self.caller = caller
        self.app_token_ttl = app_token_ttl
        # Only the settings endpoint still takes this lock; alerts are stored and
        # linked concurrently, their audit rows chained after commit (audit.py).
        self._audit_lock = asyncio.Lock()
        self.chain = AuditChain(sessions)
        self.escalations = Escalations(sessions, scheduler, publish,
                                       lambda slug, alert, queue: self._place(slug, alert, queue, None),
                                       lambda alert: alert_view(alert).model_dump())
        self._tasks: set[asyncio.Task[Any]] = set()
        # A storm of 100 alerts must not wait for id refills (a write on SQLite).
        self._ids = IdReserve(sessions, "alerts", block=256)
        self._storer = GroupWriter(lambda: self.sessions, self._store_batch)
        self._linker = GroupWriter(lambda: self.sessions, self._link_batch)
        self._people: dict[int, AppPerson] = {}       # person id -> card (active persons only)
        self._routings: dict[int, Routing] = {}       # domain id -> app routing
        self._routing_reads: dict[int, asyncio.Task[Routing]] = {}
        self._recent: dict[tuple[int, str], _Seen] = {}  # (person, level) -> open alert
        self._generation = 0  # bumped by every invalidation: a read begun before it is not kept
        self._marks: list[tuple[str, Alert]] = []  # open alerts to tell Asterisk (mark_open), after a burst
        self._marks_due = 0.0
        self._marker: asyncio.Task[None] | None = None
        self._creating = 0  # alerts being created now (more than one: a storm)

    async def start(self) -> None:
        """Reserve alert ids, learn the active persons (so even the first alert
        after a restart rings without a read), their announcements, the open
        alerts a stuck button repeats, and the escalation jobs (scheduler)."""
        await self._ids.prime()
        generation = self._generation
        async with self.sessions() as s:
            rows = (await s.execute(select(MonitoredPerson, Domain.slug)
                                    .join(Domain, Domain.id == MonitoredPerson.domain_id))).all()
            configs = list(await s.scalars(select(AlertAppConfig)))
        if generation == self._generation:
            self._people.update((p.id, _card(p, slug)) for p, slug in rows if p.active)
            # the first storm after a start reads no settings (it read them per request, and scrambled)
            self._routings.update((c.domain_id, _routing(c)) for c in configs)
        await self.caller.announcer.start((p.id, p.name) for p, _ in rows)
        await self.chain.start()
        await self._remember_recent()
        jobs.provide("alerts", self)
        await self.escalations.start()

    async def stop(self) -> None:
        jobs.withdraw("alerts", self)
        self._marks_due = 0.0  # the open alerts not yet told to Asterisk are told now, not lost
        if self._marker is not None and not self._marker.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._marker), 5)
        await self._ids.stop()
        await cancel_and_wait(list(self._tasks), "alerts")
        await self.caller.announcer.stop()
        await self.chain.stop()

    def person_saved(self, person_id: int, name: str) -> None:
        self.caller.announcer.person_saved(person_id, name)

    def person_removed(self, person_id: int) -> None:
        self.caller.announcer.person_removed(person_id)

    async def _remember_recent(self) -> None:
        """After a restart a stuck button still repeats its open alert."""
        since = datetime.now(timezone.utc) - timedelta(seconds=DUPLICATE_WINDOW)
        async with self.sessions() as s:
            rows = list(await s.scalars(select(Alert).where(Alert.status == "new", Alert.created_at >= since,
                                                            Alert.person_id.is_not(None))))
        for alert in rows:
            created = _utc(alert.created_at)
            key = (alert.person_id or 0, alert.level)
            if key not in self._recent or self._recent[key].created < created:
                self._recent[key] = _Seen(alert.id, created, _stored_already())

    def forget_person(self, person_id: int) -> None:
        """The team changed or deleted this person: the next token check reads the row."""
        self._generation += 1
        self._people.pop(person_id, None)

    def _forget_routing(self, domain_id: int) -> None:
        self._generation += 1
        self._routings.pop(domain_id, None)

    # -- app side ----------------------------------------------------------------------
    async def app_login(self, slug: str, cpf: str, password: str, client: str = "") -> AppToken:
        generation = self._generation
        account = f"app:{slug}:{cpf}"
        self.throttle.check(account, client)
        async with self.sessions() as s:
            person = await s.scalar(select(MonitoredPerson).join(Domain, Domain.id == MonitoredPerson.domain_id)
                                    .where(Domain.slug == slug, MonitoredPerson.cpf == cpf))
            if not await verify_password_async(person.password_hash if person else None, password) or person is None:
                self.throttle.failed(account, client)
                raise Unauthorized("invalid CPF or password")
            self.throttle.succeeded(account, client)
            if not person.active:
                raise Unauthorized("this access is inactive; contact the monitoring team")
            token = self.signer.issue(person.id, "app", person.token_version, ttl=self.app_token_ttl)
        if generation == self._generation:
            self._people[person.id] = _card(person, slug)  # the app's first alert needs no read
        return AppToken(access_token=token, expires_in=self.app_token_ttl)

    async def app_person(self, slug: str, header: str) -> AppPerson:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("missing bearer token")
        try:
            payload = self.signer.verify(token.strip(), "app")
        except InvalidToken as exc:
            raise Unauthorized(f"invalid app token: {exc}") from None
        card = self._people.get(payload["sub"])
        if card is None:
            generation = self._generation
            async with self.sessions() as s:
                row = (await s.execute(select(MonitoredPerson, Domain.slug)
                                       .join(Domain, Domain.id == MonitoredPerson.domain_id)
                                       .where(MonitoredPerson.id == payload["sub"]))).first()
            if row is not None and row[0].active:
                card = _card(row[0], row[1])
                if generation == self._generation:
                    self._people[card.id] = card
        if card is None or card.slug != slug or card.token_version != payload.get("ver"):
            raise Unauthorized("app token revoked; log in again")
        return card

    async def app_config(self, person: AppPerson) -> AlertAppOut:
        async with self.sessions() as s:
            return config_view(await s.scalar(select(AlertAppConfig).where(
                AlertAppConfig.domain_id == person.domain_id)))

    async def look(self, slug: str) -> AppLook:
        """The app page before login: name, colours, logo switch (nothing about routing)."""
        async with self.sessions() as s:
            domain = await s.scalar(select(Domain).where(Domain.slug == slug))
            if domain is None:
                raise NotFound(f"domain {slug} not found", field="domain")
            view = config_view(await s.scalar(select(AlertAppConfig).where(AlertAppConfig.domain_id == domain.id)))
        return AppLook(app_name=view.app_name, colors=view.colors, show_logo=view.show_logo)

    async def _routing_of(self, domain_id: int) -> Routing:
        routing = self._routings.get(domain_id)
        if routing is not None:
            return routing
        # One read for a storm's first alerts, not one each (they would queue for the pool).
        reading = self._routing_reads.get(domain_id)
        if reading is None:
            reading = self._routing_reads[domain_id] = asyncio.ensure_future(self._read_routing(domain_id))
            reading.add_done_callback(lambda _: self._routing_reads.pop(domain_id, None))
        return await asyncio.shield(reading)

    async def _read_routing(self, domain_id: int) -> Routing:
        generation = self._generation
        async with self.sessions() as s:
            routing = _routing(await s.scalar(select(AlertAppConfig).where(AlertAppConfig.domain_id == domain_id)))
        if generation == self._generation:
            self._routings[domain_id] = routing
        return routing

    async def _open_alert(self, person_id: int, level: str, now: datetime) -> int | None:
        """The alert a new press of the same button repeats, if any. Never a guess:
        a press still being stored is waited for, and a stored one must still be
        open in the database (it may have been taken on another replica)."""
        seen = self._recent.get((person_id, level))
        if seen is None:
            return None
        if (now - seen.created).total_seconds() >= DUPLICATE_WINDOW:
            self._forget_alert(seen.alert_id)
            return None
        if not await asyncio.shield(seen.committed):
            return None  # the first press was never stored: this one is the alert
        async with self.sessions() as s:
            status = await s.scalar(select(Alert.status).where(Alert.id == seen.alert_id))
        if status != "new":
            self._forget_alert(seen.alert_id)
            return None
        return seen.alert_id

    def _forget_alert(self, alert_id: int) -> None:
        for key, seen in list(self._recent.items()):
            if seen.alert_id == alert_id:
                del self._recent[key]

    async def create(self, person: AppPerson, body: AlertCreate) -> AlertCreated:
        """Ring first, then store: the Originate of a yellow/red alert is written
        before any row, and the app hears 201 only once the alert is committed.
        In a storm, store first and ring right after the 201 (see below)."""
        self._creating += 1
        try:
            return await self._create(person, body)
        finally:
            self._creating -= 1

    async def _create(self, person: AppPerson, body: AlertCreate) -> AlertCreated:
        try:
            routing = await self._routing_of(person.domain_id)
            now = datetime.now(timezone.utc)
            known = await self._open_alert(person.id, body.level, now)
            if known is not None:  # a stuck button: the same alert, not a new one
                return self._created(known, body.level, routing, duplicate=True)
            alert_id = await self._ids.take()
        except SQLAlchemyError:
            log.exception("alert.store_failed", extra={"person": person.id})
            raise ServiceUnavailable(rules.DEFAULT_TEXTS["unavailable"]["message"]) from None
        loc = body.location
        alert = Alert(id=alert_id, domain_id=person.domain_id, person_id=person.id, person_name=person.name,
                      person_cpf=person.cpf, person_phone=person.phone, level=body.level,
                      lat=loc.lat if loc else None, lon=loc.lon if loc else None,
                      accuracy=loc.accuracy if loc else None, created_at=now, status="new", escalations=0)
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[bool] = loop.create_future()
        linked: asyncio.Future[bool] = loop.create_future()  # link the call to the row?
        call = None
        rings = alert.level in rules.QUEUE_PRIORITY and routing.monitoring_queue
        # In a storm (alerts already being stored) the call waits for this alert's
        # commit: Originates written and their AMI replies and events parsed before
        # the commit would hold up every 201 of the burst on the one event loop, and
        # Asterisk joins 100 calls in ~70 ms anyway (bench/alert_storm.py).
        in_storm = self._storer.busy or self._creating > 1
        if rings and not in_storm:
            # The call task writes its Originate as soon as this coroutine first
            # waits (on the database, below): a red alert reaches a human as fast
            # as Asterisk allows, even if the commit then fails (the app then
            # hears 503 and is told to call). The call id is stored after the row.
            call = self._place(person.slug, alert, routing.monitoring_queue or "", linked)
        key = (person.id, alert.level)
        self._recent[key] = _Seen(alert.id, now, committed)
        try:
            stored = await self._store(person, alert)
        except BaseException as exc:
            self._forget_alert(alert.id)
            _settle(committed, False)
            _settle(linked, False)
            if isinstance(exc, _Revoked):
                self._withdraw(call)
                raise Unauthorized("app token revoked; log in again") from None
            if isinstance(exc, SQLAlchemyError):
                log.exception("alert.store_failed", extra={"person": person.id})
                if rings and in_storm:  # not stored, but a human still hears it (as when it rang first)
                    self._place(person.slug, alert, routing.monitoring_queue or "", None)
                raise ServiceUnavailable(rules.DEFAULT_TEXTS["unavailable"]["message"]) from None
            raise
        if stored.duplicate is not None:  # stored by another replica meanwhile
            _settle(committed, False)
            _settle(linked, False)
            self._withdraw(call)
            self._forget_alert(alert.id)
            self._recent[key] = _Seen(stored.duplicate.id, _utc(stored.duplicate.created_at), _stored_already())
            return self._created(stored.duplicate.id, body.level, stored.routing, duplicate=True)
        _settle(committed, True)
        queue = stored.routing.monitoring_queue if alert.level in rules.QUEUE_PRIORITY else None
        if in_storm:
            # placed from the stored row, once this batch's 201s are written (their
            # handlers were woken before this callback is queued)
            if queue:
                loop.call_soon(self._place, person.slug, alert, queue, None)
            loop.call_soon(self._committed, person.slug, alert, stored.routing)
            return self._created(alert.id, alert.level, stored.routing, duplicate=False)
        placed = (person.phone, person.name, routing.monitoring_queue) if call else None
        if placed != ((stored.person.phone, stored.person.name, queue) if queue else None):
            # The call went out with what this process knew, and the database knew
            # better (a change made on another replica): call again from the row.
            log.warning("alert.recalled", extra={"alert": alert.id})
            _settle(linked, False)
            self._withdraw(call)
            if queue:
                self._place(person.slug, alert, queue, None)
        else:
            _settle(linked, True)
        self._committed(person.slug, alert, stored.routing)
        return self._created(alert.id, alert.level, stored.routing, duplicate=False)

    def _committed(self, slug: str, alert: Alert, routing: Routing) -> None:
        """The live feed, the escalation deadline and the dialplan mark of a stored alert."""
        self.publish(slug, "alert.new", alert_view(alert).model_dump())
        self._after_commit(slug, alert, routing)

    @staticmethod
    def _created(alert_id: int, level: str, routing: Routing, *, duplicate: bool) -> AlertCreated:
        return AlertCreated(id=alert_id, message=routing.texts[level]["message"],
                            call_number=routing.call_number if level != "green" else None, duplicate=duplicate)

    def _place(self, slug: str, alert: Alert, queue: str,
               linked: asyncio.Future[bool] | None) -> tuple[str, asyncio.Task[str | None]]:
        call_id = self.caller.new_call_id(alert)
        return call_id, self._spawn(self._call(slug, alert, queue, linked, call_id))

    def _withdraw(self, call: tuple[str, asyncio.Task[str | None]] | None) -> None:
        if call is not None:
            self._spawn(self._hang_up(*call))

    async def _hang_up(self, call_id: str, task: asyncio.Task[str | None]) -> None:
        """Hang up a call placed for an alert that was then refused or replaced.
        Its Originate may not have made the channel yet: try for a few seconds."""
        await asyncio.wait([task])
        for _ in range(30):
            try:
                await self.caller.hangup(call_id)
                log.info("alert.call_withdrawn", extra={"call": call_id})
                return
            except Exception:  # noqa: BLE001 - no such channel (yet): retry
                await asyncio.sleep(0.1)
        log.error("alert.call_withdraw_failed", extra={"call": call_id})

    async def _store(self, person: AppPerson, alert: Alert) -> _Stored:
        """Commit the alert and its audit row, from the person's row as it is now
        (group commit: writer.py). Raises _Revoked when the row no longer honours the token."""
        generation = self._generation
        fresh, routing, recent = await self._storer.run((person, alert))
        if generation == self._generation:  # what was read is the newest: keep it
            self._people[fresh.id] = fresh
            self._routings[person.domain_id] = routing
        return _Stored(fresh, routing, recent)

    async def _store_batch(self, s: AsyncSession, items: list[tuple[AppPerson, Alert]]
                           ) -> list[tuple[AppPerson, Routing, Alert | None] | Exception]:
        """Store a batch of alerts with three reads for all of them."""
        person_ids = {p.id for p, _ in items}
        M = MonitoredPerson
        rows = {r.id: r for r in await s.execute(  # columns, not ORM objects: a storm reads 100 of them
            select(M.id, M.domain_id, M.name, M.cpf, M.phone, M.token_version, M.active)
            .where(M.id.in_(person_ids)))}
        configs = {c.domain_id: c for c in await s.scalars(select(AlertAppConfig).where(
            AlertAppConfig.domain_id.in_({p.domain_id for p, _ in items})))}
        oldest = min(a.created_at for _, a in items) - timedelta(seconds=DUPLICATE_WINDOW)
        open_ = list(await s.scalars(select(Alert).where(Alert.person_id.in_(person_ids), Alert.status == "new",
                                                         Alert.created_at >= oldest).order_by(Alert.id)))
        routings = {domain_id: _routing(c) for domain_id, c in configs.items()}  # once per domain, not per alert
        out: list[tuple[AppPerson, Routing, Alert | None] | Exception] = []
        new_rows: list[dict[str, Any]] = []
        audits: list[dict[str, Any]] = []
        for person, alert in items:
            row = rows.get(person.id)
            if row is None or not row.active or row.token_version != person.token_version:
                self.forget_person(person.id)
                out.append(_Revoked())
                continue
            fresh = AppPerson(id=row.id, domain_id=row.domain_id, slug=person.slug, name=row.name, cpf=row.cpf,
                              phone=row.phone, token_version=row.token_version)
            routing = routings.get(person.domain_id) or _routing(None)
            recent = next((a for a in reversed(open_) if a.person_id == person.id and a.level == alert.level
                           and _utc(a.created_at) >= alert.created_at - timedelta(seconds=DUPLICATE_WINDOW)),
                          None)
            if recent is None:
                alert.person_name, alert.person_cpf, alert.person_phone = fresh.name, fresh.cpf, fresh.phone
                alert.escalate_at = first_deadline(alert.level, routing.deadlines, alert.created_at)
                new_rows.append({c: getattr(alert, c) for c in _NEW_ALERT_COLUMNS})
                open_.append(alert)  # a second press in the same batch repeats this one
                audits.append(audit_values(person.domain_id, alert.id, f"person:{person.id}", "created",
                                           {"level": alert.level,
                                            "location": rules.location_text(alert.lat, alert.lon)}))
            out.append((fresh, routing, recent))
        # one executemany each (the Alert objects stay out of the session: no unit of work per row)
        if new_rows:
            await s.execute(insert(Alert.__table__), new_rows)
        await insert_audits(s, audits)
        return out

    async def _link_batch(self, s: AsyncSession, items: list[tuple[int, str]]) -> list[None | Exception]:
        calls = dict(items)
        found = list(await s.execute(select(Alert.id, Alert.domain_id).where(Alert.id.in_(calls)).order_by(Alert.id)))
        if found:
            table = Alert.__table__
            await s.execute(update(table).where(table.c.id == bindparam("alert_id")).values(call_id=bindparam("call")),
                            [{"alert_id": i, "call": calls[i]} for i, _ in found])
            await insert_audits(s, [audit_values(domain_id, i, "ccplane", "call_placed", {"call": calls[i]})
                                    for i, domain_id in found])
        return [None] * len(items)

    def _after_commit(self, slug: str, alert: Alert, routing: Routing) -> None:
        if alert.escalate_at is not None:
            self._spawn(self.escalations.arm(alert.domain_id, alert.level, alert.escalate_at))
        self._marks.append((slug, alert))
        self._marks_due = asyncio.get_running_loop().time() + MARK_LINGER
        if self._marker is None or self._marker.done():
            self._marker = self._spawn(self._write_marks())

    async def _write_marks(self) -> None:
        """Tell Asterisk the open alerts (4 AMI DBPut each) once a burst is over:
        a storm's 400 actions and their replies would otherwise be sent and parsed
        by the loop while it still takes the storm's requests in. A person calls
        back seconds after the 201, not within MARK_LINGER."""
        loop = asyncio.get_running_loop()
        first = loop.time()
        while self._marks:
            wait = min(self._marks_due, first + MARK_MAX_DELAY) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue  # an alert may have come meanwhile: its linger counts
            if (self._storer.busy or self._linker.busy) and self._marks_due and loop.time() < first + MARK_MAX_DELAY:
                await asyncio.sleep(0.02)  # a storm's alerts are still being stored: their 201s first
                continue
            batch, self._marks = self._marks, []
            for slug, alert in batch:
                await self._guarded(self.caller.mark_open(slug, alert), "mark_open")
            first = loop.time()

    async def _guarded(self, coro: Awaitable[None], what: str) -> None:
        try:
            await coro
        except Exception:  # noqa: BLE001 - Asterisk unreachable: the alert itself stands
            log.warning("alert.%s_failed", what)

    async def _call(self, slug: str, alert: Alert, queue: str, linked: asyncio.Future[bool] | None = None,
                    call_id: str | None = None) -> str | None:
        """Place the alert's call; once the row exists (``linked``), link the call to it."""
        try:
            call_id = await self.caller(slug, alert, queue, call_id)
        except Exception:  # noqa: BLE001 - the alert stands; escalation still fires
            log.exception("alert.call_failed", extra={"alert": alert.id})
            return None
        if linked is not None and not await asyncio.shield(linked):
            return call_id  # no row to link it to (refused, a duplicate, replaced, or the database failed)
        try:
            await self._linker.run((alert.id, call_id))
        except SQLAlchemyError:
            log.exception("alert.call_link_failed", extra={"alert": alert.id, "call": call_id})
        return call_id

    # -- team side -------------------------------------------------------------------------
    async def ack(self, me: Principal, slug: str, alert_id: int) -> AlertOut:
        me.require(TEAM, "acknowledge alerts")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            alert = await s.scalar(select(Alert).where(Alert.domain_id == domain.id, Alert.id == alert_id))
            if alert is None:
                raise NotFound(f"alert {alert_id} not found", field="id")
            if alert.status != "new":
                raise Conflict(f"alert {alert_id} was already taken by {alert.acknowledged_by}", field="id")
            alert.status, alert.acknowledged_by = "acknowledged", me.username
            alert.acknowledged_at, alert.escalate_at = datetime.now(timezone.utc), None
            await append_audit(s, domain.id, alert.id, f"user:{me.username}", "acknowledged", {})
            await s.commit()
            view = alert_view(alert)
        self._forget_alert(alert_id)
        self.publish(slug, "alert.ack", view.model_dump())
        return view

    async def close(self, me: Principal, slug: str, alert_id: int, outcome: str) -> AlertOut:
        me.require(TEAM, "close alerts")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            alert = await s.scalar(select(Alert).where(Alert.domain_id == domain.id, Alert.id == alert_id))
            if alert is None:
                raise NotFound(f"alert {alert_id} not found", field="id")
            if alert.status == "closed":
                raise Conflict(f"alert {alert_id} is already closed", field="id")
            if alert.status == "new":  # closing takes it too
                alert.acknowledged_by, alert.acknowledged_at = me.username, datetime.now(timezone.utc)
            alert.status, alert.closed_by, alert.closed_at = "closed", me.username, datetime.now(timezone.utc)
            alert.outcome, alert.escalate_at = outcome, None
            await append_audit(s, domain.id, alert.id, f"user:{me.username}", "closed", {"outcome": outcome})
            still_open = await s.scalar(select(Alert.id).where(Alert.person_id == alert.person_id,
                                                               Alert.status != "closed", Alert.id != alert.id))
            await s.commit()
            view = alert_view(alert)
        self._forget_alert(alert_id)
        self._marks = [(sl, a) for sl, a in self._marks if a.id != alert_id]  # closed before it was told
        if not still_open:
            await self._guarded(self.caller.unmark(slug, alert.person_phone), "unmark")
        self.publish(slug, "alert.closed", view.model_dump())
        return view

    async def link_recording(self, slug: str, alert_id: int, filename: str, at: datetime | None = None) -> None:
        """Idempotent: a recording reported again (outbox replay) changes nothing."""
        async with self.sessions() as s:
            alert = await s.scalar(select(Alert).join(Domain, Domain.id == Alert.domain_id)
                                   .where(Domain.slug == slug, Alert.id == alert_id))
            if alert is None or alert.recording == filename:
                return
            alert.recording = filename
            alert.call_answered_at = alert.call_answered_at or at or datetime.now(timezone.utc)
            await append_audit(s, alert.domain_id, alert.id, "ccplane", "recording", {"file": filename})
            await s.commit()

    async def link_person_call(self, slug: str, alert_id: int, uniqueid: str) -> None:
        """The person called the monitoring number: the dialplan recognised them."""
        async with self.sessions() as s:
            alert = await s.scalar(select(Alert).join(Domain, Domain.id == Alert.domain_id)
                                   .where(Domain.slug == slug, Alert.id == alert_id))
            if alert is None or alert.person_call_id == uniqueid:
                return
            alert.person_call_id = uniqueid
            await append_audit(s, alert.domain_id, alert.id, f"person:{alert.person_id}", "person_called",
                               {"call": uniqueid})
            await s.commit()
            view = alert_view(alert)
        self.publish(slug, "alert.person_call", view.model_dump())

    async def get(self, me: Principal, slug: str, alert_id: int) -> AlertOut:
        me.require(TEAM, "see alerts")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            alert = await s.scalar(select(Alert).where(Alert.domain_id == domain.id, Alert.id == alert_id))
            if alert is None:
                raise NotFound(f"alert {alert_id} not found", field="id")
            return alert_view(alert)

    async def list(self, me: Principal, slug: str, *, since: datetime | None, until: datetime | None,
                   level: str | None, status: str | None, person: int | None, limit: int,
                   offset: int) -> tuple[list[AlertOut], int]:
        me.require(TEAM, "see alerts")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            q = select(Alert).where(Alert.domain_id == domain.id)
            if since:
                q = q.where(Alert.created_at >= since)
            if until:
                q = q.where(Alert.created_at < until)
            for column, value in ((Alert.level, level), (Alert.status, status), (Alert.person_id, person)):
                if value is not None:
                    q = q.where(column == value)
            rows = list(await s.scalars(q.order_by(Alert.created_at.desc(), Alert.id.desc())))
            return [alert_view(a) for a in rows[offset:offset + limit]], len(rows)

    async def get_config(self, me: Principal, slug: str) -> AlertAppOut:
        me.require(TEAM, "read the alert app settings")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            return config_view(await s.scalar(select(AlertAppConfig).where(AlertAppConfig.domain_id == domain.id)))

    async def put_config(self, me: Principal, slug: str, body: AlertAppUpdate) -> AlertAppOut:
        me.require(ADMIN_ROLES, "change the alert app settings")
        changes = body.model_dump(exclude_unset=True)
        async with self._audit_lock, self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            for field in ("monitoring_queue", "escalation_queue"):
                queue = changes.get(field)
                if queue and not await s.scalar(select(Queue.id).where(Queue.domain_id == domain.id,
                                                                       Queue.name == queue)):
                    raise ValidationFailed(f"no such queue: {queue}", field=field)
            config = await s.scalar(select(AlertAppConfig).where(AlertAppConfig.domain_id == domain.id))
            if config is None:
                config = AlertAppConfig(domain_id=domain.id, app_name=DEFAULT_APP_NAME, colors={},
                                        show_logo=True, texts={}, ack_deadlines={})
                s.add(config)
            for key, value in changes.items():
                if key == "texts" and value is not None:
                    value = {k: {kk: vv for kk, vv in v.items() if vv is not None} for k, v in value.items()}
                setattr(config, key, value)
            out = config_view(config)  # before the commit: what is stored must read back
            routing = _routing(config)
            await append_audit(s, domain.id, None, f"user:{me.username}", "app_settings",
                               {"changed": sorted(changes)})
            await s.commit()
        self._forget_routing(domain.id)
        self._routings[domain.id] = routing  # the next alert needs no read (the first of a storm scrambled)
        if "monitoring_queue" in changes:
            await self.changed()  # the monitoring queue recognises persons' calls in the dialplan
        return out

    def _spawn(self, coro: Awaitable[T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
