from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...plugin import Feature, Wiring
from ..extensions.domain import endpoint_name
from ..extensions.models import Extension
from ..ivr.render import goto_destination
from .domain import callgroup_exten, dial_steps
from .http import api
from .models import CallGroup
from .services import CallGroupService


def setup(w: Wiring) -> None:
    w.provide("callgroups", CallGroupService(w.core.sessions, w.changed))


async def contribute(s: AsyncSession, model: dict[str, Any]) -> None:
    slugs = model["slugs"]
    groups = (await s.scalars(select(CallGroup).order_by(CallGroup.domain_id, CallGroup.name))).all()
    existing = {(d, n) for d, n in await s.execute(select(Extension.domain_id, Extension.number))}
    model["callgroups"] = [{
        "slug": slugs[g.domain_id], "name": g.name, "number": g.number,
        "exten": callgroup_exten(slugs[g.domain_id], g.name),
        "dials": dial_steps(g.strategy, [endpoint_name(slugs[g.domain_id], n) for n in g.extensions
                                            if (g.domain_id, n) in existing], g.ring_timeout),
        "no_answer": goto_destination(slugs[g.domain_id], str(g.no_answer.get("type")), g.no_answer.get("target")),  # type: ignore[arg-type]
    } for g in groups if g.domain_id in slugs]


FEATURE = Feature("callgroups", setup, api=api, render=contribute)
