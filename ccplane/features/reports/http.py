from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from ...errors import NotFound
from ...web.routing import Api, Req
from .export import aiter, csv_chunks, xlsx_file
from .schemas import KINDS, ReportQuery

api = Api()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@api.route("GET", "/domains/{domain}/reports/{kind}", query=ReportQuery, tag="reports",
           produces=("text/csv", XLSX))
async def get_report(req: Req) -> object:
    """A report over the finished calls of the period (quantitative, summary, detailed, listing, call-group,
    abandoned, agent-activity); json, csv (UTF-8 with BOM) or xlsx, each with the same header block. docs/reports.md."""
    kind = req.params["kind"]
    if kind not in KINDS:
        raise NotFound(f"no report {kind}; reports: {', '.join(KINDS)}", field="kind")
    q: ReportQuery = req.query
    svc = req.services.reports
    rep, slug = await svc.open(req.me, req.params["domain"], q)
    meta: dict[str, Any] = {"report": kind, "domain": slug, "from": q.from_.isoformat(), "to": q.to.isoformat(),
                            "filters": q.filters() | ({"group_by": q.group_by} if q.group_by else {}),
                            "service_level": q.service_level, "short_abandon": q.short_abandon,
                            "generated_at": datetime.now(timezone.utc).isoformat(), "timezone": q.timezone}
    nxt: str | None = None
    rows: AsyncIterator[dict[str, Any]]
    items: list[dict[str, Any]] | None = None
    if kind == "detailed":
        if q.format == "json":
            items, nxt = await svc.detailed_page(rep, q.after, q.limit)
            rows = aiter(items)
        else:
            rows = svc.detailed_all(rep)  # the whole period, page by page (keyset)
    else:
        if kind in ("abandoned", "agent-activity", "call-group"):
            items = await {"abandoned": svc.abandoned, "agent-activity": svc.agent_activity,
                           "call-group": svc.call_groups}[kind](rep)
        else:
            items = await svc.aggregate(rep, kind)
        rows = aiter(items)
    name = f"{kind}-{slug}"
    if q.format == "csv":
        resp = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8",
                                           "Content-Disposition": f'attachment; filename="{name}.csv"'})
        await resp.prepare(req.request)
        async for chunk in csv_chunks(meta, rows):
            await resp.write(chunk)
        await resp.write_eof()
        return resp
    if q.format == "xlsx":
        path = await xlsx_file(meta, rows)
        try:
            resp = web.StreamResponse(headers={"Content-Type": XLSX,
                                               "Content-Disposition": f'attachment; filename="{name}.xlsx"'})
            await resp.prepare(req.request)
            with open(path, "rb") as f:
                while chunk := f.read(1 << 16):
                    await resp.write(chunk)
            await resp.write_eof()
            return resp
        finally:
            os.unlink(path)
    body: dict[str, Any] = {"header": meta, "items": items}
    if kind == "detailed":
        body["next"] = nxt
    return web.json_response(body)
