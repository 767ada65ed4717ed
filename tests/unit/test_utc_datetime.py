"""Moments are compared in UTC whatever zone they are bound in (SQLite keeps no offset)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select

from ccplane.db.base import UtcDateTime

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def test_a_local_evening_bound_selects_the_rows_of_that_evening() -> None:
    meta = MetaData()
    t = Table("t", meta, Column("id", Integer, primary_key=True), Column("at", UtcDateTime()))
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    stored = datetime(2026, 12, 7, 0, 48, tzinfo=timezone.utc)  # 21:48 on the 6th in São Paulo
    with engine.begin() as c:
        c.execute(insert(t).values(id=1, at=stored))
        midnight_after = datetime(2026, 12, 7, tzinfo=SAO_PAULO)  # 03:00 UTC
        rows = c.execute(select(t.c.id).where(t.c.at < midnight_after,
                                              t.c.at >= midnight_after - timedelta(days=1))).all()
        assert [r.id for r in rows] == [1]
        # and the value comes back as the same moment, aware
        back = c.execute(select(t.c.at)).scalar_one()
        assert back == stored and back.tzinfo is not None
        assert c.execute(select(t.c.id).where(t.c.at >= midnight_after)).all() == []
