"""Equal results on SQLite and PostgreSQL at scale: runs every aggregate report (quantitative and
summary, whole and grouped by hour, day, queue, agent, disposition; the listing), the first detailed
page (500 calls with their legs) and the whole 30-day detailed CSV (hashed) on the two databases
bench/reports.py --keep left loaded with the same generated million calls, and prints which differ.

    .venv/bin/python bench/reports.py --keep /tmp/reports.db
    .venv/bin/python bench/reports.py --database-url "$CCPLANE_TEST_POSTGRES_URL" --keep reports_bench
    .venv/bin/python bench/reports_equal.py /tmp/reports.db postgresql+psycopg://postgres@127.0.0.1:5432/reports_bench
"""
from __future__ import annotations

import asyncio
import hashlib
import sys
from datetime import timedelta
from typing import Any

from reports import DAY0  # bench/reports.py, beside this script (its directory is on sys.path)


async def collect(url: str, dialect: str) -> dict[Any, Any]:
    from ccplane.db.session import create_engine, session_factory
    from ccplane.features.reports.export import csv_table
    from ccplane.features.reports.schemas import ReportQuery
    from ccplane.features.reports.services import DETAIL_COLUMNS, Report, ReportService
    engine = create_engine(url)
    svc = ReportService(session_factory(engine), dialect)
    a, b = DAY0 + timedelta(days=30), DAY0 + timedelta(days=60)
    period = {"from": a.isoformat(), "to": b.isoformat()}
    out: dict[Any, Any] = {}
    for kind in ("quantitative", "summary", "listing"):
        for by in (None, "hour", "day", "queue", "agent", "disposition"):
            if kind == "listing" and by:
                continue
            q = ReportQuery.model_validate(period | ({"group_by": by} if by else {}))
            out[(kind, by)] = await svc.aggregate(Report(dialect, 1, q), kind)
    rep = Report(dialect, 1, ReportQuery.model_validate(period))
    rep.slug = "bench"
    out["detailed first page"] = (await svc.detailed_page(rep, None, 500))[0]
    digest, lines = hashlib.sha256(), 0
    meta = {"report": "detailed", "domain": "bench", "from": a.isoformat(), "to": b.isoformat(), "filters": {},
            "generated_at": "", "timezone": "America/Sao_Paulo"}
    async for chunk in csv_table(meta, DETAIL_COLUMNS, svc.detailed_pages(rep), safe=True):
        digest.update(chunk)
        lines += chunk.count(b"\n")
    out["detailed CSV"] = (lines, digest.hexdigest())
    await engine.dispose()
    return out


async def main(sqlite_file: str, pg_url: str) -> int:
    lite = await collect(f"sqlite+aiosqlite:///{sqlite_file}", "sqlite")
    pg = await collect(pg_url, "postgresql")
    differ = [k for k in lite if lite[k] != pg[k]]
    for k, v in lite.items():
        size = f"{v[0]:,} lines, sha256 {v[1][:12]}" if k == "detailed CSV" else f"{len(v)} rows"
        print(f"{'DIFFER' if k in differ else 'equal':<7} {k} ({size})")
    print(f"{len(lite) - len(differ)} of {len(lite)} equal on SQLite and PostgreSQL")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1], sys.argv[2])))
