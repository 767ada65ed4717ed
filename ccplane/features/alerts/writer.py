"""Group commit for the alert hot path: alerts of a storm share transactions.

Measured here (bench/alert_storm.py, 100 concurrent reds): one transaction per
alert, run concurrently, queued behind SQLite's single write lock — whose busy
handler sleeps with a growing back-off (up to 100 ms a try) — and behind the
PostgreSQL pool, so the last 201 took 1.5-2 s. A writer instead takes every
item queued while its previous commit was in flight and handles them in one
transaction with a handful of set-wise queries: nothing waits on a lock, and an
alert's 201 follows the commit of the transaction that holds it, which carries
only the alerts that arrived while the one before it committed. The batch
handler returns one result or exception per item (an item refused fails
alone); a failed commit fails every item of its batch (each caller answers 503).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger("ccplane.alerts")
I = TypeVar("I")
R = TypeVar("R")  # result
MAX_BATCH = 200
Handler = Callable[[AsyncSession, list[I]], Awaitable[list["R | Exception"]]]


class GroupWriter(Generic[I, R]):
    def __init__(self, sessions: Callable[[], async_sessionmaker[AsyncSession]],
                 handler: Callable[[AsyncSession, list[I]], Awaitable[list[R | Exception]]]) -> None:
        self._sessions = sessions  # read at each batch: tests swap the service's sessionmaker
        self._handler = handler
        self._queue: list[tuple[I, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    @property
    def busy(self) -> bool:
        """Items are queued or a batch is being written."""
        return bool(self._queue) or (self._task is not None and not self._task.done())

    async def run(self, item: I) -> R:
        """Handle ``item`` in the next batch; returns once that batch committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._drain())
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                async with self._sessions()() as s:
                    results = await self._handler(s, [item for item, _ in batch])
                    await s.commit()
            except Exception as exc:  # noqa: BLE001 - the batch (or its commit) failed: every item of it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.batches += 1
            for (_, future), result in zip(batch, results):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
