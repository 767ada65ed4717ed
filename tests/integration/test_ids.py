"""Alert ids reserved ahead of their rows (ccplane/db/ids.py), on the test database
(SQLite, or PostgreSQL when CCPLANE_TEST_DATABASE_URL names one)."""
from __future__ import annotations

import asyncio

from sqlalchemy import text

from ccplane.db.ids import IdReserve
from ccplane.db.session import create_engine, session_factory


async def test_reserved_ids_are_never_handed_out_twice(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    try:
        sessions = session_factory(engine)
        first = IdReserve(sessions, "alerts", block=4)
        taken = [await first.take() for _ in range(6)]  # more than a block: a refill happens
        assert len(set(taken)) == 6 and taken == sorted(taken)
        # A second process (or this one after a restart) with none of those rows
        # written: its ids start above every id the first one reserved.
        second = IdReserve(sessions, "alerts", block=4)
        together = await asyncio.gather(*(second.take() for _ in range(10)), *(first.take() for _ in range(10)))
        assert len(set(together)) == 20 and not set(together) & set(taken)
        assert min([await second.take() for _ in range(3)]) > max(taken)
        await first.stop()
        await second.stop()
    finally:
        await engine.dispose()


async def test_reserve_refuses_what_is_not_a_table_name(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    try:
        try:
            IdReserve(session_factory(engine), "alerts; drop table alerts")
            raise AssertionError("accepted a statement as a table name")
        except ValueError as exc:
            assert "not a table name" in str(exc)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM alerts"))).scalar() is not None
    finally:
        await engine.dispose()
