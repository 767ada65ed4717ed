"""The only IVR step that needs ccplane at call time: ``collect`` with a check.

The dialplan runs ``Stasis(ccplane,collect,<domain>,<check>,<digits>)``; we set
CCPLANE_CHECK=ok on success and always send the channel back to the dialplan,
which takes the ``failed`` branch unless told ``ok`` — on any error here, and
when ccplane is not running at all (Stasis() then returns at once)."""
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
            if passed:
                await self.ari.post(f"/channels/{channel}/variable", variable="CCPLANE_CHECK", value="ok")
        except Exception:  # noqa: BLE001 - never leave the caller in silence
            log.exception("ivr.check_failed", extra={"channel": channel})
        finally:
            try:
                await self.ari.post(f"/channels/{channel}/continue")
            except Exception:  # noqa: BLE001 - the caller hung up meanwhile
                log.warning("ivr.continue_failed %s", channel)
        log.info("ivr.check %s", "ok" if passed else "failed", extra={"channel": channel})
