from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...plugin import Feature, Wiring
from ..ivr.render import goto_destination
from .domain import caller_patterns
from .http import api
from .models import BlacklistEntry, InboundRoute
from .services import RouteService


def setup(w: Wiring) -> None:
    w.provide("routes", RouteService(w.core.sessions, w.changed))


async def contribute(s: AsyncSession, model: dict[str, Any]) -> None:
    slugs = model["slugs"]
    routes = (await s.scalars(select(InboundRoute).order_by(InboundRoute.did))).all()
    blacklist = (await s.scalars(select(BlacklistEntry).order_by(BlacklistEntry.number))).all()
    model["routes"] = [{"did": r.did, "slug": slugs[r.domain_id], "reject_delay": r.reject_delay,
                        "hangup": r.destination_type == "hangup",
                        "goto": goto_destination(slugs[r.domain_id], r.destination_type, r.destination_target)}
                       for r in routes if r.domain_id in slugs]
    blocked: dict[int, list[str]] = {}
    for entry in blacklist:
        blocked.setdefault(entry.domain_id, []).extend(caller_patterns(entry.number))
    model["blacklists"] = [{"slug": slugs[d], "context": f"ccplane-bl-{slugs[d]}", "patterns": sorted(set(p))}
                           for d, p in sorted(blocked.items(), key=lambda kv: slugs[kv[0]]) if d in slugs]


FEATURE = Feature("routes", setup, api=api, render=contribute)
