"""Engine and unit of work.

SQLite (embedded default) gets WAL, foreign keys, a busy timeout and
synchronous=NORMAL on every connection; PostgreSQL gets lock and idle
timeouts. Writes that the database refuses for now (locked, busy,
serialization) are retried with ``db.retry.retry_write``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from ..settings import PROJECT_ROOT


def create_engine(url: str) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    if url.startswith("postgresql"):
        # A lock wait or a transaction left open must end in an error, never a stall.
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True,
                      connect_args={"options": "-c lock_timeout=10000 "
                                               "-c idle_in_transaction_session_timeout=300000"})
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
