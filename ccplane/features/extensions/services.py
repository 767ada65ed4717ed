"""Extensions (ramais): PJSIP endpoints rendered into Asterisk."""
from __future__ import annotations

from typing import Awaitable, Callable, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..common import changes_of
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..agents.models import AgentSession
from ..users.models import User
from .domain import endpoint_name
from .models import Extension
from .schemas import ExtensionCreate, ExtensionOut, ExtensionUpdate

Changed = Callable[[], Awaitable[None]]


class Registrations(Protocol):
    def contacts(self, endpoint: str) -> list[str]: ...


class ExtensionService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], changed: Changed,
                 registrations: Registrations) -> None:
        self.sessions = sessions
        self.changed = changed
        self.registrations = registrations

    def view(self, domain: Domain, ext: Extension, in_use_by: str | None = None) -> ExtensionOut:
        name = endpoint_name(domain.slug, ext.number)
        contacts = self.registrations.contacts(name)
        return ExtensionOut(number=ext.number, name=ext.name, kind=ext.kind, sip_username=name,
                            registered=bool(contacts), in_use_by=in_use_by, contacts=contacts,
                            record=bool(ext.record))

    @staticmethod
    async def _users_on(s: AsyncSession, domain: Domain) -> dict[int, str]:
        """extension id -> username of the agent logged in on it."""
        rows = await s.execute(select(AgentSession.extension_id, User.username)
                               .join(User, User.id == AgentSession.user_id)
                               .where(AgentSession.domain_id == domain.id))
        return dict(rows.all())

    async def list(self, me: Principal, slug: str, limit: int, offset: int) -> tuple[list[ExtensionOut], int]:
        me.require(READ_ROLES | {"agent"}, "list extensions")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            where = Extension.domain_id == domain.id
            total = await s.scalar(select(func.count()).where(where)) or 0
            rows = await s.scalars(select(Extension).where(where).order_by(Extension.number)
                                   .limit(limit).offset(offset))
            users_on = await self._users_on(s, domain)
            return [self.view(domain, e, users_on.get(e.id)) for e in rows], total

    async def get(self, me: Principal, slug: str, number: str) -> ExtensionOut:
        me.require(READ_ROLES | {"agent"}, "read extensions")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            ext = await self._find(s, domain, number)
            return self.view(domain, ext, (await self._users_on(s, domain)).get(ext.id))

    async def create(self, me: Principal, slug: str, body: ExtensionCreate) -> ExtensionOut:
        me.require(ADMIN_ROLES, "create extensions")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if await self._exists(s, domain, body.number):
                raise Conflict(f"extension {body.number} already exists", field="number")
            ext = Extension(domain_id=domain.id, **body.model_dump())
            s.add(ext)
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"extension {body.number} already exists", field="number") from None
        await self.changed()
        return self.view(domain, ext)

    async def update(self, me: Principal, slug: str, number: str, body: ExtensionUpdate) -> ExtensionOut:
        me.require(ADMIN_ROLES, "change extensions")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            ext = await self._find(s, domain, number)
            for key, value in changes_of(body).items():
                setattr(ext, key, value)
            await s.commit()
        await self.changed()
        return self.view(domain, ext)

    async def delete(self, me: Principal, slug: str, number: str) -> None:
        me.require(ADMIN_ROLES, "delete extensions")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            ext = await self._find(s, domain, number)
            user = (await self._users_on(s, domain)).get(ext.id)
            if user:
                raise Conflict(f"agent {user} is logged in on extension {number}", field="number")
            await s.delete(ext)
            await s.commit()
        await self.changed()

    @staticmethod
    async def _exists(s: AsyncSession, domain: Domain, number: str) -> bool:
        q = select(Extension.id).where(Extension.domain_id == domain.id, Extension.number == number)
        return await s.scalar(q) is not None

    @staticmethod
    async def _find(s: AsyncSession, domain: Domain, number: str) -> Extension:
        ext = await s.scalar(select(Extension).where(Extension.domain_id == domain.id,
                                                     Extension.number == number))
        if ext is None:
            raise NotFound(f"extension {number} not found", field="number")
        return ext
