from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...plugin import Feature, Wiring
from ..ivr.render import goto_destination
from .domain import asterisk_queue_name
from .http import api
from .models import Queue
from .services import QueueService

# Asterisk's joinempty/leavewhenempty: conditions under which members do not count.
_NOBODY = "invalid,unavailable"


def setup(w: Wiring) -> None:
    w.provide("queues", QueueService(w.core.sessions, w.changed, w.core.agent_runtime.policies_changed))


def queue_model(slug: str, q: Queue, monitoring: bool = False) -> dict[str, object]:
    return {
        "monitoring": monitoring,
        "slug": slug,
        "domain_id": q.domain_id,
        "name": q.name,
        "asterisk_name": asterisk_queue_name(slug, q.name),
        "strategy": q.strategy,
        "ring_timeout": q.ring_timeout,
        "retry": q.retry,
        "max_len": q.max_len,
        "joinempty": "yes" if q.join_empty else _NOBODY,
        "leavewhenempty": _NOBODY if q.leave_empty else "no",
        "record": q.record,
        "max_wait": q.max_wait or "",
        # Queue() option t: the agent may transfer with DTMF (never the caller: T).
        "options": "t",
        # ccplane hangs up at call_timeout itself (and records why); this fires
        # a little later only if ccplane could not.
        "call_timeout_backstop": q.call_timeout + 2 if q.call_timeout else 0,
        "overflow": goto_destination(slug, str(q.overflow.get("type")), q.overflow.get("target")),  # type: ignore[arg-type]
        # where a caller who leaves without an agent goes, as the journey records it
        "overflow_label": _overflow_label(q.overflow),
    }


def _overflow_label(overflow: dict[str, Any] | None) -> str:
    kind = str((overflow or {}).get("type") or "hangup")
    target = (overflow or {}).get("target")
    return "" if kind == "hangup" else f"{kind}:{target}"


async def contribute(s: AsyncSession, model: dict[str, Any]) -> None:
    slugs = model["slugs"]
    queues = (await s.scalars(select(Queue))).all()
    model["queues"] = sorted((queue_model(slugs[q.domain_id], q) for q in queues if q.domain_id in slugs),
                             key=lambda m: str(m["asterisk_name"]))


FEATURE = Feature("queues", setup, api=api, render=contribute)
