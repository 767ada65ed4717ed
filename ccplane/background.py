"""Background tasks whose failure is never silent.

A task nobody awaits that raises is reported by asyncio only when it is garbage
collected ("Task exception was never retrieved"), without context, if at all.
``watch`` gives such a task a done-callback that logs its exception with the
context given and counts it; ``/api/v1/health`` shows the count
(``background_failures``), so a lost write is visible without reading logs::

    task = watch(asyncio.ensure_future(record(call)), "queue call record", call=call.uniqueid)
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, TypeVar

log = logging.getLogger("ccplane.background")

T = TypeVar("T")

_failures = 0


def failures() -> int:
    """Background tasks that ended with an exception since the process started."""
    return _failures


def watch(task: asyncio.Future[T], what: str, **context: Any) -> asyncio.Future[T]:
    """Log and count ``task``'s exception when it ends with one (cancellation is not a failure)."""
    def done(t: asyncio.Future[T]) -> None:
        global _failures
        if t.cancelled():
            return
        exc = t.exception()
        if exc is None:
            return
        _failures += 1
        log.error("background.failed %s: %s", what, exc, exc_info=exc, extra={"what": what, **context})
    task.add_done_callback(done)
    return task
