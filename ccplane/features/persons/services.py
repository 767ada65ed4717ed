"""Monitored persons (alert channel) — also the registry IVR CPF checks use."""
from __future__ import annotations

from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound
from ...web.context import ADMIN_ROLES, Principal
from ..auth.passwords import hash_password_async
from ..common import changes_of
from ..domains.models import Domain
from ..domains.services import resolve_domain
from .domain import cpf_is_valid
from .models import MonitoredPerson
from .schemas import PersonCreate, PersonOut, PersonUpdate

TEAM = ADMIN_ROLES | {"supervisor", "agent"}


def person_view(p: MonitoredPerson) -> PersonOut:
    return PersonOut(id=p.id, name=p.name, cpf=p.cpf, phone=p.phone, active=p.active, notes=p.notes)


class PersonService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        # Told after a person is changed or deleted (the alert channel keeps persons in memory).
        self.on_change: list[Callable[[int], None]] = []
        # Told after a person is stored with a (new) name, and after one is deleted:
        # the alert announcement renders each person's name once, ahead of alerts.
        self.on_saved: list[Callable[[int, str], None]] = []
        self.on_removed: list[Callable[[int], None]] = []

    def _changed(self, person_id: int) -> None:
        for listener in self.on_change:
            listener(person_id)

    async def list(self, me: Principal, slug: str, limit: int, offset: int) -> tuple[list[PersonOut], int]:
        me.require(TEAM, "list monitored persons")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            where = MonitoredPerson.domain_id == domain.id
            total = await s.scalar(select(func.count()).where(where)) or 0
            rows = await s.scalars(select(MonitoredPerson).where(where).order_by(MonitoredPerson.name)
                                   .limit(limit).offset(offset))
            return [person_view(p) for p in rows], total

    async def get(self, me: Principal, slug: str, person_id: int) -> PersonOut:
        me.require(TEAM, "read monitored persons")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            return person_view(await self._find(s, domain, person_id))

    async def create(self, me: Principal, slug: str, body: PersonCreate) -> PersonOut:
        me.require(ADMIN_ROLES, "register monitored persons")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            await self._cpf_free(s, domain, body.cpf)
            person = MonitoredPerson(domain_id=domain.id, name=body.name, cpf=body.cpf, phone=body.phone,
                                     password_hash=await hash_password_async(body.password), active=body.active,
                                     notes=body.notes, token_version=0)
            s.add(person)
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"CPF {body.cpf} is already registered", field="cpf") from None
        for saved in self.on_saved:
            saved(person.id, person.name)
        return person_view(person)

    async def update(self, me: Principal, slug: str, person_id: int, body: PersonUpdate) -> PersonOut:
        me.require(ADMIN_ROLES, "change monitored persons")
        changes = changes_of(body)
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            person = await self._find(s, domain, person_id)
            if "cpf" in changes and changes["cpf"] != person.cpf:
                await self._cpf_free(s, domain, changes["cpf"])
                person.token_version += 1  # the app logs out at once
            if "password" in changes:
                person.password_hash = await hash_password_async(str(changes.pop("password")))
                person.token_version += 1
            if changes.get("active") is False and person.active:
                person.token_version += 1
            renamed = "name" in changes and changes["name"] != person.name
            for key, value in changes.items():
                setattr(person, key, value)
            await s.commit()
        self._changed(person.id)
        if renamed:
            for saved in self.on_saved:
                saved(person.id, person.name)
        return person_view(person)

    async def delete(self, me: Principal, slug: str, person_id: int) -> None:
        me.require(ADMIN_ROLES, "delete monitored persons")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            await s.delete(await self._find(s, domain, person_id))
            await s.commit()
        self._changed(person_id)
        for removed in self.on_removed:
            removed(person_id)

    async def cpf_registered(self, slug: str, cpf: str) -> bool:
        """IVR check: valid check digits and an active person of this domain."""
        if not cpf_is_valid(cpf):
            return False
        async with self.sessions() as s:
            found = await s.scalar(select(MonitoredPerson.id).join(Domain, Domain.id == MonitoredPerson.domain_id)
                                   .where(Domain.slug == slug, MonitoredPerson.cpf == cpf,
                                          MonitoredPerson.active.is_(True)))
            return found is not None

    @staticmethod
    async def _cpf_free(s: AsyncSession, domain: Domain, cpf: str) -> None:
        if await s.scalar(select(MonitoredPerson.id).where(MonitoredPerson.domain_id == domain.id,
                                                           MonitoredPerson.cpf == cpf)):
            raise Conflict(f"CPF {cpf} is already registered", field="cpf")

    @staticmethod
    async def _find(s: AsyncSession, domain: Domain, person_id: int) -> MonitoredPerson:
        person = await s.scalar(select(MonitoredPerson).where(MonitoredPerson.domain_id == domain.id,
                                                              MonitoredPerson.id == person_id))
        if person is None:
            raise NotFound(f"monitored person {person_id} not found", field="id")
        return person
