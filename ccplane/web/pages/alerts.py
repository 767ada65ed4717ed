"""/alerts: the alert monitoring page of the alarm-receiving centre.

The board (open alerts, live over the domain's feed), each alert's page (person
card with attachments, notes, outcome), the latest-alerts table with filters and
spreadsheet download, and the dashboard figures as server-side SVG. Everything
goes through the alert, person and attachment services the API uses.
"""
from __future__ import annotations

import asyncio
import functools
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from ...errors import ApiError, ValidationFailed
from ...features.alerts.domain import LEVELS, stats
from ...features.alerts.export import to_csv, to_xlsx
from ...features.alerts.schemas import AlertOut
from ..keys import SERVICES
from . import ENV, LANG, SESSION, Session, page, render
from .charts import bars
from .i18n import translator

TEAM = frozenset({"root", "superuser", "admin", "supervisor", "agent"})
ZONE = ZoneInfo("America/Sao_Paulo")  # the product's zone: a domain's own (``timezone``) is used where known
LEVEL_RANK = {"red": 0, "yellow": 1, "green": 2}
STATUS_RANK = {"new": 0, "acknowledged": 1}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50
TABLES_TTL = 2.0  # seconds one drawing of the dashboard and table serves every page of the domain
TABLES: web.AppKey[dict[tuple[Any, ...], tuple[float, "asyncio.Future[str]"]]] = web.AppKey("alert_tables", dict)


def board_order(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open alerts as the board shows them: untaken first, then by level (red,
    yellow, green), then the oldest first (it has waited longest).

    >>> [a["id"] for a in board_order([{"id": 1, "status": "new", "level": "green", "created_at": "1"},
    ...   {"id": 2, "status": "new", "level": "red", "created_at": "2"},
    ...   {"id": 3, "status": "acknowledged", "level": "red", "created_at": "0"},
    ...   {"id": 4, "status": "new", "level": "red", "created_at": "1"}])]
    [4, 2, 1, 3]
    """
    return sorted((a for a in alerts if a["status"] in STATUS_RANK),
                  key=lambda a: (STATUS_RANK[a["status"]], LEVEL_RANK.get(a["level"], 9), a["created_at"], a["id"]))


def local(iso: str, zone: ZoneInfo = ZONE) -> str:
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")


def local_iso(a: dict[str, Any], zone: ZoneInfo = ZONE) -> dict[str, Any]:
    """The alert with its time in the centre's zone (the dashboard's hours and days)."""
    return a | {"created_at": datetime.fromisoformat(a["created_at"]).astimezone(zone).isoformat()}


async def domain_zone(request: web.Request) -> ZoneInfo:
    """The time zone of the session's domain (its days and hours on these pages)."""
    session: Session = request[SESSION]
    if session.domain is None:
        return ZONE
    domain = await request.app[SERVICES].domains.get(session.principal, session.domain)
    return ZoneInfo(domain.timezone)


class BadFilter(Exception):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def filters(query: Any, zone: ZoneInfo = ZONE) -> dict[str, Any]:
    """The table's filters from the query string: dates (the centre's days),
    level, status. Raises BadFilter naming the field."""
    def day(name: str, default: date) -> date:
        raw = query.get(name, "")
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise BadFilter(name) from None
    today = datetime.now(zone).date()
    start, end = day("from", today - timedelta(days=6)), day("to", today)
    if end < start:
        raise BadFilter("to")
    level, status = query.get("level") or None, query.get("status") or None
    if level is not None and level not in LEVELS:
        raise BadFilter("level")
    if status is not None and status not in ("new", "acknowledged", "closed"):
        raise BadFilter("status")
    try:
        offset = max(0, int(query.get("offset", "0") or 0))
    except ValueError:
        raise BadFilter("offset") from None
    return {"from": start, "to": end, "level": level, "status": status, "offset": offset,
            "since": datetime.combine(start, time(), zone), "until": datetime.combine(end + timedelta(days=1), time(), zone),
            "zone": zone}


async def _list(request: web.Request, f: dict[str, Any], limit: int, offset: int = 0) -> tuple[list[AlertOut], int]:
    session: Session = request[SESSION]
    return await request.app[SERVICES].alerts.list(session.principal, session.domain or "", since=f["since"],
                                                    until=f["until"], level=f["level"], status=f["status"], person=None,
                                                    limit=limit, offset=offset)


async def open_alerts(request: web.Request) -> list[dict[str, Any]]:
    session: Session = request[SESSION]
    svc, out = request.app[SERVICES].alerts, []
    for status in ("new", "acknowledged"):
        items, _ = await svc.list(session.principal, session.domain or "", since=None, until=None, level=None,
                                  status=status, person=None, limit=500, offset=0)
        out += [a.model_dump() for a in items]
    return board_order(out)


def dashboard(alerts: list[dict[str, Any]], _: Any, start: date, end: date, zone: ZoneInfo = ZONE) -> dict[str, Any]:
    figures = stats([local_iso(a, zone) for a in alerts])
    hours = [(f"{h:02d}", float(figures["by_hour"].get(f"{h:02d}", 0))) for h in range(24)]
    days, d = [], start
    while d <= end:
        days.append((d.strftime("%d/%m"), float(figures["by_day"].get(d.isoformat(), 0))))
        d += timedelta(days=1)
    names = {"red": _("Vermelho"), "yellow": _("Amarelo"), "green": _("Verde")}
    order = ("red", "yellow", "green")
    return {"figures": figures,
            "by_hour": bars(_("Alertas por hora"), hours, "blue"),
            "by_day": bars(_("Alertas por dia"), days[-31:], "purple"),
            "by_level": bars(_("Alertas por nível"), [(names[lv], float(figures["by_level"].get(lv, 0))) for lv in order],
                             colors=order)}


async def _tables(request: web.Request, f: dict[str, Any]) -> dict[str, Any]:
    """What the dashboard and the latest-alerts table show for the filters."""
    _ = translator(request.get(LANG) or "pt_BR")
    every, total = await _list(request, f, limit=1_000_000)
    views = [a.model_dump() for a in every]
    query = {k: (str(v) if v is not None else "") for k, v in f.items() if k in ("from", "to", "level", "status")}
    return {"rows": views[f["offset"]:f["offset"] + PAGE_SIZE], "total": total, "f": f, "query": query,
            "page_size": PAGE_SIZE, "local": lambda iso: local(iso, f["zone"]),
            "dash": dashboard(views, _, f["from"], f["to"], f["zone"]), "labels": _labels(_)}


@page(TEAM)
async def board(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    _ = translator(request.get(LANG) or "pt_BR")
    if session.domain is None:
        return render(request, "alerts.html", domain=None)
    zone = await domain_zone(request)
    try:
        f = filters(request.query, zone)
    except BadFilter as exc:
        f, error = filters({}, zone), exc.field
    else:
        error = None
    config = await request.app[SERVICES].alerts.get_config(session.principal, session.domain)
    return render(request, "alerts.html", status=400 if error else 200, domain=session.domain, error=error,
                  open=await open_alerts(request), deadlines=config.ack_deadlines, **await _tables(request, f))


@page(TEAM)
async def tables(request: web.Request) -> web.StreamResponse:
    """The dashboard and the latest-alerts table again (the page fetches them as
    alerts change). Every operator of a domain sees the same figures, so one
    drawing serves every open page for TABLES_TTL seconds: fifty screens cost
    one query, not fifty."""
    session: Session = request[SESSION]
    if session.domain is None:
        raise web.HTTPNotFound()
    try:
        f = filters(request.query, await domain_zone(request))
    except BadFilter as exc:
        raise web.HTTPBadRequest(text=f"{exc.field}: invalid value") from None
    lang = request.get(LANG) or "pt_BR"
    key = (session.domain, lang, tuple(sorted((k, str(f[k])) for k in ("from", "to", "level", "status", "offset"))))
    cache, now = request.app[TABLES], asyncio.get_running_loop().time()
    entry = cache.get(key)
    if entry is None or entry[0] < now:
        for old in [k for k, (expires, _t) in cache.items() if expires < now]:
            del cache[old]

        async def draw() -> str:
            ctx = await _tables(request, f)
            return ENV.get_template("alerts_fragment.html").render(_=translator(lang), lang=lang, **ctx)
        entry = cache[key] = (now + TABLES_TTL, asyncio.ensure_future(draw()))
    try:
        html = await asyncio.shield(entry[1])
    except Exception:
        cache.pop(key, None)
        raise
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def _labels(_: Any) -> dict[str, str]:
    return {"red": _("Vermelho"), "yellow": _("Amarelo"), "green": _("Verde"), "new": _("Novo"),
            "acknowledged": _("Assumido"), "closed": _("Encerrado"), "take": _("Assumir"), "open": _("Abrir"),
            "taken_by": _("Assumido por"), "map": _("Ver no mapa"), "none": _("Nenhum alerta em aberto"),
            "sound_on": _("Som ativado"), "sound_off": _("Ativar som"), "late": _("Prazo estourado"),
            "offline": _("Conexão perdida; reconectando…"), "no_location": _("Sem localização"), "live": _("Ao vivo"),
            "escalated": _("Escalonado"), "announce_new": _("Novo alerta")}


@page(TEAM)
async def open_json(request: web.Request) -> web.StreamResponse:
    """The board's open alerts, fetched again after each (re)connection to the feed."""
    if request[SESSION].domain is None:
        return web.json_response({"items": []})
    return web.json_response({"items": await open_alerts(request)})


@page(TEAM)
async def export(request: web.Request) -> web.StreamResponse:
    """The latest-alerts table as a spreadsheet (the API's export, the page's filters)."""
    session: Session = request[SESSION]
    fmt = request.query.get("format", "xlsx")
    if fmt not in ("csv", "xlsx") or session.domain is None:
        raise web.HTTPBadRequest(text="format: csv or xlsx")
    try:
        f = filters(request.query, await domain_zone(request))
    except BadFilter as exc:
        raise web.HTTPBadRequest(text=f"{exc.field}: invalid value") from None
    items, _ = await _list(request, f, limit=1_000_000)
    name = f"alertas-{session.domain}-{f['from']}-{f['to']}"
    body, kind = (to_csv(items), "text/csv; charset=utf-8") if fmt == "csv" else (to_xlsx(items), XLSX)
    return web.Response(body=body, headers={"Content-Type": kind,
                                            "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _alert_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    return int(raw)


@page(TEAM)
async def detail(request: web.Request) -> web.StreamResponse:
    return await _detail(request)


async def _detail(request: web.Request, error: ApiError | None = None, status: int = 200) -> web.StreamResponse:
    session: Session = request[SESSION]
    services, me, slug = request.app[SERVICES], session.principal, session.domain or ""
    alert_id = _alert_id(request)
    try:
        alert = (await services.alerts.get(me, slug, alert_id)).model_dump()
    except ApiError as exc:
        return render(request, "error.html", status=exc.status, message=exc.message)
    person, attachments = None, []
    if alert["person_id"] is not None:
        try:
            person = (await services.persons.get(me, slug, alert["person_id"])).model_dump()
            attachments = await services.attachments.list(me, slug, alert["person_id"])
        except ApiError:
            person = None  # deleted meanwhile: the alert keeps the name, CPF and phone it was sent with
    config = await services.alerts.get_config(me, slug)
    _ = translator(request.get(LANG) or "pt_BR")
    return render(request, "alert_detail.html", status=status, alert=alert, person=person, attachments=attachments,
                  notes=await services.alert_notes.list(me, slug, alert_id), error=error,
                  local=functools.partial(local, zone=await domain_zone(request)),
                  deadline=config.ack_deadlines.get(alert["level"]), labels=_labels(_))


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


async def _act(request: web.Request, what: str) -> web.StreamResponse:
    session: Session = request[SESSION]
    services, me, slug = request.app[SERVICES], session.principal, session.domain or ""
    alert_id = _alert_id(request)
    form = await request.post()
    try:
        if what == "ack":
            result: Any = await services.alerts.ack(me, slug, alert_id)
        elif what == "close":
            outcome = str(form.get("outcome", "")).strip()
            if not outcome or len(outcome) > 2000:
                raise _Invalid("outcome")
            result = await services.alerts.close(me, slug, alert_id, outcome)
        else:
            text = str(form.get("text", "")).strip()
            if not text or len(text) > 2000:
                raise _Invalid("text")
            result = await services.alert_notes.add(me, slug, alert_id, text)
    except ApiError as exc:
        if _wants_json(request):
            return web.json_response(exc.to_json(), status=exc.status)
        return await _detail(request, error=exc, status=exc.status)
    if _wants_json(request):
        return web.json_response(result.model_dump())
    raise web.HTTPSeeOther(f"/alerts/{alert_id}")


class _Invalid(ValidationFailed):
    def __init__(self, field: str) -> None:
        super().__init__(f"{field}: write between 1 and 2000 characters", field=field)


@page(TEAM)
async def ack(request: web.Request) -> web.StreamResponse:
    return await _act(request, "ack")


@page(TEAM)
async def close(request: web.Request) -> web.StreamResponse:
    return await _act(request, "close")


@page(TEAM)
async def note(request: web.Request) -> web.StreamResponse:
    return await _act(request, "note")


@page(TEAM)
async def attachment(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    ids = (request.match_info["pid"], request.match_info["aid"])
    if not all(x.isdigit() and len(x) <= 12 for x in ids):
        raise web.HTTPNotFound()
    try:
        row, path = await request.app[SERVICES].attachments.open(session.principal, session.domain or "",
                                                                 int(ids[0]), int(ids[1]))
    except ApiError as exc:
        return render(request, "error.html", status=exc.status, message=exc.message)
    safe = "".join(c for c in row.filename if c.isprintable() and c not in '"\\') or "anexo"
    return web.FileResponse(path, headers={"Content-Type": row.content_type,
                                           "Content-Disposition": f'attachment; filename="{safe}"'})


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/alerts", board)
    r.add_get("/alerts/open.json", open_json)
    r.add_get("/alerts/tables", tables)
    app[TABLES] = {}
    r.add_get("/alerts/export", export)
    r.add_get("/alerts/{id}", detail)
    r.add_post("/alerts/{id}/ack", ack)
    r.add_post("/alerts/{id}/close", close)
    r.add_post("/alerts/{id}/notes", note)
    r.add_get("/alerts/persons/{pid}/attachments/{aid}", attachment)
