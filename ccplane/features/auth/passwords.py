"""Password hashing off the event loop, in a bounded pool.

argon2 takes tens of milliseconds of CPU per hash, by design. On the event
loop, 16 concurrent wrong logins held every call, alert and AMI event behind
them (``/health`` went from 4 ms to 2 s). Here hashing runs in a small thread
pool (argon2-cffi releases the GIL), sized to leave a core to the loop, and at
most ``MAX_PENDING`` hashes may be queued or running: beyond that a login is refused at once
with 429 rather than queueing a flood. The pool is process-wide and
loop-agnostic (a plain lock, not an asyncio primitive), so every event loop of
the test suite may use it.
"""
from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from ...errors import TooManyRequests
from .domain import hash_password, verify_password

T = TypeVar("T")
WORKERS = max(1, (os.cpu_count() or 2) // 2)
MAX_PENDING = 32 * WORKERS  # queued hashes cost the loop nothing; a shift's logins fit

_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="argon2")
_lock = threading.Lock()
_pending = 0


def _release(_: object) -> None:
    global _pending
    with _lock:
        _pending -= 1


async def _run(fn: Callable[[], T]) -> T:
    global _pending
    with _lock:
        if _pending >= MAX_PENDING:
            raise TooManyRequests("too many logins at once; try again shortly", retry_after=1)
        _pending += 1
    job = _pool.submit(fn)
    # Released when the hash is done, not when the request is: a client that
    # hangs up does not free the thread, so it must not free the slot either.
    job.add_done_callback(_release)
    return await asyncio.wrap_future(job)


async def hash_password_async(password: str) -> str:
    return await _run(lambda: hash_password(password))


async def verify_password_async(stored_hash: str | None, password: str) -> bool:
    return await _run(lambda: verify_password(stored_hash, password))
