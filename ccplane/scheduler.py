"""Persistent jobs (alert escalations now; callbacks and campaigns next).

APScheduler 3.11's AsyncIOScheduler with a SQLAlchemy job store on ccplane's own
database (table ``apscheduler_jobs``, created by migration 0013), started on the
elected leader only. A job is a module-level coroutine function with plain
arguments (ids, names): it survives a restart as a row, and finds the running
services through :func:`service` when it fires.

Two choices differ from APScheduler's defaults, each for a reason:

- ``misfire_grace_time=None`` and ``coalesce=True``: a job due while ccplane was
  down runs once when it is back (the 1 s default grace would drop it; without
  coalescing a recurring job would fire once per missed run, a burst).
- The job store is synchronous. Its queries never run on the event loop: on
  SQLite a write there waits for the file lock while the transaction holding it
  needs the loop to finish, and the loop would freeze for the busy timeout.
  :meth:`Scheduler.schedule`/:meth:`Scheduler.cancel` and the scheduler's own
  wake-ups run the store's I/O on one worker thread; coroutine jobs are then
  handed to the loop thread-safely.

Example::

    async def remind(callback_id: int) -> None:
        await service("callbacks").remind(callback_id)

    await scheduler.schedule(at, remind, (42,), id="callbacks.remind.42")
    await scheduler.cancel("callbacks.remind.42")
"""
from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

from apscheduler.executors.base import BaseExecutor, run_coroutine_job  # type: ignore[import-untyped]
from apscheduler.jobstores.base import JobLookupError  # type: ignore[import-untyped]
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.schedulers.base import BaseScheduler  # type: ignore[import-untyped]
from sqlalchemy import Column, Float, LargeBinary, Table, Unicode, create_engine, event
from sqlalchemy.engine import Engine

from .db.base import Base

log = logging.getLogger("ccplane.scheduler")
TABLE = "apscheduler_jobs"
JobFunc = Callable[..., Coroutine[Any, Any, Any]]

# The job store's table as APScheduler 3.11 defines it, declared in ccplane's
# metadata so the migration (0013) and the models agree on it.
JOBS_TABLE = Table(TABLE, Base.metadata,
                   Column("id", Unicode(191), primary_key=True),
                   Column("next_run_time", Float(25), index=True),
                   Column("job_state", LargeBinary, nullable=False))

_SERVICES: dict[str, Any] = {}


def provide(name: str, obj: Any) -> None:
    """Make a running service reachable from jobs (``service(name)``)."""
    _SERVICES[name] = obj


def withdraw(name: str, obj: Any) -> None:
    if _SERVICES.get(name) is obj:
        del _SERVICES[name]


def service(name: str) -> Any:
    """The running service a job acts through; LookupError when none is (a job
    fired after its feature stopped: it is logged as failed, the row stays gone)."""
    try:
        return _SERVICES[name]
    except KeyError:
        raise LookupError(f"no running service {name!r} for a scheduled job") from None


def sync_url(url: str) -> str:
    """The job store's synchronous URL for ccplane's async one: aiosqlite becomes
    the stdlib sqlite3 driver, asyncpg becomes psycopg; psycopg is both."""
    for async_driver, sync_driver in (("+aiosqlite", ""), ("+asyncpg", "+psycopg")):
        scheme, sep, rest = url.partition("://")
        if scheme.endswith(async_driver):
            return scheme[: -len(async_driver)] + sync_driver + sep + rest
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        from .db.session import SqliteConnection
        engine = create_engine(url, connect_args={"factory": SqliteConnection})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()
        return engine
    return create_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=True)


class _LoopExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs coroutine jobs on the event loop, whatever thread submits them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop
        self._pending: set[Future[Any]] = set()

    def shutdown(self, wait: bool = True) -> None:
        for f in list(self._pending):
            f.cancel()
        self._pending.clear()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        coro = run_coroutine_job(job, job._jobstore_alias, run_times, self._logger.name)
        f = asyncio.run_coroutine_threadsafe(coro, self._loop)
        self._pending.add(f)

        def done(f: Future[Any]) -> None:
            self._pending.discard(f)
            try:
                events = f.result()
            except BaseException:  # noqa: BLE001 - reported as the job's error event
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, events)
        f.add_done_callback(done)


class _OffLoopScheduler(AsyncIOScheduler):  # type: ignore[misc]
    """AsyncIOScheduler whose timer lives on the loop while its job-store work
    (``_process_jobs``) runs on the worker thread, one wake-up at a time."""

    def __init__(self, io: ThreadPoolExecutor, **kw: Any) -> None:
        self._io = io
        self._processing = False
        self._again = False
        super().__init__(**kw)

    def wakeup(self) -> None:
        loop = self._eventloop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        self._stop_timer()
        if self._processing:
            self._again = True
            return
        if self._eventloop is None:
            return
        self._processing = True
        self._eventloop.run_in_executor(self._io, self._process_jobs).add_done_callback(self._processed)

    def _processed(self, fut: asyncio.Future[float | None]) -> None:
        self._processing = False
        if self._eventloop is None or not self.running:
            return
        if self._again:
            self._again = False
            self._wake()
            return
        wait = None if fut.cancelled() or fut.exception() else fut.result()
        if fut.cancelled() or fut.exception():
            log.error("scheduler.process_failed", exc_info=None if fut.cancelled() else fut.exception())
            wait = 1.0
        self._start_timer(wait)


class Scheduler:
    """ccplane's persistent job scheduler (one per process, running on the leader)."""

    def __init__(self, database_url: str) -> None:
        self.url = sync_url(database_url)
        self._io: ThreadPoolExecutor | None = None
        self._scheduler: _OffLoopScheduler | None = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    async def start(self) -> None:
        if self._scheduler is not None:
            return
        loop = asyncio.get_running_loop()
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ccplane-scheduler")
        scheduler = _OffLoopScheduler(
            self._io, event_loop=loop,
            jobstores={"default": SQLAlchemyJobStore(engine=_engine(self.url), tablename=TABLE)},
            executors={"default": _LoopExecutor(loop)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone="UTC")
        # Paused until resume(): a job due while ccplane was down must find the
        # services it acts through registered. start() opens the store (a query):
        # on the worker thread, like every store access.
        await loop.run_in_executor(self._io, lambda: scheduler.start(paused=True))
        self._scheduler = scheduler
        log.info("scheduler.started")

    def resume(self) -> None:
        """Run jobs (those already due first): once every feature has provided its services."""
        scheduler, _ = self._require()
        scheduler.resume()  # only flips a state and wakes the loop timer: no store I/O here

    async def stop(self) -> None:
        scheduler, io = self._scheduler, self._io
        self._scheduler = self._io = None
        if scheduler is None or io is None:
            return
        loop = asyncio.get_running_loop()
        scheduler._stop_timer()
        # BaseScheduler.shutdown disposes the store's engine; after any wake-up in flight.
        await loop.run_in_executor(io, lambda: BaseScheduler.shutdown(scheduler, False))
        scheduler._eventloop = None
        io.shutdown(wait=True)
        log.info("scheduler.stopped")

    async def schedule(self, at: datetime, func: JobFunc, args: tuple[Any, ...], id: str) -> None:
        """Run ``func(*args)`` at ``at`` (aware datetime); a job with the same id is replaced."""
        scheduler, io = self._require()
        await asyncio.get_running_loop().run_in_executor(io, lambda: scheduler.add_job(
            func, "date", run_date=at, args=list(args), id=id, replace_existing=True))

    async def cancel(self, id: str) -> bool:
        """Remove a job; False when there was none."""
        scheduler, io = self._require()

        def remove() -> bool:
            try:
                scheduler.remove_job(id)
                return True
            except JobLookupError:
                return False
        return await asyncio.get_running_loop().run_in_executor(io, remove)

    async def jobs(self, prefix: str = "") -> dict[str, datetime | None]:
        """Job id -> next run time, for ids starting with ``prefix``."""
        scheduler, io = self._require()
        found = await asyncio.get_running_loop().run_in_executor(io, scheduler.get_jobs)
        return {j.id: j.next_run_time for j in found if j.id.startswith(prefix)}

    def _require(self) -> tuple[_OffLoopScheduler, ThreadPoolExecutor]:
        if self._scheduler is None or self._io is None:
            raise RuntimeError("the scheduler is not running (it runs on the elected leader only)")
        return self._scheduler, self._io
