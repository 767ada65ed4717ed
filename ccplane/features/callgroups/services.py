"""Call groups (ring groups): CRUD with the checks that keep the rendered dialplan whole."""
from __future__ import annotations

from typing import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound, ValidationFailed
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..extensions.models import Extension
from ..routes.models import InboundRoute
from ..routes.services import api_type, check_destination
from .models import CallGroup
from .schemas import CallGroupCreate, CallGroupOut, CallGroupUpdate, NoAnswer

Changed = Callable[[], Awaitable[None]]
WRITERS = ADMIN_ROLES | {"supervisor"}


def group_view(g: CallGroup) -> CallGroupOut:
    return CallGroupOut(name=g.name, number=g.number, strategy=g.strategy, extensions=list(g.extensions),
                        ring_timeout=g.ring_timeout,
                        no_answer={"type": api_type(str(g.no_answer.get("type"))),
                                   "target": g.no_answer.get("target")})  # type: ignore[arg-type]


class CallGroupService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], changed: Changed) -> None:
        self.sessions = sessions
        self.changed = changed

    async def list(self, me: Principal, slug: str) -> list[CallGroupOut]:
        me.require(READ_ROLES, "list call groups")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            rows = await s.scalars(select(CallGroup).where(CallGroup.domain_id == domain.id).order_by(CallGroup.name))
            return [group_view(g) for g in rows]

    async def get(self, me: Principal, slug: str, name: str) -> CallGroupOut:
        me.require(READ_ROLES, "read call groups")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            return group_view(await self._find(s, domain, name))

    async def create(self, me: Principal, slug: str, body: CallGroupCreate) -> CallGroupOut:
        me.require(WRITERS, "create call groups")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if await s.scalar(select(CallGroup.id).where(CallGroup.domain_id == domain.id, CallGroup.name == body.name)):
                raise Conflict(f"call group {body.name} already exists", field="name")
            await self._check_number(s, domain, body.number, None)
            await self._check_extensions(s, domain, body.extensions)
            await self._check_no_answer(s, domain, body.no_answer, body.name)
            group = CallGroup(domain_id=domain.id, name=body.name, number=body.number, strategy=body.strategy,
                              extensions=list(body.extensions), ring_timeout=body.ring_timeout,
                              no_answer=body.no_answer.model_dump())
            s.add(group)
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"call group {body.name} or number {body.number} already exists", field="name") from None
        await self.changed()
        return group_view(group)

    async def update(self, me: Principal, slug: str, name: str, body: CallGroupUpdate) -> CallGroupOut:
        me.require(WRITERS, "change call groups")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            group = await self._find(s, domain, name)
            if body.number is not None and body.number != group.number:
                await self._check_number(s, domain, body.number, group.id)
                group.number = body.number
            if body.extensions is not None:
                await self._check_extensions(s, domain, body.extensions)
                group.extensions = list(body.extensions)
            if body.no_answer is not None:
                await self._check_no_answer(s, domain, body.no_answer, name)
                group.no_answer = body.no_answer.model_dump()
            if body.strategy is not None:
                group.strategy = body.strategy
            if body.ring_timeout is not None:
                group.ring_timeout = body.ring_timeout
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"number {body.number} is already taken", field="number") from None
        await self.changed()
        return group_view(group)

    async def delete(self, me: Principal, slug: str, name: str) -> None:
        me.require(WRITERS, "delete call groups")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            group = await self._find(s, domain, name)
            did = await s.scalar(select(InboundRoute.did).where(
                InboundRoute.domain_id == domain.id, InboundRoute.destination_type == "callgroup",
                InboundRoute.destination_target == name))
            if did:
                raise Conflict(f"inbound route {did} sends calls to call group {name}", field="name")
            for other in await s.scalars(select(CallGroup).where(CallGroup.domain_id == domain.id,
                                                                 CallGroup.id != group.id)):
                if other.no_answer.get("type") == "callgroup" and other.no_answer.get("target") == name:
                    raise Conflict(f"call group {other.name} sends unanswered calls to {name}", field="name")
            await s.delete(group)
            await s.commit()
        await self.changed()

    @staticmethod
    async def _find(s: AsyncSession, domain: Domain, name: str) -> CallGroup:
        g = await s.scalar(select(CallGroup).where(CallGroup.domain_id == domain.id, CallGroup.name == name))
        if g is None:
            raise NotFound(f"call group {name} not found", field="name")
        return g

    @staticmethod
    async def _check_number(s: AsyncSession, domain: Domain, number: str, own_id: int | None) -> None:
        if await s.scalar(select(Extension.id).where(Extension.domain_id == domain.id, Extension.number == number)):
            raise Conflict(f"{number} is an extension's number", field="number")
        stmt = select(CallGroup.name).where(CallGroup.domain_id == domain.id, CallGroup.number == number)
        if own_id is not None:
            stmt = stmt.where(CallGroup.id != own_id)
        taken = await s.scalar(stmt)
        if taken:
            raise Conflict(f"{number} is call group {taken}'s number", field="number")

    @staticmethod
    async def _check_extensions(s: AsyncSession, domain: Domain, numbers: list[str]) -> None:
        if len(set(numbers)) != len(numbers):
            raise ValidationFailed("extensions lists a number twice", field="extensions")
        known = set((await s.scalars(select(Extension.number).where(
            Extension.domain_id == domain.id, Extension.number.in_(numbers)))).all())
        missing = [n for n in numbers if n not in known]
        if missing:
            raise ValidationFailed(f"no such extension: {', '.join(missing)}", field="extensions")

    @staticmethod
    async def _check_no_answer(s: AsyncSession, domain: Domain, dest: NoAnswer, own_name: str) -> None:
        if dest.type == "callgroup" and dest.target == own_name:
            raise ValidationFailed("a call group cannot send unanswered calls to itself", field="no_answer.target")
        await check_destination(s, domain, dest.type, dest.target, "no_answer.target")
