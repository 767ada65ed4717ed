"""One replica acts, the others stand by.

Replicas sharing a database elect one leader, and only the leader talks to
Asterisk: it renders configuration, keeps the agents' board, runs the
escalation timers, records what the dialplan reports. Two replicas doing that
at once would pause agents twice, place every escalation call twice and store
every record twice.

- PostgreSQL: the leader holds a session advisory lock on a connection of its
  own. The server releases it the moment that connection dies, so a standby
  takes over within ``retry_interval`` of a leader's crash.
- SQLite: the leader holds an exclusive ``flock`` on ``<database file>.leader``;
  the kernel releases it when the process dies.

A standby polls for the lock. When the leader's lock connection breaks it tries
to get its lock back at once; if the database cannot be reached at all it
keeps acting (no other replica can be elected without the database either, and
alerts must still ring), and if another replica holds the lock by then, it has
been replaced: it is demoted and stops acting.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from .aio import cancel_and_wait

log = logging.getLogger("ccplane.leader")

# pg_try_advisory_lock(int, int): 'cc' and the lock's number within ccplane.
LOCK_CLASS, LOCK_ID = 0x6363, 1

LEADER, STANDBY, DEMOTED = "leader", "standby", "demoted"


class Leadership:
    """The election for one process. ``role`` is ``standby`` until the lock is
    held, ``leader`` while it is, and ``demoted`` once another replica took it."""

    def __init__(self, database_url: str, *, enabled: bool = True, retry_interval: float = 1.0,
                 check_interval: float = 1.0) -> None:
        self.enabled = enabled
        self.retry_interval = retry_interval
        self.check_interval = check_interval
        self.role = STANDBY
        url = make_url(database_url)
        self._postgres = url.get_backend_name() == "postgresql"
        self._engine: AsyncEngine | None = (
            create_async_engine(database_url, poolclass=NullPool) if self._postgres and enabled else None)
        self._conn: AsyncConnection | None = None
        self._lock_path = _sqlite_lock_path(url.database) if not self._postgres else None
        self._fd: int | None = None
        self._keeper: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        return self.role == LEADER

    @property
    def kind(self) -> str:
        if not self.enabled:
            return "disabled"
        return "postgresql advisory lock" if self._postgres else f"flock {self._lock_path}"

    async def try_acquire(self) -> bool:
        """One attempt; True when this process leads (now or already)."""
        if self.role == LEADER:
            return True
        if not self.enabled:
            got = True
        elif self._postgres:
            got = bool(await self._pg_try())
        else:
            got = self._flock_try()
        if got:
            self.role = LEADER
            log.info("leader.elected (%s, pid %d)", self.kind, os.getpid())
        return got

    async def wait(self) -> None:
        """Until this process leads."""
        while not await self.try_acquire():
            await asyncio.sleep(self.retry_interval)

    def watch(self, on_demoted: Callable[[], Awaitable[None]]) -> None:
        """Keep checking the lock; ``on_demoted`` runs once another replica took it."""
        if self._postgres and self.enabled and self._keeper is None:
            self._keeper = asyncio.create_task(self._keep(on_demoted), name="leader-keeper")

    async def release(self) -> None:
        await cancel_and_wait([self._keeper], "leader keeper")
        self._keeper = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(3):
                    await self._conn.close()  # the session ends: the server drops the lock
            self._conn = None
        if self._engine is not None:
            with contextlib.suppress(Exception):
                await self._engine.dispose()
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None
        if self.role == LEADER:
            log.info("leader.released")
        self.role = STANDBY if self.role == LEADER else self.role

    # -- PostgreSQL ---------------------------------------------------------------
    async def _pg_try(self) -> bool | None:
        """True: the lock is ours; False: another session holds it; None: the
        database could not be asked."""
        assert self._engine is not None
        try:
            async with asyncio.timeout(5):
                if self._conn is None:
                    conn = await self._engine.connect()
                    self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                got = (await self._conn.execute(text("SELECT pg_try_advisory_lock(:c, :i)"),
                                                {"c": LOCK_CLASS, "i": LOCK_ID})).scalar()
        except Exception as exc:  # noqa: BLE001 - the database is down: try again later
            log.warning("leader.lock_attempt_failed: %s", exc)
            await self._drop_conn()
            return None
        if not got:
            await self._drop_conn()  # a standby keeps no idle connection open
        return bool(got)

    async def _drop_conn(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(3):
                    await conn.invalidate()  # a dead link is not handed back anywhere
            with contextlib.suppress(Exception):
                async with asyncio.timeout(3):
                    await conn.close()

    async def _keep(self, on_demoted: Callable[[], Awaitable[None]]) -> None:
        lost_since: float | None = None
        warned = False
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.check_interval)
            if await self._alive():
                continue
            if lost_since is None:
                lost_since = loop.time()
                log.warning("leader.lock_connection_lost: getting the lock back")
            await self._drop_conn()
            got = await self._pg_try()
            if got:
                log.warning("leader.lock_regained after %.1f s", loop.time() - lost_since)
                lost_since, warned = None, False
            elif got is None:
                # nobody can be elected without the database: act on (alerts must ring)
                if not warned:
                    log.warning("leader.database_unreachable: acting on without the lock")
                    warned = True
            else:
                self.role = DEMOTED
                log.error("leader.demoted: another replica holds the lock")
                await on_demoted()
                return

    async def _alive(self) -> bool:
        if self._conn is None:
            return False
        try:
            async with asyncio.timeout(max(self.check_interval, 2.0)):
                await self._conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001
            return False

    # -- SQLite -------------------------------------------------------------------
    def _flock_try(self) -> bool:
        if self._lock_path is None:
            return True  # in-memory database: nobody else can share it
        import fcntl
        if self._fd is None:
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)
        return True


def _sqlite_lock_path(database: str | None) -> Path | None:
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).expanduser().resolve().with_name(Path(database).name + ".leader")
