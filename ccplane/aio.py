"""Stopping background tasks without ever hanging the shutdown.

On Python 3.11 a cancel that meets a result arriving in the same loop
iteration can be lost (``asyncio.wait_for``'s known race), so a loop that was
cancelled may go on. Every ``stop()`` therefore sets its own stopping flag
(checked by its loops), cancels, and waits a bounded time."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Iterable

log = logging.getLogger("ccplane.aio")

STOP_GRACE = 5.0


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any] | None], what: str,
                          grace: float = STOP_GRACE) -> None:
    pending = [t for t in tasks if t is not None and not t.done()]
    for t in pending:
        t.cancel()
    if not pending:
        return
    _, stuck = await asyncio.wait(pending, timeout=grace)
    for t in stuck:
        name = t.get_name() if isinstance(t, asyncio.Task) else repr(t)
        log.error("%s: task %s did not stop within %.0f s; left behind", what, name, grace)
