from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...plugin import Feature, Wiring
from ..extensions.domain import domain_context
from .http import api
from .models import Domain
from .services import DomainService


def setup(w: Wiring) -> None:
    w.provide("domains", DomainService(w.core.sessions, w.changed))


async def contribute(s: AsyncSession, model: dict[str, Any]) -> None:
    """Every domain: its slug (the other contributions key on ``model["slugs"]``) and its context."""
    domains = (await s.scalars(select(Domain).order_by(Domain.slug))).all()
    model["slugs"] = {d.id: d.slug for d in domains}
    model["domains"] = [{"id": d.id, "slug": d.slug, "context": domain_context(d.slug), "extensions": [],
                         "outbound": []} for d in domains]


FEATURE = Feature("domains", setup, api=api, render=contribute)
