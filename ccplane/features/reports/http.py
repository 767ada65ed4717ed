from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from ...errors import NotFound
from ...web.routing import Api, Req
from .export import Page, aiter, csv_table, table_of, xlsx_table
from .schemas import KINDS, ReportQuery
from .services import DETAIL_COLUMNS

api = Api()
_NO_REQUEST: Any = None  # a JSON answer is built whole and never prepared against a request
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@api.route("GET", "/domains/{domain}/reports/{kind}", query=ReportQuery, tag="reports",
           produces=("text/csv", XLSX))
async def get_report(req: Req) -> object:
    """A report over the finished calls of the period (quantitative, summary, detailed, listing, call-group,
    abandoned, agent-activity); json, csv (UTF-8 with BOM) or xlsx, each with the same header block. docs/reports.md."""
    return await report_response(req.request, req.services.reports, req.me, req.params["domain"],
                                 req.params["kind"], req.query)


async def report_response(request: web.Request, svc: Any, me: Any, domain: str, kind: str,
                          q: ReportQuery) -> web.StreamResponse:
    """The report as the API answers it (json, csv or xlsx): the pages' downloads use it too."""
    if kind not in KINDS:
        raise NotFound(f"no report {kind}; reports: {', '.join(KINDS)}", field="kind")
    rep, slug = await svc.open(me, domain, q)
    q = rep.q  # with the time zone resolved (the domain's when the query named none)
    meta: dict[str, Any] = {"report": kind, "domain": slug, "from": q.from_.isoformat(), "to": q.to.isoformat(),
                            "filters": q.filters() | ({"group_by": q.group_by} if q.group_by else {}),
                            "service_level": q.service_level, "short_abandon": q.short_abandon,
                            "generated_at": datetime.now(timezone.utc).isoformat(), "timezone": q.timezone}
    nxt: str | None = None
    items: list[dict[str, Any]] | None = None
    columns: Any = None
    pages: AsyncIterator[Page] | None = None
    if kind == "detailed":
        if q.format == "json":
            items, nxt = await svc.detailed_page(rep, q.after, q.limit)
        else:  # the whole period, page by page (keyset), as tuples
            columns, pages = DETAIL_COLUMNS, svc.detailed_pages(rep)
    else:
        if kind in ("abandoned", "agent-activity", "call-group"):
            items = await {"abandoned": svc.abandoned, "agent-activity": svc.agent_activity,
                           "call-group": svc.call_groups}[kind](rep)
        else:
            items = await svc.aggregate(rep, kind)
    if pages is None and q.format != "json":
        columns, pages = await table_of(aiter(items or []))
    name = f"{kind}-{slug}"
    if q.format == "csv":
        resp = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8",
                                           "Content-Disposition": f'attachment; filename="{name}.csv"'})
        await resp.prepare(request)
        assert pages is not None
        async for chunk in csv_table(meta, columns, pages, safe=kind == "detailed"):
            await resp.write(chunk)
        await resp.write_eof()
        return resp
    if q.format == "xlsx":
        assert pages is not None
        path = await xlsx_table(meta, columns, pages)
        try:
            resp = web.StreamResponse(headers={"Content-Type": XLSX,
                                               "Content-Disposition": f'attachment; filename="{name}.xlsx"'})
            await resp.prepare(request)
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


async def report_json(svc: Any, me: Any, domain: str, kind: str, q: ReportQuery) -> dict[str, Any]:
    """The report's JSON body (header, items, next for detailed), as the API sends it."""
    if q.format != "json":
        q = q.model_copy(update={"format": "json"})
    resp = await report_response(_NO_REQUEST, svc, me, domain, kind, q)
    assert isinstance(resp, web.Response) and resp.text is not None
    return dict(json.loads(resp.text))

