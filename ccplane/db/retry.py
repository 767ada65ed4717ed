"""Retrying a write the database refused for now (busy, locked, serialization).

SQLite in WAL mode has one writer at a time: ``busy_timeout`` makes a writer wait
for the lock, but a transaction that read first and then writes can be refused at
once (``database is locked``: its snapshot is older than the last commit, and
waiting cannot help). PostgreSQL refuses a transaction on a serialization failure,
a deadlock or our ``lock_timeout``. In all these cases running the whole unit of
work again, a moment later, is right; anything else is a real error::

    async def store() -> None:
        async with sessions() as s:
            s.add(row)
            await s.commit()
    await retry_write(store, "queue call record", call=uniqueid, domain_id=7)

``work`` must be the whole unit of work (open the session, write, commit), so each
attempt starts from a clean session. After the last attempt the error is logged
with the context given and raised.
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

log = logging.getLogger("ccplane.db")

T = TypeVar("T")

ATTEMPTS = 8
FIRST_DELAY = 0.05   # seconds; doubles every attempt, with jitter
MAX_DELAY = 2.0

# serialization_failure, deadlock_detected, lock_not_available (lock_timeout)
_PG_RETRYABLE = frozenset({"40001", "40P01", "55P03"})
_SQLITE_RETRYABLE = ("database is locked", "database is busy", "database table is locked")


def is_retryable(exc: BaseException) -> bool:
    """True when the database refused for now and the same work may succeed later."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _PG_RETRYABLE:
        return True
    text = str(orig).lower()
    return any(s in text for s in _SQLITE_RETRYABLE)


async def retry_write(work: Callable[[], Awaitable[T]], what: str, *, attempts: int = ATTEMPTS,
                      first_delay: float = FIRST_DELAY, max_delay: float = MAX_DELAY,
                      **context: object) -> T:
    """Run ``work()``; on a retryable refusal run it again with exponential back-off
    (``attempts`` in all). ``what`` and ``context`` name the record in the logs."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except Exception as exc:
            if not is_retryable(exc) or attempt == attempts:
                log.error("db.write_failed %s after %d attempt(s): %s", what, attempt, exc,
                          extra={"what": what, "attempts": attempt, **context})
                raise
            log.warning("db.write_retry %s attempt %d: %s", what, attempt, exc,
                        extra={"what": what, "attempt": attempt, **context})
        await asyncio.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")  # the loop returns or raises
