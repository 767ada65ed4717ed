"""Inbound routes (DID -> destination) and the inbound blacklist."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound, ValidationFailed
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..callgroups.models import CallGroup
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..extensions.models import Extension
from ..ivr.models import IvrTree
from ..queues.models import Queue
from .domain import caller_patterns, normalize_number
from .models import BlacklistEntry, BlacklistRejection, InboundRoute
from .schemas import BlacklistCreate, BlacklistOut, RejectionOut, RouteCreate, RouteOut, RouteUpdate

Changed = Callable[[], Awaitable[None]]
WRITERS = ADMIN_ROLES | {"supervisor"}


async def check_destination(s: AsyncSession, domain: Domain, kind: str, target: str | None, field: str) -> None:
    model: Any = {"queue": Queue, "ivr": IvrTree, "extension": Extension, "callgroup": CallGroup}.get(kind)
    if model is None:
        return
    column = model.number if model is Extension else model.name
    if not await s.scalar(select(model.id).where(model.domain_id == domain.id, column == target)):
        raise ValidationFailed(f"no such {kind}: {target}", field=field)


def api_type(kind: str) -> str:
    """A destination's type as API.md spells it (``call_group``; stored as ``callgroup``)."""
    return "call_group" if kind == "callgroup" else kind


def route_view(r: InboundRoute) -> RouteOut:
    return RouteOut(did=r.did, destination={"type": api_type(r.destination_type), "target": r.destination_target},
                    reject_delay=r.reject_delay)


class RouteService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], changed: Changed) -> None:
        self.sessions = sessions
        self.changed = changed

    async def list(self, me: Principal, slug: str) -> list[RouteOut]:
        me.require(READ_ROLES, "list routes")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            rows = await s.scalars(select(InboundRoute).where(InboundRoute.domain_id == domain.id)
                                   .order_by(InboundRoute.did))
            return [route_view(r) for r in rows]

    async def create(self, me: Principal, slug: str, body: RouteCreate) -> RouteOut:
        me.require(WRITERS, "create routes")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if await s.scalar(select(InboundRoute.id).where(InboundRoute.did == body.did)):
                raise Conflict(f"DID {body.did} is already routed", field="did")
            await check_destination(s, domain, body.destination.type, body.destination.target,
                                    "destination.target")
            route = InboundRoute(domain_id=domain.id, did=body.did, destination_type=body.destination.type,
                                 destination_target=body.destination.target, reject_delay=body.reject_delay)
            s.add(route)
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"DID {body.did} is already routed", field="did") from None
        await self.changed()
        return route_view(route)

    async def update(self, me: Principal, slug: str, did: str, body: RouteUpdate) -> RouteOut:
        me.require(WRITERS, "change routes")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            route = await self._find(s, domain, did)
            if body.destination is not None:
                await check_destination(s, domain, body.destination.type, body.destination.target,
                                        "destination.target")
                route.destination_type = body.destination.type
                route.destination_target = body.destination.target
            if body.reject_delay is not None:
                route.reject_delay = body.reject_delay
            await s.commit()
        await self.changed()
        return route_view(route)

    async def get(self, me: Principal, slug: str, did: str) -> RouteOut:
        me.require(READ_ROLES, "read routes")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            return route_view(await self._find(s, domain, did))

    async def delete(self, me: Principal, slug: str, did: str) -> None:
        me.require(WRITERS, "delete routes")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            await s.delete(await self._find(s, domain, did))
            await s.commit()
        await self.changed()

    @staticmethod
    async def _find(s: AsyncSession, domain: Domain, did: str) -> InboundRoute:
        route = await s.scalar(select(InboundRoute).where(InboundRoute.domain_id == domain.id,
                                                          InboundRoute.did == did))
        if route is None:
            raise NotFound(f"route for DID {did} not found", field="did")
        return route

    # -- blacklist -------------------------------------------------------------------
    async def blacklist(self, me: Principal, slug: str) -> list[BlacklistOut]:
        me.require(READ_ROLES, "read the blacklist")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            rows = await s.scalars(select(BlacklistEntry).where(BlacklistEntry.domain_id == domain.id)
                                   .order_by(BlacklistEntry.number))
            return [BlacklistOut(number=r.number, reason=r.reason, matches=caller_patterns(r.number)) for r in rows]

    async def block(self, me: Principal, slug: str, body: BlacklistCreate) -> BlacklistOut:
        me.require(WRITERS, "change the blacklist")
        try:
            number = normalize_number(body.number)
        except ValueError as exc:
            raise ValidationFailed(f"number: {exc}", field="number") from None
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if await s.scalar(select(BlacklistEntry.id).where(BlacklistEntry.domain_id == domain.id,
                                                              BlacklistEntry.number == number)):
                raise Conflict(f"{number} is already blacklisted", field="number")
            s.add(BlacklistEntry(domain_id=domain.id, number=number, reason=body.reason))
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"{number} is already blacklisted", field="number") from None
        await self.changed()
        return BlacklistOut(number=number, reason=body.reason, matches=caller_patterns(number))

    async def blocked(self, me: Principal, slug: str, number: str) -> BlacklistOut:
        """One blacklisted number (given in any of the forms it matches)."""
        me.require(READ_ROLES, "read the blacklist")
        async with self.sessions() as s:
            row = await self._entry(s, await resolve_domain(s, me, slug), number)
            return BlacklistOut(number=row.number, reason=row.reason, matches=caller_patterns(row.number))

    async def unblock(self, me: Principal, slug: str, number: str) -> None:
        me.require(WRITERS, "change the blacklist")
        async with self.sessions() as s:
            await s.delete(await self._entry(s, await resolve_domain(s, me, slug), number))
            await s.commit()
        await self.changed()

    @staticmethod
    async def _entry(s: AsyncSession, domain: Domain, number: str) -> BlacklistEntry:
        """The domain's entry for ``number`` in any form it matches; 404 naming ``number``."""
        try:
            canonical = normalize_number(number)
        except ValueError:
            raise NotFound(f"{number} is not blacklisted", field="number") from None
        row = await s.scalar(select(BlacklistEntry).where(BlacklistEntry.domain_id == domain.id,
                                                          BlacklistEntry.number == canonical))
        if row is None:
            raise NotFound(f"{number} is not blacklisted", field="number")
        return row

    async def rejections(self, me: Principal, slug: str, limit: int, offset: int) -> tuple[list[RejectionOut], int]:
        me.require(READ_ROLES, "read blacklist rejections")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            where = BlacklistRejection.domain_id == domain.id
            total = await s.scalar(select(func.count()).where(where)) or 0
            rows = await s.scalars(select(BlacklistRejection).where(where).order_by(BlacklistRejection.id.desc())
                                   .limit(limit).offset(offset))
            return [RejectionOut(caller=r.caller, did=r.did, at=r.at.isoformat()) for r in rows], total

    async def record_rejection(self, slug: str, caller: str, did: str, uniqueid: str | None,
                               at: datetime | None = None) -> None:
        async with self.sessions() as s:
            domain_id = await s.scalar(select(Domain.id).where(Domain.slug == slug))
            if domain_id is None:
                return
            s.add(BlacklistRejection(domain_id=domain_id, caller=caller[:40], did=did[:20], uniqueid=uniqueid,
                                     **({"at": at} if at else {})))
            try:
                await s.commit()
            except IntegrityError:
                pass  # the same call reported twice (two ccplane processes): keep one row
