"""The alert channel: app login, alerts (committed before the app hears 201),
the audit chain, acknowledgement, escalation and the monitoring-queue calls."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Protocol

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...aio import cancel_and_wait
from ...errors import Conflict, NotFound, ServiceUnavailable, Unauthorized, ValidationFailed
from ...web.context import ADMIN_ROLES, Principal
from ..auth.domain import InvalidToken, TokenSigner, verify_password
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..persons.models import MonitoredPerson
from ..queues.models import Queue
from . import domain as rules
from .models import Alert, AlertAppConfig, AlertAudit
from .schemas import AlertAppOut, AlertAppUpdate, AlertCreate, AlertCreated, AlertOut, AppToken

log = logging.getLogger("ccplane.alerts")
TEAM = ADMIN_ROLES | {"supervisor", "agent"}
DUPLICATE_WINDOW = 30.0  # seconds: a stuck button re-sends the same alert, it is not a new one

Publish = Callable[[str, str, dict[str, Any]], None]


class Caller(Protocol):
    async def __call__(self, slug: str, alert: Alert, queue: str) -> str | None: ...
    async def mark_open(self, slug: str, alert: Alert) -> None: ...
    async def unmark(self, slug: str, phone: str) -> None: ...


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


def alert_view(a: Alert) -> AlertOut:
    def since_created(moment: datetime | None) -> float | None:
        """The SLA clock: seconds from the alert to ``moment``."""
        if moment is None:
            return None
        created = a.created_at if a.created_at.tzinfo else a.created_at.replace(tzinfo=timezone.utc)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        return round((moment - created).total_seconds(), 3)
    return AlertOut(id=a.id, level=a.level, person={"name": a.person_name, "cpf": a.person_cpf,
                                                     "phone": a.person_phone},
                    location=rules.location_view(a.lat, a.lon, a.accuracy),
                    location_text=rules.location_text(a.lat, a.lon), created_at=_iso(a.created_at) or "",
                    status=a.status, acknowledged_by=a.acknowledged_by, acknowledged_at=_iso(a.acknowledged_at),
                    seconds_to_ack=since_created(a.acknowledged_at),
                    seconds_to_answer=since_created(a.call_answered_at), call=a.call_id, recording=a.recording,
                    person_call=a.person_call_id, escalations=a.escalations, outcome=a.outcome)


def config_view(c: AlertAppConfig | None) -> AlertAppOut:
    return AlertAppOut(app_name=c.app_name if c else "Canal de Alertas", colors=dict(c.colors) if c else {},
                       show_logo=c.show_logo if c else True, texts=rules.merged_texts(c.texts if c else None),
                       call_number=c.call_number if c else None, monitoring_queue=c.monitoring_queue if c else None,
                       escalation_queue=c.escalation_queue if c else None,
                       ack_deadlines={**rules.DEFAULT_DEADLINES, **(c.ack_deadlines if c else {})})


async def append_audit(s: AsyncSession, domain_id: int, alert_id: int | None, actor: str, action: str,
                       data: dict[str, Any]) -> None:
    """Add one row to the domain's chain, in the caller's transaction."""
    last = await s.scalar(select(AlertAudit).where(AlertAudit.domain_id == domain_id)
                          .order_by(AlertAudit.seq.desc()).limit(1).with_for_update())
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else rules.GENESIS
    body = rules.canonical(data)
    at = datetime.now(timezone.utc).isoformat()
    s.add(AlertAudit(domain_id=domain_id, seq=seq, alert_id=alert_id, actor=actor, action=action, data=body,
                     at=at, prev_hash=prev, hash=rules.chain_hash(prev, seq, alert_id, actor, action, body, at)))


class AlertService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], signer: TokenSigner, publish: Publish,
                 caller: Caller, changed: Callable[[], Awaitable[None]], *,
                 app_token_ttl: int = 30 * 86400) -> None:
        self.sessions = sessions
        self.changed = changed
        self.signer = signer
        self.publish = publish
        self.caller = caller
        self.app_token_ttl = app_token_ttl
        self._audit_lock = asyncio.Lock()  # one writer per process keeps each chain linear
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._slugs: dict[int, str] = {}  # domain id -> slug
        self._tasks: set[asyncio.Task[Any]] = set()

    async def stop(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        await cancel_and_wait(list(self._tasks), "alerts")

    # -- app side ----------------------------------------------------------------------
    async def app_login(self, slug: str, cpf: str, password: str) -> AppToken:
        async with self.sessions() as s:
            person = await s.scalar(select(MonitoredPerson).join(Domain, Domain.id == MonitoredPerson.domain_id)
                                    .where(Domain.slug == slug, MonitoredPerson.cpf == cpf))
            if not verify_password(person.password_hash if person else None, password) or person is None:
                raise Unauthorized("invalid CPF or password")
            if not person.active:
                raise Unauthorized("this access is inactive; contact the monitoring team")
            token = self.signer.issue(person.id, "app", person.token_version, ttl=self.app_token_ttl)
            return AppToken(access_token=token, expires_in=self.app_token_ttl)

    async def app_person(self, slug: str, header: str) -> MonitoredPerson:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("missing bearer token")
        try:
            payload = self.signer.verify(token.strip(), "app")
        except InvalidToken as exc:
            raise Unauthorized(f"invalid app token: {exc}") from None
        async with self.sessions() as s:
            row = (await s.execute(select(MonitoredPerson, Domain.slug)
                                   .join(Domain, Domain.id == MonitoredPerson.domain_id)
                                   .where(MonitoredPerson.id == payload["sub"]))).first()
        if row is None or row[1] != slug or not row[0].active or row[0].token_version != payload.get("ver"):
            raise Unauthorized("app token revoked; log in again")
        self._slugs[row[0].domain_id] = row[1]  # slugs never change
        return row[0]

    async def app_config(self, person: MonitoredPerson) -> AlertAppOut:
        async with self.sessions() as s:
            return config_view(await s.scalar(select(AlertAppConfig).where(
                AlertAppConfig.domain_id == person.domain_id)))

    async def create(self, person: MonitoredPerson, body: AlertCreate) -> AlertCreated:
        try:
            alert, config, duplicate, slug = await self._store(person, body)
        except SQLAlchemyError:
            log.exception("alert.store_failed", extra={"person": person.id})
            raise ServiceUnavailable(rules.DEFAULT_TEXTS["unavailable"]["message"]) from None
        texts = rules.merged_texts(config.texts if config else None)
        out = AlertCreated(id=alert.id, message=texts[alert.level]["message"],
                           call_number=(config.call_number if config else None) if alert.level != "green" else None,
                           duplicate=duplicate)
        if not duplicate:
            self.publish(slug, "alert.new", alert_view(alert).model_dump())
            self._after_commit(slug, alert, config)
        return out

    async def _store(self, person: MonitoredPerson,
                     body: AlertCreate) -> tuple[Alert, AlertAppConfig | None, bool, str]:
        now = datetime.now(timezone.utc)
        async with self._audit_lock, self.sessions() as s:
            slug = self._slugs.get(person.domain_id) or await s.scalar(
                select(Domain.slug).where(Domain.id == person.domain_id)) or ""
            config = await s.scalar(select(AlertAppConfig).where(AlertAppConfig.domain_id == person.domain_id))
            recent = await s.scalar(select(Alert).where(
                Alert.person_id == person.id, Alert.level == body.level, Alert.status == "new",
                Alert.created_at >= now - timedelta(seconds=DUPLICATE_WINDOW)).order_by(Alert.id.desc()).limit(1))
            if recent is not None:
                return recent, config, True, slug
            loc = body.location
            alert = Alert(domain_id=person.domain_id, person_id=person.id, person_name=person.name,
                          person_cpf=person.cpf, person_phone=person.phone, level=body.level,
                          lat=loc.lat if loc else None, lon=loc.lon if loc else None,
                          accuracy=loc.accuracy if loc else None, created_at=now, status="new", escalations=0)
            s.add(alert)
            await s.flush()
            if alert.level in rules.QUEUE_PRIORITY and config and config.monitoring_queue:
                # Ring the monitoring team while the row is being committed: a red
                # alert reaches a human as fast as Asterisk allows, and even if the
                # commit then fails (the app still hears 503 and is told to call).
                # The call's id is written once the commit has released the lock.
                self._spawn(self._call(slug, alert, config.monitoring_queue))
            await append_audit(s, person.domain_id, alert.id, f"person:{person.id}", "created",
                               {"level": body.level, "location": rules.location_text(alert.lat, alert.lon)})
            await s.commit()  # the alert is durable before anyone is told
            return alert, config, False, slug

    def _after_commit(self, slug: str, alert: Alert, config: AlertAppConfig | None) -> None:
        deadlines = {**rules.DEFAULT_DEADLINES, **(config.ack_deadlines if config else {})}
        if alert.level in deadlines:
            self._schedule_escalation(slug, alert.id, deadlines[alert.level])
        self._spawn(self._guarded(self.caller.mark_open(slug, alert), "mark_open"))

    async def _guarded(self, coro: Awaitable[None], what: str) -> None:
        try:
            await coro
        except Exception:  # noqa: BLE001 - Asterisk unreachable: the alert itself stands
            log.warning("alert.%s_failed", what)

    async def _call(self, slug: str, alert: Alert, queue: str) -> None:
        try:
            call_id = await self.caller(slug, alert, queue)
        except Exception:  # noqa: BLE001 - the alert stands; escalation still fires
            log.exception("alert.call_failed", extra={"alert": alert.id})
            return
        async with self._audit_lock, self.sessions() as s:
            row = await s.get(Alert, alert.id)
            if row is not None:
                row.call_id = call_id
                await append_audit(s, row.domain_id, row.id, "ccplane", "call_placed", {"call": call_id})
                await s.commit()

    # -- escalation -------------------------------------------------------------------------
    def _schedule_escalation(self, slug: str, alert_id: int, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._timers[alert_id] = loop.call_later(
            seconds, lambda: self._spawn(self._escalate(slug, alert_id, seconds)))

    async def _escalate(self, slug: str, alert_id: int, seconds: float) -> None:
        self._timers.pop(alert_id, None)
        async with self._audit_lock, self.sessions() as s:
            alert = await s.get(Alert, alert_id)
            if alert is None or alert.status != "new":
                return
            alert.escalations += 1
            await append_audit(s, alert.domain_id, alert.id, "ccplane", "escalated",
                               {"escalation": alert.escalations})
            await s.commit()
            view = alert_view(alert).model_dump()
            config = await s.scalar(select(AlertAppConfig).where(AlertAppConfig.domain_id == alert.domain_id))
        log.warning("alert.escalated", extra={"alert": alert_id, "domain": slug})
        self.publish(slug, "alert.escalated", view)
        if view["escalations"] == 1 and config and config.escalation_queue and alert.level in rules.QUEUE_PRIORITY:
            self._spawn(self._call(slug, alert, config.escalation_queue))  # the next group is called too
        if view["escalations"] < 5:
            self._schedule_escalation(slug, alert_id, seconds)

    async def resume_escalations(self) -> None:
        """After a restart: every unacknowledged alert escalates again when due."""
        async with self.sessions() as s:
            rows = (await s.execute(select(Alert, Domain.slug, AlertAppConfig.ack_deadlines)
                                    .join(Domain, Domain.id == Alert.domain_id)
                                    .outerjoin(AlertAppConfig, AlertAppConfig.domain_id == Alert.domain_id)
                                    .where(Alert.status == "new"))).all()
        now = datetime.now(timezone.utc)
        for alert, slug, custom in rows:
            deadline = {**rules.DEFAULT_DEADLINES, **(custom or {})}.get(alert.level)
            if deadline:
                created = alert.created_at if alert.created_at.tzinfo else alert.created_at.replace(tzinfo=timezone.utc)
                due = max(0.0, deadline * (alert.escalations + 1) - (now - created).total_seconds())
                self._schedule_escalation(slug, alert.id, due or 0.01)

    # -- team side -------------------------------------------------------------------------
    async def ack(self, me: Principal, slug: str, alert_id: int) -> AlertOut:
        me.require(TEAM, "acknowledge alerts")
        async with self._audit_lock, self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            alert = await s.scalar(select(Alert).where(Alert.domain_id == domain.id, Alert.id == alert_id))
            if alert is None:
                raise NotFound(f"alert {alert_id} not found", field="id")
            if alert.status != "new":
                raise Conflict(f"alert {alert_id} was already taken by {alert.acknowledged_by}", field="id")
            alert.status, alert.acknowledged_by = "acknowledged", me.username
            alert.acknowledged_at = datetime.now(timezone.utc)
            await append_audit(s, domain.id, alert.id, f"user:{me.username}", "acknowledged", {})
            await s.commit()
            view = alert_view(alert)
        timer = self._timers.pop(alert_id, None)
        if timer:
            timer.cancel()
        self.publish(slug, "alert.ack", view.model_dump())
        return view

    async def close(self, me: Principal, slug: str, alert_id: int, outcome: str) -> AlertOut:
        me.require(TEAM, "close alerts")
        async with self._audit_lock, self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            alert = await s.scalar(select(Alert).where(Alert.domain_id == domain.id, Alert.id == alert_id))
            if alert is None:
                raise NotFound(f"alert {alert_id} not found", field="id")
            if alert.status == "closed":
                raise Conflict(f"alert {alert_id} is already closed", field="id")
            if alert.status == "new":  # closing takes it too
                alert.acknowledged_by, alert.acknowledged_at = me.username, datetime.now(timezone.utc)
            alert.status, alert.closed_by, alert.closed_at = "closed", me.username, datetime.now(timezone.utc)
            alert.outcome = outcome
            await append_audit(s, domain.id, alert.id, f"user:{me.username}", "closed", {"outcome": outcome})
            still_open = await s.scalar(select(Alert.id).where(Alert.person_id == alert.person_id,
                                                               Alert.status != "closed", Alert.id != alert.id))
            await s.commit()
            view = alert_view(alert)
        timer = self._timers.pop(alert_id, None)
        if timer:
            timer.cancel()
        if not still_open:
            await self._guarded(self.caller.unmark(slug, alert.person_phone), "unmark")
        self.publish(slug, "alert.closed", view.model_dump())
        return view

    async def link_recording(self, slug: str, alert_id: int, filename: str, at: datetime | None = None) -> None:
        """Idempotent: a recording reported again (outbox replay) changes nothing."""
        async with self._audit_lock, self.sessions() as s:
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
        async with self._audit_lock, self.sessions() as s:
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
                config = AlertAppConfig(domain_id=domain.id, app_name="Canal de Alertas", colors={},
                                        show_logo=True, texts={}, ack_deadlines={})
                s.add(config)
            for key, value in changes.items():
                if key == "texts" and value is not None:
                    value = {k: {kk: vv for kk, vv in v.items() if vv is not None} for k, v in value.items()}
                setattr(config, key, value)
            await append_audit(s, domain.id, None, f"user:{me.username}", "app_settings",
                               {"changed": sorted(changes)})
            await s.commit()
            out = config_view(config)
        if "monitoring_queue" in changes:
            await self.changed()  # the monitoring queue recognises persons' calls in the dialplan
        return out

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def verify_domain_chain(sessions: async_sessionmaker[AsyncSession], slug: str) -> tuple[bool, str]:
    async with sessions() as s:
        domain_id = await s.scalar(select(Domain.id).where(Domain.slug == slug))
        if domain_id is None:
            return False, f"no domain {slug}"
        rows = await s.scalars(select(AlertAudit).where(AlertAudit.domain_id == domain_id)
                               .order_by(AlertAudit.seq))
        return rules.verify_chain(rules.AuditRow(r.id, r.seq, r.alert_id, r.actor, r.action, r.data, r.at,
                                                 r.prev_hash, r.hash) for r in rows)
