from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...plugin import Feature, Wiring
from .domain import endpoint_name
from .http import api
from .models import Extension
from .services import ExtensionService


def setup(w: Wiring) -> None:
    w.provide("extensions", ExtensionService(w.core.sessions, w.changed, w.core.contacts))


async def contribute(s: AsyncSession, model: dict[str, Any]) -> None:
    domains = {d["id"]: d for d in model["domains"]}
    for e in (await s.scalars(select(Extension).order_by(Extension.domain_id, Extension.number))).all():
        d = domains.get(e.domain_id)
        if d is None:
            continue
        d["extensions"].append({
            "number": e.number, "name": e.name, "secret": e.secret, "endpoint": endpoint_name(d["slug"], e.number),
            "webrtc": e.kind == "webrtc", "record": e.record,
            "codecs": "opus,ulaw" if e.kind == "webrtc" else "ulaw,alaw,g722,opus",
        })


FEATURE = Feature("extensions", setup, api=api, render=contribute)
