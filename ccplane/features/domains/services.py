"""Domains (tenants): created by root, visible to their members."""
from __future__ import annotations

from typing import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound
from ...web.context import Principal
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
            domain = Domain(slug=body.slug, name=body.name, timezone=body.timezone)
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
            if body.timezone is not None:
                domain.timezone = body.timezone
            await s.commit()
            return domain

    async def delete(self, principal: Principal, slug: str) -> None:
        """Refuse (409, naming what is left) rather than cascade: a domain's
        configuration is deleted on purpose, one resource at a time, and its
        alert history (alerts and their audit chain) is kept for good, so a
        domain that ever had alert activity is never deleted. Rows that only
        belong to it (settings, blacklist, persons, call records) go with it."""
        async with self.sessions() as s:
            domain = await resolve_domain(s, principal, slug)
            left = await _still_in(s, domain.id)
            if left:
                raise Conflict(f"domain {slug} still has {', '.join(left)}; delete them first"
                               + (" (alert history is kept: a domain with alerts cannot be deleted)"
                                  if any("alert" in t or "audit" in t for t in left) else ""),
                               field="domain")
            await s.delete(domain)
            await s.commit()
        await self.changed()


async def _still_in(s: AsyncSession, domain_id: int) -> list[str]:
    """What still refers to the domain and would not go with it: every table
    whose key to ``domains`` does not cascade, read from the metadata so a new
    table is covered the day it is added, plus the domain's users."""
    from ...db import models  # noqa: F401  (every table in the metadata)
    from ...db.base import Base
    left: list[str] = []
    n_users = await s.scalar(select(func.count()).where(Membership.domain_id == domain_id)) or 0
    if n_users:
        left.append(f"{n_users} user(s)")
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == Domain.__tablename__ and (fk.ondelete or "").upper() != "CASCADE":
                n = await s.scalar(select(func.count()).select_from(table).where(fk.parent == domain_id)) or 0
                if n:
                    left.append(f"{n} {_LABELS.get(table.name, table.name.replace('_', ' '))}")
    return left


_LABELS = {"extensions": "extension(s)", "queues": "queue(s)", "ivr_trees": "IVR(s)",
           "inbound_routes": "inbound route(s)", "outbound_routes": "outbound route(s)", "trunks": "trunk(s)",
           "alerts": "alert(s)", "alert_audit": "audit log entries"}
