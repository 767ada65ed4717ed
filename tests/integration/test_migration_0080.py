"""0080 keeps existing journeys and fills what the reports now read on the call row:
``transferred`` for a call with a transfer leg, ``ring_seconds`` the offer legs' ring
time summed (NULL without offers); it goes back down keeping the calls (SQLite and
PostgreSQL, as test_migrations)."""
from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from ccplane.db.session import alembic_config
from tests.integration.test_migrations import _sync, fresh_url  # noqa: F401 - the fixture

CALL = ("INSERT INTO calls (id, domain_id, call_id, direction, status, state, started_at, ended_at, end_reason, "
        "source) VALUES (:id, 7, :cid, 'inbound', 'ended', 'ended', '2026-03-02 12:00:00', '2026-03-02 12:05:00', "
        "'caller_hangup', 'live')")
LEG = ("INSERT INTO call_legs (call_pk, seq, kind, agent, started_at, ended_at, result) "
       "VALUES (:pk, :seq, :kind, 'ana', :a, :b, 'x')")


def test_report_flags_are_backfilled_from_the_legs(fresh_url: str) -> None:  # noqa: F811
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0070")
    engine = create_engine(_sync(fresh_url))
    # call 1: two offers (4 s and 2.5 s) and a transfer; call 2: one offer of 1.25 s; call 3: no legs
    legs = {1: [("queue", "12:00:00", "12:00:08"), ("offer", "12:00:00", "12:00:04"),
                ("offer", "12:00:04", "12:00:06.500000"), ("agent", "12:00:08", "12:01:00"),
                ("transfer", "12:01:00", "12:01:00")],
            2: [("offer", "12:00:00", "12:00:01.250000"), ("agent", "12:00:01.250000", "12:02:00")],
            3: []}
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO domains (id, slug, name, created_at, updated_at) "
                              "VALUES (7, 'old', 'X', '2026-01-01', '2026-01-01')"))
            for pk, its_legs in legs.items():
                conn.execute(text(CALL), {"id": pk, "cid": f"old-{pk}"})
                for seq, (kind, a, b) in enumerate(its_legs):
                    conn.execute(text(LEG), {"pk": pk, "seq": seq, "kind": kind, "a": f"2026-03-02 {a}+00:00",
                                             "b": f"2026-03-02 {b}+00:00"})
        command.upgrade(cfg, "0080")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, transferred, ring_seconds FROM calls ORDER BY id")).all()
        expected = {pk: (any(k == "transfer" for k, _, _ in ls),
                         sum(_secs(b) - _secs(a) for k, a, b in ls if k == "offer") if any(
                             k == "offer" for k, _, _ in ls) else None) for pk, ls in legs.items()}
        assert [(r[0], bool(r[1]), None if r[2] is None else round(r[2], 6)) for r in rows] == [
            (pk, t, ring) for pk, (t, ring) in expected.items()]
        command.downgrade(cfg, "0070")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM calls")).scalar_one() == 3
            assert conn.execute(text("SELECT count(*) FROM call_legs")).scalar_one() == 7
    finally:
        engine.dispose()


def _secs(hms: str) -> float:
    h, m, s = hms.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)
