"""Reports on a million calls: generates N calls with their legs (default 1,000,000) for one
domain over 90 days, then times quantitative, summary, summary grouped by hour and the first
detailed page for a 30-day period through ccplane's report service, each beside a hand-written
SQL baseline doing the same work in the same run (ratio = ccplane / baseline, best of 3), and
streams the 30-day detailed CSV printing rows/s and peak RSS.

A temporary SQLite database, or a fresh database on a PostgreSQL server (--database-url),
dropped at the end:

    .venv/bin/python bench/reports.py [--calls 1000000]
    .venv/bin/python bench/reports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""
from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import resource
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import text

DAY0 = datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc)
RESULTS = ["caller_hangup"] * 6 + ["agent_hangup"] * 2 + ["abandon", "overflow", "max_wait", "blacklist"]


def generate(n: int, first: int, count: int, leg_id: int,
             seed: int = 12) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
    """Calls first..first+count-1 of n (spread evenly over 90 days), their legs, the last leg id."""
    rnd = random.Random(seed + first)
    calls, legs = [], []
    step = 90 * 86400 / n
    for i in range(first, first + count):
        st = DAY0 + timedelta(seconds=i * step + rnd.random())
        reason = rnd.choice(RESULTS)
        queue, agent = f"q{rnd.randint(1, 8)}", f"agent{rnd.randint(1, 60)}"
        wait = round(rnd.uniform(0, 90), 3) if reason != "blacklist" else None
        talk = round(rnd.uniform(10, 600), 3) if reason.endswith("hangup") else None
        ans = st + timedelta(seconds=wait or 0) if talk is not None else None
        end = (ans + timedelta(seconds=talk)) if ans and talk else st + timedelta(seconds=wait or 1)
        transferred = talk is not None and rnd.random() < 0.05  # one answered call in twenty is transferred
        ring = None if wait is None else wait  # the offer leg below rings for the whole wait
        calls.append((i, 1, f"b{i}", "inbound", "ended", "ended", f"119{rnd.randint(0, 10**8):08d}", None, "3000",
                      queue if wait is not None else None, agent if talk else None, st, ans, end, reason, wait, talk,
                      "live", transferred, ring))
        if wait is None:
            continue
        q_res = "answered" if talk else ("abandon" if reason == "abandon" else "timeout")
        leg_id += 1
        legs.append((leg_id, i, 0, "queue", queue, None, q_res, st, None, st + timedelta(seconds=wait)))
        leg_id += 1
        legs.append((leg_id, i, 1, "offer", queue, agent, "answered" if talk else "no_answer", st,
                     None, st + timedelta(seconds=wait)))
        if talk:
            leg_id += 1
            legs.append((leg_id, i, 2, "agent", queue, agent, "caller", ans, ans, end))
            if transferred:
                leg_id += 1
                legs.append((leg_id, i, 3, "transfer", queue, agent, "blind", end, None, end))
    return calls, legs, leg_id


CALL_COLS = ("id, domain_id, call_id, direction, status, state, caller, caller_name, did, queue, agent, started_at, "
             "answered_at, ended_at, end_reason, wait_seconds, talk_seconds, source, transferred, ring_seconds")
LEG_COLS = "id, call_pk, seq, kind, queue, agent, result, started_at, answered_at, ended_at"


def _sqlite_ts(v: Any) -> Any:
    return v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v  # SQLAlchemy's storage form


CHUNK = 100_000


def load_sqlite(path: Path, n: int) -> int:
    db = sqlite3.connect(path)
    db.execute("INSERT INTO domains (id, slug, name, created_at, updated_at) VALUES (1, 'bench', 'Bench', "
               "'2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')")
    leg_id = 0
    for first in range(1, n + 1, CHUNK):
        calls, legs, leg_id = generate(n, first, min(CHUNK, n + 1 - first), leg_id)
        _load_sqlite_chunk(db, calls, legs)
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return leg_id


def _load_sqlite_chunk(db: sqlite3.Connection, calls: list[tuple[Any, ...]], legs: list[tuple[Any, ...]]) -> None:
    db.executemany(f"INSERT INTO calls ({CALL_COLS}) VALUES ({', '.join('?' * 20)})",
                   ([_sqlite_ts(v) for v in c] for c in calls))
    db.executemany(f"INSERT INTO call_legs ({LEG_COLS}) VALUES ({', '.join('?' * 10)})",
                   ([_sqlite_ts(v) for v in leg] for leg in legs))


def load_pg(dsn: str, n: int) -> int:
    import psycopg
    leg_id = 0
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO domains (id, slug, name, created_at, updated_at) VALUES (1, 'bench', 'Bench', "
                     "now(), now())")
        with conn.cursor() as cur:
            for first in range(1, n + 1, CHUNK):
                calls, legs, leg_id = generate(n, first, min(CHUNK, n + 1 - first), leg_id)
                with cur.copy(f"COPY calls ({CALL_COLS}) FROM STDIN") as cp:
                    for c in calls:
                        cp.write_row(c)
                with cur.copy(f"COPY call_legs ({LEG_COLS}) FROM STDIN") as cp:
                    for leg in legs:
                        cp.write_row(leg)
        conn.commit()
        conn.autocommit = True
        # as autovacuum leaves a table at rest: statistics, and the visibility map the index-only scans need
        conn.execute("VACUUM ANALYZE calls")
        conn.execute("VACUUM ANALYZE call_legs")
    return leg_id


def baselines(dialect: str) -> dict[str, str | list[str]]:
    hour = ("strftime('%Y-%m-%d %H:00', c.started_at, '-10800 seconds')" if dialect == "sqlite"
            else "date_trunc('hour', timezone('UTC', c.started_at) + interval '-10800 seconds')")
    w = "c.domain_id = 1 AND c.status = 'ended' AND c.started_at >= :a AND c.started_at < :b"
    summary = (f"SELECT count(*), sum(CASE WHEN c.answered_at IS NOT NULL THEN 1 ELSE 0 END), "
               f"sum(CASE WHEN c.end_reason = 'abandon' AND coalesce(c.wait_seconds, 0) >= 5 THEN 1 ELSE 0 END), "
               f"avg(c.wait_seconds), max(c.wait_seconds), "
               f"avg(CASE WHEN c.answered_at IS NOT NULL THEN c.wait_seconds END), avg(c.talk_seconds), "
               f"max(c.talk_seconds), sum(c.talk_seconds), "
               "avg(c.ring_seconds), "
               f"sum(CASE WHEN c.answered_at IS NOT NULL AND coalesce(c.wait_seconds, 0) <= 20 THEN 1 ELSE 0 END), "
               f"sum(CASE WHEN c.end_reason = 'abandon' AND c.wait_seconds >= 5 AND c.wait_seconds > 20 THEN 1 "
               f"ELSE 0 END) FROM calls c WHERE {w}")
    quant = ("SELECT count(*), sum(CASE WHEN c.answered_at IS NOT NULL THEN 1 ELSE 0 END), "
             + ", ".join(f"sum(CASE WHEN c.end_reason = '{r}' THEN 1 ELSE 0 END)"
                         for r in ("abandon", "blacklist", "overflow"))
             + ", sum(CASE WHEN c.end_reason IN ('max_wait', 'call_timeout') THEN 1 ELSE 0 END)"
             ", sum(CASE WHEN c.end_reason = 'abandon' AND coalesce(c.wait_seconds, 0) < 5 THEN 1 ELSE 0 END)"
             ", sum(CASE WHEN c.transferred THEN 1 ELSE 0 END), "
             + ", ".join(f"sum(CASE WHEN c.end_reason = 'abandon' AND coalesce(c.wait_seconds, 0) >= {lo} "
                         f"{'AND c.wait_seconds < ' + str(hi) if hi else ''} THEN 1 ELSE 0 END)"
                         for lo, hi in ((0, 10), (10, 30), (30, 60), (60, None)))
             + f" FROM calls c WHERE {w}")
    by_hour = summary.replace("SELECT count(*)", f"SELECT {hour} AS h, count(*)") + " GROUP BY h ORDER BY h"
    # the same first page by hand: the calls with their legs, then their attendances and recordings
    page = f"SELECT c.id, c.call_id FROM calls c WHERE {w} ORDER BY c.started_at, c.id LIMIT 100"
    detailed = [f"WITH page AS (SELECT c.* FROM calls c WHERE {w} ORDER BY c.started_at, c.id LIMIT 100) "
                "SELECT page.*, l.* FROM page LEFT JOIN call_legs l ON l.call_pk = page.id "
                "ORDER BY page.started_at, page.id, l.seq",
                f"SELECT a.call_id, a.protocol, a.disposition FROM attendances a JOIN ({page}) p "
                "ON p.call_id = a.call_id WHERE a.domain_id = 1 ORDER BY a.started_at, a.id",
                f"SELECT r.call_id, r.id FROM recordings r JOIN ({page}) p ON p.call_id = r.call_id "
                "WHERE r.domain_id = 1 ORDER BY r.started_at, r.id"]
    lists: dict[str, str | list[str]] = {}
    if dialect == "postgresql":
        # the lists by hand, as one would write them: the abandoned calls with their "reached back"
        # probes, the agents' legs of the period's calls summed (and their state spans)
        lists["abandoned"] = (
            "SELECT c.call_id, c.caller, c.caller_name, c.did, c.queue, c.started_at, c.wait_seconds, "
            "EXISTS (SELECT 1 FROM calls l WHERE l.domain_id = c.domain_id AND l.caller = c.caller "
            "AND l.started_at > c.started_at AND l.answered_at IS NOT NULL) OR EXISTS (SELECT 1 FROM call_legs x "
            "JOIN calls l ON l.id = x.call_pk WHERE l.domain_id = c.domain_id AND l.started_at > c.started_at "
            "AND x.number = c.caller AND x.kind = 'external' AND x.answered_at IS NOT NULL) "
            f"FROM calls c WHERE {w} AND c.end_reason = 'abandon' ORDER BY c.started_at, c.id")
        lists["agent_activity"] = [
            "SELECT x.agent, sum(CASE WHEN x.kind = 'offer' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN x.kind = 'offer' AND x.result IN ('no_answer', 'busy', 'rejected', 'unavailable') "
            "THEN 1 ELSE 0 END), sum(CASE WHEN x.kind = 'offer' AND x.result = 'no_answer' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN x.kind = 'agent' AND x.answered_at IS NOT NULL THEN 1 ELSE 0 END), "
            "sum(CASE WHEN x.kind = 'agent' AND x.answered_at IS NOT NULL THEN extract(epoch FROM x.ended_at - "
            "x.answered_at) END), sum(CASE WHEN x.kind = 'transfer' THEN 1 ELSE 0 END) "
            f"FROM call_legs x JOIN calls c ON c.id = x.call_pk WHERE {w} AND x.agent IS NOT NULL "
            "GROUP BY x.agent ORDER BY x.agent",
            "SELECT username, state, reason, count(*) FROM agent_state_spans WHERE domain_id = 1 "
            "AND started_at < :b GROUP BY username, state, reason"]
    return {"quantitative": quant, "summary": summary, "by_hour": by_hour, "detailed_page": detailed} | lists


async def best(fn: Callable[[], Awaitable[Any]], times: int = 3) -> float:
    out = []
    for _ in range(times):
        t = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - t)
    return min(out)


async def run(url: str, dialect: str) -> None:
    from ccplane.db.session import create_engine, session_factory
    from ccplane.features.reports.export import csv_table
    from ccplane.features.reports.schemas import ReportQuery
    from ccplane.features.reports.services import DETAIL_COLUMNS, Report, ReportService
    engine = create_engine(url)
    sessions = session_factory(engine)
    svc = ReportService(sessions, dialect)
    a, b = DAY0 + timedelta(days=30), DAY0 + timedelta(days=60)
    q = ReportQuery.model_validate({"from": a.isoformat(), "to": b.isoformat()})
    qh = ReportQuery.model_validate({"from": a.isoformat(), "to": b.isoformat(), "group_by": "hour"})
    ours: dict[str, Callable[[], Awaitable[Any]]] = {
        "quantitative": lambda: svc.aggregate(Report(dialect, 1, q), "quantitative"),
        "summary": lambda: svc.aggregate(Report(dialect, 1, q), "summary"),
        "by_hour": lambda: svc.aggregate(Report(dialect, 1, qh), "summary"),
        "detailed_page": lambda: svc.detailed_page(Report(dialect, 1, q), None, 100)}
    base = baselines(dialect)
    if "abandoned" in base:  # PostgreSQL only: see bench/README.md
        ours |= {"abandoned": lambda: svc.abandoned(Report(dialect, 1, q)),
                 "agent_activity": lambda: svc.agent_activity(Report(dialect, 1, q))}

    def raw(sql: str | list[str]) -> Callable[[], Awaitable[Any]]:
        async def go() -> Any:
            async with sessions() as s:
                return [(await s.execute(text(one), {"a": a, "b": b})).all()
                        for one in ([sql] if isinstance(sql, str) else sql)]
        return go
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    print(f"{'report':<15}{'ccplane ms':>12}{'baseline ms':>13}{'ratio':>8}")
    for name, fn in ours.items():
        await fn()  # warm the cache once, as a running server would be
        t_ours, t_base = 1e9, 1e9
        for _ in range(3):  # interleaved, best of 3 each: a load that shifts during the run hits both
            t_ours, t_base = min(t_ours, await best(fn, 1)), min(t_base, await best(raw(base[name]), 1))
        print(f"{name:<15}{t_ours * 1000:>12.1f}{t_base * 1000:>13.1f}{t_ours / t_base:>8.2f}")
    meta = {"report": "detailed", "domain": "bench", "from": a.isoformat(), "to": b.isoformat(), "filters": {},
            "generated_at": "", "timezone": q.timezone}
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss: list[float] = []
    t, cpu = time.perf_counter(), time.process_time()
    n_bytes, sink = 0, io.BytesIO()
    async for chunk in csv_table(meta, DETAIL_COLUMNS, svc.detailed_pages(Report(dialect, 1, q)), safe=True):
        n_bytes += len(chunk)
        sink.seek(0)
        sink.write(chunk[:1])  # the bytes go nowhere: the response would write them to the socket
        rss.append(_rss_mb())
    dt, dcpu = time.perf_counter() - t, time.process_time() - cpu
    async with sessions() as s:
        rows = (await s.execute(text("SELECT count(*) FROM calls WHERE started_at >= :a AND started_at < :b"),
                                {"a": a, "b": b})).scalar_one()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"detailed CSV 30 days: {rows} rows, {n_bytes / 1e6:.1f} MB in {dt:.1f} s = {rows / dt:,.0f} rows/s "
          f"(this process's CPU {dcpu:.1f} s = {rows / dcpu:,.0f} rows per CPU-second); RSS during the stream "
          f"{rss[0]:.0f} MB at the first chunk, {max(rss):.0f} MB max, {rss[-1]:.0f} MB at the last "
          f"({len(rss)} chunks); peak RSS {rss0 / 1024:.0f} MB before, {rss1 / 1024:.0f} MB after")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    await engine.dispose()


def _rss_mb() -> float:
    """This process's resident memory now (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _calls_in(dsn: str, sqlite_file: Path, legs: bool = False) -> Any:
    sql = "SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM call_legs)"
    if dsn:
        import psycopg
        with psycopg.connect(dsn) as conn:
            row = conn.execute(sql).fetchone()
    else:
        db = sqlite3.connect(sqlite_file)
        row = db.execute(sql).fetchone()
        db.close()
    assert row is not None
    return (int(row[0]), int(row[1])) if legs else int(row[0])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default="", help="a PostgreSQL server URL: a fresh database is created "
                   "there and dropped at the end (default: temporary SQLite)")
    p.add_argument("--calls", type=int, default=1_000_000)
    p.add_argument("--keep", default="", metavar="NAME",
                   help="use (and keep) this database: a PostgreSQL database name on the server, or a SQLite file; "
                   "loaded only when it holds no calls yet, upgraded to the head revision each run")
    args = p.parse_args()
    from alembic import command

    from ccplane.db.session import alembic_config
    tmp = Path(tempfile.mkdtemp(prefix="reports-"))
    pg_db, dsn = "", ""
    sqlite_file = Path(args.keep) if args.keep and not args.database_url else tmp / "ccplane.db"
    url = f"sqlite+aiosqlite:///{sqlite_file}"
    if args.database_url.startswith("postgresql"):
        import psycopg
        pg_db = args.keep or f"reports_{secrets.token_hex(4)}"
        server = args.database_url.replace("+psycopg", "", 1)
        with psycopg.connect(server, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (pg_db,)).fetchone():
                conn.execute(f'CREATE DATABASE "{pg_db}"')
        url = args.database_url.rsplit("/", 1)[0] + "/" + pg_db
        dsn = server.rsplit("/", 1)[0] + "/" + pg_db
    try:
        t = time.perf_counter()
        command.upgrade(alembic_config(url), "head")
        print(f"migrations to head: {time.perf_counter() - t:.1f} s")
        if _calls_in(dsn, sqlite_file) == 0:
            t = time.perf_counter()
            load_pg(dsn, args.calls) if pg_db else load_sqlite(sqlite_file, args.calls)
            print(f"generated and loaded in {time.perf_counter() - t:.1f} s")
        n_calls, n_legs = _calls_in(dsn, sqlite_file, legs=True)
        print(f"database: {'postgresql' if pg_db else 'sqlite'}; {n_calls:,} calls, {n_legs:,} legs over 90 days")
        asyncio.run(run(url, "postgresql" if pg_db else "sqlite"))
    finally:
        if pg_db and not args.keep:
            import psycopg
            with psycopg.connect(args.database_url.replace("+psycopg", "", 1), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
