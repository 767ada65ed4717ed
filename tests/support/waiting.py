from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout: float, interval: float = 0.1,
                     what: str = "condition", details: Callable[[], str] | None = None) -> T:
    """Re-run ``probe`` until it returns a truthy value; fail after ``timeout`` seconds.

    Used where the thing awaited is outside our event stream (Asterisk's CLI
    view, a process state); inside ccplane tests wait on events instead.
    ``details`` is called on failure for what explains it (a phone's log)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = await probe()
        if last:
            return last
        if time.monotonic() > deadline:
            more = f"\n{details()}" if details else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last={last!r}{more}")
        await asyncio.sleep(interval)
