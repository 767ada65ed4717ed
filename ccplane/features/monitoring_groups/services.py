"""Monitoring groups: ``name`` and the ``queues`` they cover; users belong
through their ``monitoring_groups``. A queue is covered by one group at most:
the relation is the queue's own ``monitoring_group`` (the group's name), so the
queues API and this one always agree. A queue naming a group that does not
exist is covered by nobody until a group of that name is created."""
from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound, ValidationFailed
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..queues.models import Queue
from ..users.models import User
from .models import MonitoringGroup, MonitoringGroupMember
from .schemas import GroupCreate, GroupOut, GroupUpdate


async def covered_queues(s: AsyncSession, domain_id: int, user_id: int) -> set[str]:
    """The names of the queues the groups ``user_id`` belongs to cover, in one domain."""
    rows = await s.scalars(
        select(Queue.name).join(MonitoringGroup, (MonitoringGroup.domain_id == Queue.domain_id)
                                & (MonitoringGroup.name == Queue.monitoring_group))
        .join(MonitoringGroupMember, MonitoringGroupMember.group_id == MonitoringGroup.id)
        .where(Queue.domain_id == domain_id, MonitoringGroupMember.user_id == user_id))
    return set(rows)


class Memberships:
    """Users' ``monitoring_groups`` (the users feature calls it in its own session)."""

    async def names(self, s: AsyncSession, domain_id: int, user_ids: Sequence[int]) -> dict[int, list[str]]:
        if not user_ids:
            return {}
        rows = await s.execute(select(MonitoringGroupMember.user_id, MonitoringGroup.name)
                               .join(MonitoringGroup, MonitoringGroup.id == MonitoringGroupMember.group_id)
                               .where(MonitoringGroup.domain_id == domain_id,
                                      MonitoringGroupMember.user_id.in_(list(user_ids)))
                               .order_by(MonitoringGroup.name))
        out: dict[int, list[str]] = {}
        for user_id, name in rows:
            out.setdefault(user_id, []).append(name)
        return out

    async def assign(self, s: AsyncSession, domain_id: int, user_id: int, names: Sequence[str]) -> None:
        """Replace the user's groups in this domain (not flushed: the caller commits)."""
        wanted = list(dict.fromkeys(names))
        groups = {g.name: g for g in await s.scalars(select(MonitoringGroup).where(
            MonitoringGroup.domain_id == domain_id, MonitoringGroup.name.in_(wanted)))} if wanted else {}
        unknown = [n for n in wanted if n not in groups]
        if unknown:
            raise ValidationFailed(f"monitoring_groups: no monitoring group {unknown[0]!r} in this domain",
                                   field="monitoring_groups")
        in_domain = select(MonitoringGroup.id).where(MonitoringGroup.domain_id == domain_id)
        await s.execute(delete(MonitoringGroupMember).where(MonitoringGroupMember.user_id == user_id,
                                                            MonitoringGroupMember.group_id.in_(in_domain)))
        for name in wanted:
            s.add(MonitoringGroupMember(group_id=groups[name].id, user_id=user_id))


class MonitoringGroupService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def list(self, me: Principal, slug: str, limit: int, offset: int) -> tuple[builtins.list[GroupOut], int]:
        me.require(READ_ROLES, "list monitoring groups")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            where = MonitoringGroup.domain_id == domain.id
            total = await s.scalar(select(func.count()).select_from(MonitoringGroup).where(where)) or 0
            rows = list(await s.scalars(select(MonitoringGroup).where(where).order_by(MonitoringGroup.name)
                                        .limit(limit).offset(offset)))
            return [await self._view(s, domain, g) for g in rows], total

    async def get(self, me: Principal, slug: str, name: str) -> GroupOut:
        me.require(READ_ROLES, "read monitoring groups")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            return await self._view(s, domain, await self._find(s, domain, name))

    async def create(self, me: Principal, slug: str, body: GroupCreate) -> GroupOut:
        me.require(ADMIN_ROLES, "create monitoring groups")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if await s.scalar(select(MonitoringGroup.id).where(MonitoringGroup.domain_id == domain.id,
                                                               MonitoringGroup.name == body.name)) is not None:
                raise Conflict(f"monitoring group {body.name} already exists", field="name")
            group = MonitoringGroup(domain_id=domain.id, name=body.name)
            s.add(group)
            if "queues" in body.model_fields_set:  # else: the queues that already name it
                await self._cover(s, domain, body.name, body.queues, previous=None)
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"monitoring group {body.name} already exists", field="name") from None
            return await self._view(s, domain, group)

    async def update(self, me: Principal, slug: str, name: str, body: GroupUpdate) -> GroupOut:
        me.require(ADMIN_ROLES, "change monitoring groups")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            group = await self._find(s, domain, name)
            new_name = body.name or group.name
            if new_name != group.name:
                if await s.scalar(select(MonitoringGroup.id).where(MonitoringGroup.domain_id == domain.id,
                                                                   MonitoringGroup.name == new_name)) is not None:
                    raise Conflict(f"monitoring group {new_name} already exists", field="name")
                # the queues it covers follow it
                await s.execute(update(Queue).where(Queue.domain_id == domain.id, Queue.monitoring_group == group.name)
                                .values(monitoring_group=new_name))
                group.name = new_name
            if body.queues is not None:
                await self._cover(s, domain, new_name, body.queues, previous=new_name)
            await s.commit()
            return await self._view(s, domain, group)

    async def delete(self, me: Principal, slug: str, name: str) -> None:
        me.require(ADMIN_ROLES, "delete monitoring groups")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            group = await self._find(s, domain, name)
            await s.execute(update(Queue).where(Queue.domain_id == domain.id, Queue.monitoring_group == group.name)
                            .values(monitoring_group=None))
            await s.delete(group)
            await s.commit()

    @staticmethod
    async def _cover(s: AsyncSession, domain: Domain, name: str, queues: Sequence[str], previous: str | None) -> None:
        """Make ``queues`` exactly the queues group ``name`` covers. A queue of
        another existing group is refused (409): moving it is that group's change."""
        wanted = list(dict.fromkeys(queues))
        rows = {q.name: q for q in await s.scalars(select(Queue).where(
            Queue.domain_id == domain.id, Queue.name.in_(wanted)))} if wanted else {}
        missing = [q for q in wanted if q not in rows]
        if missing:
            raise ValidationFailed(f"queues: no queue {missing[0]!r} in this domain", field="queues")
        groups = set(await s.scalars(select(MonitoringGroup.name).where(MonitoringGroup.domain_id == domain.id)))
        for q in rows.values():
            if q.monitoring_group and q.monitoring_group not in (name, previous) and q.monitoring_group in groups:
                raise Conflict(f"queues: queue {q.name} belongs to monitoring group {q.monitoring_group}",
                               field="queues")
        await s.execute(update(Queue).where(Queue.domain_id == domain.id, Queue.monitoring_group == name,
                                            Queue.name.not_in(wanted)).values(monitoring_group=None))
        if wanted:
            await s.execute(update(Queue).where(Queue.domain_id == domain.id, Queue.name.in_(wanted))
                            .values(monitoring_group=name))

    @staticmethod
    async def _view(s: AsyncSession, domain: Domain, group: MonitoringGroup) -> GroupOut:
        queues = list(await s.scalars(select(Queue.name).where(
            Queue.domain_id == domain.id, Queue.monitoring_group == group.name).order_by(Queue.name)))
        members = list(await s.scalars(select(User.username).join(
            MonitoringGroupMember, MonitoringGroupMember.user_id == User.id)
            .where(MonitoringGroupMember.group_id == group.id).order_by(User.username)))
        return GroupOut(name=group.name, queues=queues, members=members, created_at=group.created_at)

    @staticmethod
    async def _find(s: AsyncSession, domain: Domain, name: str) -> MonitoringGroup:
        group = await s.scalar(select(MonitoringGroup).where(MonitoringGroup.domain_id == domain.id,
                                                             MonitoringGroup.name == name))
        if group is None:
            raise NotFound(f"monitoring group {name} not found", field="name")
        return group
