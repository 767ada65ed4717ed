"""0111 widens call_legs.result to 128 characters keeping every leg (SQLite copies the
table, PostgreSQL alters it in place), so an IVR leg two menus deep can be stored;
it goes back down keeping the legs (SQLite and PostgreSQL, as test_migrations)."""
from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from ccplane.db.session import alembic_config
from tests.integration.test_migrations import _sync, fresh_url  # noqa: F401 - the fixture

CALL = ("INSERT INTO calls (id, domain_id, call_id, direction, status, state, started_at, source) "
        "VALUES (1, 7, 'old-1', 'inbound', 'ended', 'ended', '2026-03-02 12:00:00', 'live')")
LEG = ("INSERT INTO call_legs (call_pk, seq, kind, agent, started_at, result) "
       "VALUES (1, :seq, :kind, :agent, '2026-03-02 12:00:00+00:00', :result)")
DEEP = "root.options.2.options.1:extension"  # 34 characters: refused by PostgreSQL before 0111


def test_leg_results_widen_and_every_leg_is_kept(fresh_url: str) -> None:  # noqa: F811
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0110")
    engine = create_engine(_sync(fresh_url))
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO domains (id, slug, name, created_at, updated_at) "
                              "VALUES (7, 'old', 'X', '2026-01-01', '2026-01-01')"))
            conn.execute(text(CALL))
            conn.execute(text(LEG), {"seq": 0, "kind": "ivr", "agent": None, "result": "root:enter"})
            conn.execute(text(LEG), {"seq": 1, "kind": "agent", "agent": "ana", "result": "caller"})
        command.upgrade(cfg, "0111")
        with engine.begin() as conn:
            conn.execute(text(LEG), {"seq": 2, "kind": "ivr", "agent": None, "result": DEEP})
            rows = conn.execute(text("SELECT seq, kind, agent, result FROM call_legs ORDER BY seq")).all()
            assert [tuple(r) for r in rows] == [(0, "ivr", None, "root:enter"), (1, "agent", "ana", "caller"),
                                                (2, "ivr", None, DEEP)]
            # the partial index of agent activity survived the copy
            if conn.dialect.name == "sqlite":
                sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ix_call_legs_agent_call'"))
                assert "WHERE agent IS NOT NULL" in str(sql.scalar_one())
        command.downgrade(cfg, "0110")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM call_legs")).scalar_one() == 3
    finally:
        engine.dispose()
