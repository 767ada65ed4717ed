"""Per-domain SIP trunks and outbound routes (dialled pattern -> trunks in order)."""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...asterisk.events import AmiEvent
from ...errors import Conflict, NotFound, ValidationFailed
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..domains.services import resolve_domain
from .models import OutboundRoute, Trunk
from .schemas import OutboundRouteCreate, OutboundRouteOut, OutboundRouteUpdate, TrunkCreate, TrunkOut, TrunkUpdate

Changed = Callable[[], Awaitable[None]]


def trunk_endpoint(slug: str, name: str) -> str:
    return f"trunk_{slug}_{name}"


class Reachability(Protocol):
    def reachability(self, endpoint: str) -> str: ...


def _route_view(r: OutboundRoute) -> OutboundRouteOut:
    return OutboundRouteOut(name=r.name, patterns=list(r.patterns), trunks=list(r.trunks), strip=r.strip,
                            prefix=r.prefix, record=r.record)


class TrunkService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], changed: Changed,
                 contacts: Reachability) -> None:
        self.sessions = sessions
        self.changed = changed
        self.contacts = contacts
        # (client URI, server URI) of an outbound registration -> its status
        # (Registered, Unregistered, Rejected); two domains' trunks to one carrier differ by client URI
        self.registrations: dict[tuple[str, str], str] = {}
        self.registry_events = 0  # counts Registry events: a snapshot older than one loses
        self._changed_at: dict[tuple[str, str], int] = {}

    def on_registry(self, event: AmiEvent) -> None:
        """AMI Registry events of outbound registrations: Username is the client
        URI, Domain the server URI."""
        client = str(event.fields.get("Username") or "")
        server = str(event.fields.get("Domain") or "")
        status = str(event.fields.get("Status") or "")
        if server and status:
            self.registry_events += 1
            self.registrations[(client, server)] = status
            self._changed_at[(client, server)] = self.registry_events

    def reset_registrations(self, items: list[dict[str, Any]], asked_after: int) -> None:
        """After a (re)connect: what PJSIPShowRegistrationsOutbound says now (a
        registration that succeeded while we were away sends no new event).
        ``asked_after`` is ``registry_events`` when the list was asked for: an
        event that came since is newer than the list and is kept."""
        fresh = {key: status for key, status in self.registrations.items()
                 if self._changed_at.get(key, 0) > asked_after}
        self.registrations = {
            (str(i.get("ClientUri") or ""), str(i.get("ServerUri") or "")): str(i.get("Status") or "")
            for i in items if i.get("Event") == "OutboundRegistrationDetail" and i.get("Status")}
        self.registrations.update(fresh)

    def view(self, slug: str, t: Trunk) -> TrunkOut:
        endpoint = trunk_endpoint(slug, t.name)
        status = self.contacts.reachability(endpoint)
        if t.register:
            server = f"sip:{t.host}:{t.port}" + (";transport=tcp" if t.transport == "tcp" else "")
            registry = self.registrations.get((f"sip:{t.username}@{t.host}:{t.port}", server))
            status = f"{status}; registration {registry.lower() if registry else 'pending'}"
        return TrunkOut(name=t.name, host=t.host, port=t.port, transport=t.transport, username=t.username,
                        registration=t.register, caller_id=t.caller_id,
                        match=list(t.match or []), endpoint=endpoint, status=status)

    async def list(self, me: Principal, slug: str) -> list[TrunkOut]:
        me.require(READ_ROLES, "list trunks")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            rows = await s.scalars(select(Trunk).where(Trunk.domain_id == domain.id).order_by(Trunk.name))
            return [self.view(domain.slug, t) for t in rows]

    async def create(self, me: Principal, slug: str, body: TrunkCreate) -> TrunkOut:
        me.require(ADMIN_ROLES, "create trunks")
        if body.registration and not (body.username and body.secret):
            raise ValidationFailed("a registering trunk needs username and secret", field="register")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if await s.scalar(select(Trunk.id).where(Trunk.domain_id == domain.id, Trunk.name == body.name)):
                raise Conflict(f"trunk {body.name} already exists", field="name")
            values = body.model_dump()
            values["register"] = values.pop("registration")
            trunk = Trunk(domain_id=domain.id, **values)
            s.add(trunk)
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"trunk {body.name} already exists", field="name") from None
        await self.changed()
        return self.view(domain.slug, trunk)

    async def get(self, me: Principal, slug: str, name: str) -> TrunkOut:
        me.require(READ_ROLES, "read trunks")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            return self.view(domain.slug, await self._trunk(s, domain.id, name))

    async def update(self, me: Principal, slug: str, name: str, body: TrunkUpdate) -> TrunkOut:
        me.require(ADMIN_ROLES, "change trunks")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            trunk = await self._trunk(s, domain.id, name)
            changes = body.model_dump(exclude_unset=True)
            if "registration" in changes:
                changes["register"] = changes.pop("registration")
            for key, value in changes.items():
                setattr(trunk, key, value)
            if trunk.register and not (trunk.username and trunk.secret):
                raise ValidationFailed("a registering trunk needs username and secret", field="register")
            await s.commit()
            out = self.view(domain.slug, trunk)
        await self.changed()
        return out

    @staticmethod
    async def _trunk(s: AsyncSession, domain_id: int, name: str) -> Trunk:
        trunk = await s.scalar(select(Trunk).where(Trunk.domain_id == domain_id, Trunk.name == name))
        if trunk is None:
            raise NotFound(f"trunk {name} not found", field="name")
        return trunk

    async def delete(self, me: Principal, slug: str, name: str) -> None:
        me.require(ADMIN_ROLES, "delete trunks")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            trunk = await s.scalar(select(Trunk).where(Trunk.domain_id == domain.id, Trunk.name == name))
            if trunk is None:
                raise NotFound(f"trunk {name} not found", field="name")
            for route in await s.scalars(select(OutboundRoute).where(OutboundRoute.domain_id == domain.id)):
                if name in route.trunks:
                    raise Conflict(f"outbound route {route.name} uses trunk {name}", field="name")
            await s.delete(trunk)
            await s.commit()
        await self.changed()

    async def routes(self, me: Principal, slug: str) -> list[OutboundRouteOut]:
        me.require(READ_ROLES, "list outbound routes")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            rows = await s.scalars(select(OutboundRoute).where(OutboundRoute.domain_id == domain.id)
                                   .order_by(OutboundRoute.name))
            return [_route_view(r) for r in rows]

    async def create_route(self, me: Principal, slug: str, body: OutboundRouteCreate) -> OutboundRouteOut:
        me.require(ADMIN_ROLES, "create outbound routes")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            names = set(await s.scalars(select(Trunk.name).where(Trunk.domain_id == domain.id)))
            missing = [t for t in body.trunks if t not in names]
            if missing:
                raise ValidationFailed(f"no such trunk(s): {', '.join(missing)}", field="trunks")
            if await s.scalar(select(OutboundRoute.id).where(OutboundRoute.domain_id == domain.id,
                                                             OutboundRoute.name == body.name)):
                raise Conflict(f"outbound route {body.name} already exists", field="name")
            s.add(OutboundRoute(domain_id=domain.id, **body.model_dump()))
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"outbound route {body.name} already exists", field="name") from None
        await self.changed()
        return OutboundRouteOut(**body.model_dump())

    async def route(self, me: Principal, slug: str, name: str) -> OutboundRouteOut:
        me.require(READ_ROLES, "read outbound routes")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            return _route_view(await self._route(s, domain.id, name))

    async def update_route(self, me: Principal, slug: str, name: str, body: OutboundRouteUpdate) -> OutboundRouteOut:
        me.require(ADMIN_ROLES, "change outbound routes")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            row = await self._route(s, domain.id, name)
            if body.trunks is not None:
                names = set(await s.scalars(select(Trunk.name).where(Trunk.domain_id == domain.id)))
                missing = [t for t in body.trunks if t not in names]
                if missing:
                    raise ValidationFailed(f"no such trunk(s): {', '.join(missing)}", field="trunks")
            for key, value in body.model_dump(exclude_unset=True).items():
                setattr(row, key, value)
            await s.commit()
            out = _route_view(row)
        await self.changed()
        return out

    @staticmethod
    async def _route(s: AsyncSession, domain_id: int, name: str) -> OutboundRoute:
        row = await s.scalar(select(OutboundRoute).where(OutboundRoute.domain_id == domain_id,
                                                         OutboundRoute.name == name))
        if row is None:
            raise NotFound(f"outbound route {name} not found", field="name")
        return row

    async def delete_route(self, me: Principal, slug: str, name: str) -> None:
        me.require(ADMIN_ROLES, "delete outbound routes")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            row = await s.scalar(select(OutboundRoute).where(OutboundRoute.domain_id == domain.id,
                                                             OutboundRoute.name == name))
            if row is None:
                raise NotFound(f"outbound route {name} not found", field="name")
            await s.delete(row)
            await s.commit()
        await self.changed()
