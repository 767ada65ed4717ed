"""Domains (tenants): created by root, visible to their members."""
from __future__ import annotations

from typing import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound
from ...web.context import Principal
from ..extensions.models import Extension
from ..queues.models import Queue
from ..users.models import Membership
from .models import Domain
from .schemas import DomainCreate, DomainUpdate

Changed = Callable[[], Awaitable[None]]


async def resolve_domain(session: AsyncSession, principal: Principal, slug: str) -> Domain:
    """The domain named by ``slug`` if the principal may see it; 404 otherwise
    (a user of another domain learns nothing, not even that it exists)."""
    domain = await session.scalar(select(Domain).where(Domain.slug == slug))
    if domain is None or not principal.in_domain(domain.id):
        raise NotFound(f"domain {slug} not found", field="domain")
    return domain


class DomainService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], changed: Changed) -> None:
        self.sessions = sessions
        self.changed = changed

    async def list(self, principal: Principal, limit: int, offset: int) -> tuple[list[Domain], int]:
        async with self.sessions() as s:
            q = select(Domain)
            if not principal.is_root:
                q = q.where(Domain.id.in_(principal.domain_ids or {-1}))
            total = await s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = (await s.scalars(q.order_by(Domain.slug).limit(limit).offset(offset))).all()
            return list(rows), total

    async def get(self, principal: Principal, slug: str) -> Domain:
        async with self.sessions() as s:
            return await resolve_domain(s, principal, slug)

    async def create(self, body: DomainCreate) -> Domain:
        async with self.sessions() as s:
            if await s.scalar(select(Domain.id).where(Domain.slug == body.slug)) is not None:
                raise Conflict(f"domain {body.slug} already exists", field="slug")
            domain = Domain(slug=body.slug, name=body.name)
            s.add(domain)
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"domain {body.slug} already exists", field="slug") from None
        await self.changed()
        return domain

    async def update(self, principal: Principal, slug: str, body: DomainUpdate) -> Domain:
        async with self.sessions() as s:
            domain = await resolve_domain(s, principal, slug)
            if body.name is not None:
                domain.name = body.name
            await s.commit()
            return domain

    async def delete(self, principal: Principal, slug: str) -> None:
        async with self.sessions() as s:
            domain = await resolve_domain(s, principal, slug)
            n_ext = await s.scalar(select(func.count()).where(Extension.domain_id == domain.id)) or 0
            n_users = await s.scalar(select(func.count()).where(Membership.domain_id == domain.id)) or 0
            n_queues = await s.scalar(select(func.count()).where(Queue.domain_id == domain.id)) or 0
            if n_ext or n_users or n_queues:
                raise Conflict(f"domain {slug} still has {n_ext} extension(s), {n_queues} queue(s) and "
                               f"{n_users} user(s); delete them first", field="domain")
            await s.delete(domain)
            await s.commit()
        await self.changed()
