"""retry_write on a real SQLite file another connection holds locked, and the
background-task watcher."""
from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from ccplane import background
from ccplane.db.retry import is_retryable, retry_write
from ccplane.db.session import create_engine


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def test_retryable_refusals() -> None:
    assert is_retryable(OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked")))
    assert is_retryable(OperationalError("UPDATE", {}, _PgError("40001")))  # serialization failure
    assert is_retryable(OperationalError("UPDATE", {}, _PgError("40P01")))  # deadlock
    assert not is_retryable(OperationalError("INSERT", {}, sqlite3.OperationalError("no such table: x")))
    assert not is_retryable(ValueError("database is locked"))


async def test_a_write_refused_while_another_connection_holds_the_lock_is_retried(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER)"))
    blocker = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
    attempts = 0

    async def write() -> None:
        nonlocal attempts
        attempts += 1
        async with engine.begin() as conn:
            await conn.execute(text("PRAGMA busy_timeout=0"))  # refuse at once instead of waiting
            await conn.execute(text("INSERT INTO t VALUES (1)"))
    threading.Timer(0.3, blocker.rollback).start()
    try:
        await retry_write(write, "test row", first_delay=0.05, attempts=10)
    finally:
        blocker.close()
    assert attempts > 1
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    await engine.dispose()


async def test_other_errors_and_the_last_refusal_are_logged_with_context_and_raised(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    async def locked() -> None:
        nonlocal calls
        calls += 1
        raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    with pytest.raises(OperationalError), caplog.at_level(logging.WARNING, "ccplane.db"):
        await retry_write(locked, "queue call record", attempts=3, first_delay=0.001, call="c1")
    assert calls == 3
    failed = [r for r in caplog.records if r.getMessage().startswith("db.write_failed")]
    assert len(failed) == 1 and failed[0].call == "c1"

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("bug")
    calls = 0
    with pytest.raises(ValueError):
        await retry_write(broken, "x", attempts=5, first_delay=0.001)
    assert calls == 1


async def test_a_failed_background_task_is_logged_counted_and_retrieved(
        caplog: pytest.LogCaptureFixture) -> None:
    before = background.failures()

    async def fails() -> None:
        raise RuntimeError("disk full")
    loop = asyncio.get_running_loop()
    unretrieved: list[dict] = []
    loop.set_exception_handler(lambda _l, ctx: unretrieved.append(ctx))
    with caplog.at_level(logging.ERROR, "ccplane.background"):
        task = background.watch(asyncio.ensure_future(fails()), "queue call record", call="c9")
        await asyncio.wait([task])
        await asyncio.sleep(0)
        cancelled = background.watch(asyncio.ensure_future(asyncio.sleep(10)), "sleeper")
        cancelled.cancel()
        await asyncio.wait([cancelled])
        await asyncio.sleep(0)
    del task
    import gc
    gc.collect()
    assert background.failures() == before + 1
    rec = [r for r in caplog.records if r.getMessage().startswith("background.failed queue call record")]
    assert rec and rec[0].call == "c9" and rec[0].exc_info
    assert not unretrieved  # never "Task exception was never retrieved"


def test_a_connection_closed_mid_statement_releases_the_write_lock(tmp_path: Path) -> None:
    """sqlite3's own close leaves a zombie holding the write lock while a cursor it ran
    lives on (the hang seen when a cancelled writer's connection was closed); ours
    rolls back first."""
    import gc

    from ccplane.db.session import SqliteConnection
    db = tmp_path / "z.db"
    setup = sqlite3.connect(db)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x)")
    setup.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(5)])
    setup.commit()
    setup.close()

    def lock_free() -> bool:
        probe = sqlite3.connect(db, timeout=0.2)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()

    for factory, free_after_close in ((sqlite3.Connection, False), (SqliteConnection, True)):
        conn = sqlite3.connect(db, factory=factory)
        conn.execute("INSERT INTO t VALUES (99)")  # a write transaction...
        cursor = conn.execute("SELECT x FROM t")
        cursor.fetchone()  # ...and a statement still running
        conn.close()
        assert lock_free() is free_after_close, factory
        del cursor
        gc.collect()
        assert lock_free()
    check = sqlite3.connect(db)
    assert check.execute("SELECT count(*) FROM t WHERE x = 99").fetchone() == (0,)  # rolled back, both
    check.close()


async def test_the_engines_connections_roll_back_before_they_close(tmp_path: Path) -> None:
    from ccplane.db.session import SqliteConnection
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'e.db'}")
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection._connection, SqliteConnection)  # type: ignore[union-attr]
    finally:
        await engine.dispose()
