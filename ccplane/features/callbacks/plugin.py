from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...plugin import Feature, Wiring
from ...scheduler import provide, withdraw
from ..ivr.system_prompts import system_prompt
from ..queues.models import Queue
from .engine import CallbackDialer
from .http import api
from .prompts import MODEL, ensure_prompts, offer_name
from .services import CallbackService

ANNOUNCE_EVERY = 30  # seconds between offers of the callback key to a waiting caller


def setup(w: Wiring) -> None:
    core = w.core
    dialer = CallbackDialer(core.ami, core.agent_runtime)
    callbacks = w.provide("callbacks", CallbackService(core.sessions, core.scheduler, dialer, core.live.publish,
                                                       ready=lambda: bool(core.resynced)))
    core.steps.handle("CcplaneCallback", callbacks.on_report)
    core.steps.handle("CcplaneCallbackRequest", callbacks.on_request)
    sounds = w.sounds_dir

    async def start() -> None:
        provide("callbacks", callbacks)
        await ensure_prompts(sounds)
        await callbacks.start()

    async def stop() -> None:
        withdraw("callbacks", callbacks)
    w.on_start(start)
    w.on_stop("callbacks", stop)


async def contribute(s: AsyncSession, model: dict[str, Any]) -> None:
    """Queues with a callback key: the context their key leaves Queue() for, and its periodic offer."""
    keys = {(d, n): k for d, n, k in (await s.execute(select(Queue.domain_id, Queue.name, Queue.callback_key)
                                                      .where(Queue.callback_key.is_not(None)))).all()}
    for q in model["queues"]:
        key = keys.get((q["domain_id"], q["name"]))
        q["callback"] = {"key": key, "context": f"ccplane-cbq-{q['asterisk_name']}",
                         "announce": system_prompt(offer_name(key)), "every": ANNOUNCE_EVERY} if key else None
    model["callback_prompts"] = MODEL


FEATURE = Feature("callbacks", setup, api=api, render=contribute)
