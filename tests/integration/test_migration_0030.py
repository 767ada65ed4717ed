"""0030 keeps existing data: the group names queues carry become monitoring
groups of their domain; extensions and routes start unrecorded; and it goes
back down (SQLite and PostgreSQL, as test_migrations)."""
from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from ccplane.db.session import alembic_config
from tests.integration.test_migrations import _sync, fresh_url  # noqa: F401 - the fixture

QUEUE = ("INSERT INTO queues (domain_id, name, strategy, ring_timeout, retry, wrapup_time, max_no_answer, "
         "call_timeout, reject_delay, noanswer_delay, max_wait, max_len, monitoring_group, overflow, created_at, "
         "updated_at) VALUES (:d, :n, 'ringall', 15, 5, 0, 0, 0, 0, 0, 0, 0, :g, '{}', '2026-01-01', '2026-01-01')")


def test_queue_group_names_become_groups(fresh_url: str) -> None:  # noqa: F811
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0020")
    engine = create_engine(_sync(fresh_url))
    try:
        with engine.begin() as conn:
            for i, slug in ((7, "old"), (8, "other")):
                conn.execute(text("INSERT INTO domains (id, slug, name, created_at, updated_at) "
                                  f"VALUES ({i}, '{slug}', 'X', '2026-01-01', '2026-01-01')"))
            for d, name, group in ((7, "a", "Dia"), (7, "b", "Dia"), (7, "c", None), (8, "a", "Dia"),
                                   (8, "b", "Noite")):
                conn.execute(text(QUEUE), {"d": d, "n": name, "g": group})
            conn.execute(text("INSERT INTO extensions (domain_id, number, name, kind, secret, created_at, "
                              "updated_at) VALUES (7, '1001', 'E', 'sip', 'secret-1001', '2026-01-01', "
                              "'2026-01-01')"))
        command.upgrade(cfg, "0030")
        with engine.connect() as conn:
            groups = conn.execute(text("SELECT domain_id, name FROM monitoring_groups ORDER BY domain_id, name")).all()
            record = conn.execute(text("SELECT record FROM extensions")).scalar_one()
        assert [tuple(g) for g in groups] == [(7, "Dia"), (8, "Dia"), (8, "Noite")]
        assert not record
        command.downgrade(cfg, "0020")
        with engine.connect() as conn:
            names = conn.execute(text("SELECT name, monitoring_group FROM queues WHERE domain_id = 7 "
                                      "ORDER BY name")).all()
        assert [tuple(n) for n in names] == [("a", "Dia"), ("b", "Dia"), ("c", None)]
    finally:
        engine.dispose()
