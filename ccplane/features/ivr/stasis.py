"""The only IVR step that needs ccplane at call time: ``collect`` with a check.

The dialplan runs ``Stasis(ccplane,collect,<domain>,<check>,<digits>)``; we always
send the channel back to the dialplan, at the label ``ok`` or ``failed`` of the
same extension. The ``failed`` branch is taken on any error here, and when
ccplane is not running at all (Stasis() then returns at once to the next
priority, a ``Goto(failed)``).

We never set a channel variable through ARI here: Asterisk 22 then marks the
channel's thread as an external interface for the rest of the call, and every
later ``Set(DB(...))`` in the dialplan (the IVR steps' durable outbox) is
refused as a "dangerous function"."""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from ...asterisk.ari import AriClient, AriEvent

log = logging.getLogger("ccplane.ivr")

Check = Callable[[str, str], Awaitable[bool]]  # (domain slug, digits) -> passed


class CollectHandler:
    def __init__(self, ari: AriClient, checks: dict[str, Check], *, budget: float = 2.0) -> None:
        self.ari = ari
        self.checks = checks
        self.budget = budget

    def register(self) -> None:
        self.ari.on_event("StasisStart", self.on_start)

    async def on_start(self, event: AriEvent) -> None:
        args = event.data.get("args") or []
        if not args or args[0] != "collect" or event.channel_id is None:
            return
        channel = event.channel_id
        passed = False
        try:
            slug, check, digits = (list(args[1:4]) + ["", "", ""])[:3]
            runner = self.checks.get(check)
            if runner is not None and digits:
                passed = await asyncio.wait_for(runner(slug, digits), self.budget)
        except Exception:  # noqa: BLE001 - never leave the caller in silence
            log.exception("ivr.check_failed", extra={"channel": channel})
        finally:
            try:
                await self.ari.post(f"/channels/{channel}/continue", label="ok" if passed else "failed")
            except Exception:  # noqa: BLE001 - the caller hung up meanwhile
                log.warning("ivr.continue_failed %s", channel)
        log.info("ivr.check %s", "ok" if passed else "failed", extra={"channel": channel})
