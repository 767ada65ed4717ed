"""Queues: configuration stored here, rendered into queues.conf + dialplan."""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound, ValidationFailed
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..agents.models import AgentSessionQueue
from ..common import changes_of
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..extensions.models import Extension
from .domain import QUEUE_CONTEXT, asterisk_queue_name
from .models import Queue, QueueExtension
from .schemas import QueueCreate, QueueOut, QueueUpdate

Changed = Callable[[], Awaitable[None]]


async def queue_extensions(s: AsyncSession, queue_ids: list[int]) -> dict[int, list[str]]:
    rows = await s.execute(select(QueueExtension.queue_id, Extension.number)
                           .join(Extension, Extension.id == QueueExtension.extension_id)
                           .where(QueueExtension.queue_id.in_(queue_ids or [-1]))
                           .order_by(Extension.number))
    out: dict[int, list[str]] = {}
    for qid, number in rows:
        out.setdefault(qid, []).append(number)
    return out


def queue_view(domain: Domain, q: Queue, extensions: list[str]) -> QueueOut:
    return QueueOut(
        name=q.name, asterisk_name=asterisk_queue_name(domain.slug, q.name), strategy=q.strategy,
        ring_timeout=q.ring_timeout, retry=q.retry, wrapup_time=q.wrapup_time, max_no_answer=q.max_no_answer,
        call_timeout=q.call_timeout, reject_delay=q.reject_delay, busy_delay=q.busy_delay,
        noanswer_delay=q.noanswer_delay, max_wait=q.max_wait, max_len=q.max_len, join_empty=q.join_empty,
        leave_empty=q.leave_empty, record=q.record, monitoring_group=q.monitoring_group,
        overflow=dict(q.overflow), dispositions=list(q.dispositions or []),
        transfer_fail=q.transfer_fail or "queue", extensions=extensions, dial_context=QUEUE_CONTEXT,  # type: ignore[arg-type]
        callback_key=q.callback_key, callback_retries=q.callback_retries,
        callback_retry_delay=q.callback_retry_delay, callback_expiry=q.callback_expiry)


class QueueService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], changed: Changed,
                 on_policy_change: Callable[[], Awaitable[None]] | None = None) -> None:
        self.sessions = sessions
        self.changed = changed
        self.on_policy_change = on_policy_change

    async def list(self, me: Principal, slug: str, limit: int, offset: int) -> tuple[list[QueueOut], int]:
        me.require(READ_ROLES | {"agent"}, "list queues")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            where = Queue.domain_id == domain.id
            total = await s.scalar(select(func.count()).where(where)) or 0
            rows = list(await s.scalars(select(Queue).where(where).order_by(Queue.name).limit(limit).offset(offset)))
            exts = await queue_extensions(s, [q.id for q in rows])
            return [queue_view(domain, q, exts.get(q.id, [])) for q in rows], total

    async def get(self, me: Principal, slug: str, name: str) -> QueueOut:
        me.require(READ_ROLES | {"agent"}, "read queues")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            q = await self._find(s, domain, name)
            return queue_view(domain, q, (await queue_extensions(s, [q.id])).get(q.id, []))

    async def create(self, me: Principal, slug: str, body: QueueCreate) -> QueueOut:
        me.require(ADMIN_ROLES | {"supervisor"}, "create queues")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if await s.scalar(select(Queue.id).where(Queue.domain_id == domain.id, Queue.name == body.name)):
                raise Conflict(f"queue {body.name} already exists", field="name")
            values = body.model_dump(exclude={"extensions", "overflow"})
            q = Queue(domain_id=domain.id, overflow=body.overflow.model_dump(), **values)
            await self._check_overflow(s, domain, body.name, body.overflow.model_dump())
            ext_ids = await self._extension_ids(s, domain, body.extensions)
            s.add(q)
            try:
                await s.flush()
                s.add_all(QueueExtension(queue_id=q.id, extension_id=e) for e in ext_ids)
                await s.commit()
            except IntegrityError:
                raise Conflict(f"queue {body.name} already exists", field="name") from None
            out = queue_view(domain, q, sorted(body.extensions))
        await self.changed()
        return out

    async def update(self, me: Principal, slug: str, name: str, body: QueueUpdate) -> QueueOut:
        me.require(ADMIN_ROLES | {"supervisor"}, "change queues")
        changes = changes_of(body, nullable=("busy_delay", "monitoring_group", "callback_key"))
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            q = await self._find(s, domain, name)
            if "overflow" in changes:
                await self._check_overflow(s, domain, q.name, changes["overflow"])
            if "extensions" in changes:
                ext_ids = await self._extension_ids(s, domain, changes.pop("extensions"))
                await s.execute(delete(QueueExtension).where(QueueExtension.queue_id == q.id))
                s.add_all(QueueExtension(queue_id=q.id, extension_id=e) for e in ext_ids)
            for key, value in changes.items():
                setattr(q, key, value)
            await s.commit()
            out = queue_view(domain, q, (await queue_extensions(s, [q.id])).get(q.id, []))
        await self.changed()
        if self.on_policy_change:
            await self.on_policy_change()
        return out

    async def delete(self, me: Principal, slug: str, name: str) -> None:
        me.require(ADMIN_ROLES | {"supervisor"}, "delete queues")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            q = await self._find(s, domain, name)
            logged = await s.scalar(select(func.count()).where(AgentSessionQueue.queue_id == q.id)) or 0
            if logged:
                raise Conflict(f"{logged} agent(s) are logged into queue {name}; log them out first",
                               field="name")
            users = await s.scalars(select(Queue).where(Queue.domain_id == domain.id, Queue.id != q.id))
            for other in users:
                if other.overflow.get("type") == "queue" and other.overflow.get("target") == name:
                    raise Conflict(f"queue {other.name} overflows to {name}", field="name")
            await s.delete(q)
            await s.commit()
        await self.changed()

    @staticmethod
    async def _find(s: AsyncSession, domain: Domain, name: str) -> Queue:
        q = await s.scalar(select(Queue).where(Queue.domain_id == domain.id, Queue.name == name))
        if q is None:
            raise NotFound(f"queue {name} not found", field="name")
        return q

    @staticmethod
    async def _extension_ids(s: AsyncSession, domain: Domain, numbers: list[str]) -> list[int]:
        if len(set(numbers)) != len(numbers):
            raise ValidationFailed("extensions lists a number twice", field="extensions")
        rows = dict((await s.execute(select(Extension.number, Extension.id).where(
            Extension.domain_id == domain.id, Extension.number.in_(numbers or ["-"])))).all())
        missing = sorted(set(numbers) - set(rows))
        if missing:
            raise ValidationFailed(f"no such extension(s): {', '.join(missing)}", field="extensions")
        return [rows[n] for n in numbers]

    @staticmethod
    async def _check_overflow(s: AsyncSession, domain: Domain, name: str, overflow: dict[str, Any]) -> None:
        kind, target = overflow.get("type"), overflow.get("target")
        if kind == "queue":
            if target == name:
                raise ValidationFailed("a queue cannot overflow to itself", field="overflow.target")
            if not await s.scalar(select(Queue.id).where(Queue.domain_id == domain.id, Queue.name == target)):
                raise ValidationFailed(f"no such queue: {target}", field="overflow.target")
        elif kind == "extension":
            if not await s.scalar(select(Extension.id).where(Extension.domain_id == domain.id,
                                                            Extension.number == target)):
                raise ValidationFailed(f"no such extension: {target}", field="overflow.target")
