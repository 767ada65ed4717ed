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
to get its lock back at once (ending its own old session if the server still
keeps it). While the database cannot be reached it keeps acting for
``grace`` seconds: a short outage must not leave calls and alerts without
anyone, and the server needs about as long to notice a dead peer before anyone
else can get the lock (TCP keepalives on the lock connection: dead after about
15 s). Past that, or as soon as another replica holds the lock, it is demoted
and stops acting.
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

# The lock connection notices a dead peer in seconds, both ways: the server
# drops a vanished leader's session (and its lock) after ~11 s of silence,
# the leader learns of a vanished server within 10 s of unacknowledged data.
KEEPALIVE = {
    "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
    "tcp_user_timeout": 10000,
    "options": "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3"
               " -c tcp_user_timeout=10000",
}


class Leadership:
    """The election for one process. ``role`` is ``standby`` until the lock is
    held, ``leader`` while it is, and ``demoted`` once another replica took it."""

    def __init__(self, database_url: str, *, enabled: bool = True, retry_interval: float = 1.0,
                 check_interval: float = 1.0, grace: float = 20.0) -> None:
        self.enabled = enabled
        self.retry_interval = retry_interval
        self.check_interval = check_interval
        self.grace = grace
        self.role = STANDBY
        url = make_url(database_url)
        self._postgres = url.get_backend_name() == "postgresql"
        self._engine: AsyncEngine | None = (
            create_async_engine(database_url, poolclass=NullPool, connect_args=KEEPALIVE)
            if self._postgres and enabled else None)
        self._conn: AsyncConnection | None = None
        self._backend_pid: int | None = None  # our session holding the lock
        self._down_logged = False
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
        """Until this process leads; a failing attempt is logged and retried."""
        while True:
            try:
                if await self.try_acquire():
                    return
            except Exception:  # noqa: BLE001 - e.g. the lock file cannot be opened
                log.exception("leader.attempt_failed")
            await asyncio.sleep(self.retry_interval)

    def watch(self, on_demoted: Callable[[], Awaitable[None]]) -> None:
        """Keep checking the lock; ``on_demoted`` runs once another replica took it."""
        if self._postgres and self.enabled and self._keeper is None:
            self._keeper = asyncio.create_task(self._keep(on_demoted), name="leader-keeper")

    async def release(self) -> None:
        await cancel_and_wait([self._keeper], "leader keeper")
        self._keeper = None
        await self._drop_conn()  # the session ends: the server drops the lock
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
            async with asyncio.timeout(12):  # ending our own old session may take 5 s
                if self._conn is None:
                    self._conn = await self._engine.connect()
                    await self._conn.execution_options(isolation_level="AUTOCOMMIT")
                row = (await self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:c, :i), pg_backend_pid()"),
                    {"c": LOCK_CLASS, "i": LOCK_ID})).one()
                got, pid = bool(row[0]), int(row[1])
                if not got and self._backend_pid is not None and await self._end_own_ghost():
                    row = (await self._conn.execute(text("SELECT pg_try_advisory_lock(:c, :i)"),
                                                    {"c": LOCK_CLASS, "i": LOCK_ID})).one()
                    got = bool(row[0])
        except Exception as exc:  # noqa: BLE001 - the database is down: try again later
            if not self._down_logged:
                log.warning("leader.lock_attempt_failed: %s", exc)
                self._down_logged = True
            await self._drop_conn()
            return None
        self._down_logged = False
        if got:
            self._backend_pid = pid
        else:
            await self._drop_conn()  # a standby keeps no idle connection open
        return got

    async def _end_own_ghost(self) -> bool:
        """Our previous lock session may outlive its broken connection on the
        server side: if it is the holder, end it. True when it was ours."""
        assert self._conn is not None
        holder = (await self._conn.execute(text(
            "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND l.classid = :c AND l.objid = :i AND l.granted "
            "AND d.datname = current_database()"), {"c": LOCK_CLASS, "i": LOCK_ID})).scalar()
        if holder is None or int(holder) != self._backend_pid:
            return False
        log.warning("leader.ending_own_old_session pid=%s", holder)
        await self._conn.execute(text("SELECT pg_terminate_backend(:p, 5000)"), {"p": int(holder)})
        return True

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
                lost_since = None
                continue
            if got is None and loop.time() - lost_since < self.grace:
                continue  # the database is unreachable: act on for now
            self.role = DEMOTED
            log.error("leader.demoted: %s", "another replica holds the lock" if got is False else
                      f"no database for {self.grace:.0f} s; another replica may lead by now")
            await on_demoted()
            return

    async def _alive(self) -> bool:
        if self._conn is None:
            return False
        # asyncio.wait, not asyncio.timeout: on Python 3.11 a cancel of this task that
        # meets the timeout's own can come out as TimeoutError and be swallowed here,
        # leaving a watch loop that outlives its cancel.
        check = asyncio.ensure_future(self._conn.execute(text("SELECT 1")))
        try:
            done, _ = await asyncio.wait({check}, timeout=max(self.check_interval, 2.0))
        except asyncio.CancelledError:
            check.cancel()
            raise
        if not done:
            check.cancel()
            return False
        return not check.cancelled() and check.exception() is None

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
    """The lock file beside the database file, named after the real file (so
    replicas reaching it through a symlink still meet)."""
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # an SQLite URI filename
        path, _, query = database[5:].partition("?")
        if "mode=memory" in query or path in ("", ":memory:"):
            return None
        database = path
    real = Path(database).resolve()
    return real.with_name(real.name + ".leader")
