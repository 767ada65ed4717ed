"""Engine and unit of work.

SQLite (embedded default) gets WAL, foreign keys, a busy timeout and
synchronous=NORMAL on every connection, and connections that roll back before
they close (:class:`SqliteConnection`); PostgreSQL gets lock and idle
timeouts. Writes that the database refuses for now (locked, busy,
serialization) are retried with ``db.retry.retry_write``.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from ..settings import PROJECT_ROOT


class SqliteConnection(sqlite3.Connection):
    """An sqlite3 connection that rolls back before it closes.

    sqlite3 closes with ``sqlite3_close_v2``: if a statement is still running then
    (a cursor left mid-result, e.g. by a task cancelled while SQLAlchemy read it, whose
    connection is then closed), the connection becomes a zombie that keeps its open
    transaction — and SQLite's one write lock — until that cursor is garbage-collected,
    which a traceback holding it can put off forever: every writer of the process then
    waits. A rollback first aborts the running statements and ends the transaction."""

    def close(self) -> None:
        try:
            if self.in_transaction:
                self.rollback()
        except sqlite3.Error:
            pass  # closing anyway; nothing more can be done for this connection
        super().close()


def create_engine(url: str) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    if url.startswith("postgresql"):
        # A lock wait or a transaction left open must end in an error, never a stall.
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True,
                      connect_args={"options": "-c lock_timeout=10000 "
                                               "-c idle_in_transaction_session_timeout=300000"})
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"factory": SqliteConnection}
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            # WAL keeps the database consistent at NORMAL; FULL's fsync per commit only
            # lengthens the one writer's hold on the lock under load
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Every table in the metadata, whatever the caller imported: a foreign key
    # (users.webrtc_extension_id -> extensions) must find its target at flush.
    from . import models  # noqa: F401
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


def sqlite_path(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    return Path(url[len(prefix):]) if url.startswith(prefix) else None
