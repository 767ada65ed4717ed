"""What the call tracker looks up, kept in memory (refreshed from the database
at every resync and whenever routing changes)."""
from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..domains.models import Domain
from ..queues.domain import split_queue_name
from ..routes.models import InboundRoute

DOMAIN_CONTEXT = "ccplane-d-"  # where a domain's extensions place calls
_SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")  # as domains are named (trunks are trunk_<slug>_<name>)


class CallDirectory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], agent_of: Callable[[str], str | None]) -> None:
        self.sessions = sessions
        self._agent_of = agent_of
        self.dids: dict[str, str] = {}
        self.slugs: set[str] = set()

    async def refresh(self) -> None:
        async with self.sessions() as s:
            slugs = {d.id: d.slug for d in await s.scalars(select(Domain))}
            routes = (await s.execute(select(InboundRoute.did, InboundRoute.domain_id))).all()
        self.slugs = set(slugs.values())
        self.dids = {did: slugs[domain_id] for did, domain_id in routes if domain_id in slugs}

    def queue(self, queue_key: str) -> tuple[str, str] | None:
        return split_queue_name(queue_key)

    def did(self, did: str) -> str | None:
        return self.dids.get(did)

    def agent(self, interface: str) -> str | None:
        return self._agent_of(interface)

    def endpoint(self, endpoint: str) -> tuple[str, str] | None:
        slug, sep, number = endpoint.rpartition("-")
        if not sep or not number.isdigit() or not _SLUG.match(slug):
            return None
        return slug, number

    def context(self, context: str) -> str | None:
        return context[len(DOMAIN_CONTEXT):] if context.startswith(DOMAIN_CONTEXT) else None
