"""/admin/callbacks: scheduled callbacks and the callbacks callers asked for in a
queue (features/callbacks) — filters (status, period, queue, agent, kind), cancel,
reschedule and create. Times are shown and typed in the domain's zone (its
``timezone``, PATCH /domains/{d}) and sent to the service with their offset."""
from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import ValidationError

from ...errors import ApiError
from ...features.callbacks.schemas import CallbackCreate, CallbackReschedule
from ..keys import SERVICES
from . import SESSION, Session, render
from .admin import MANAGERS, page
from .alerts import domain_zone
from .field_errors import api_errors, localize, pydantic_errors

STATUSES = (("scheduled", "Agendado"), ("calling_agent", "Chamando o agente"),
            ("calling_customer", "Chamando o cliente"), ("completed", "Concluído"), ("failed", "Falhou"),
            ("cancelled", "Cancelado"))
KINDS = (("scheduled", "Agendamento"), ("in_queue", "Pedido na fila"))
OPEN = ("scheduled",)
PAGE = 50


def local(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%d/%m/%Y %H:%M") if at is not None else "—"


def _picker(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _moment(raw: str, zone: ZoneInfo) -> str | None:
    """A ``datetime-local`` value (the domain's wall clock) as ISO-8601 with its offset."""
    try:
        naive = datetime.strptime(raw.strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return naive.replace(tzinfo=zone).isoformat()


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _filters(request: web.Request) -> tuple[dict[str, str], dict[str, str]]:
    q = request.query
    f = {k: str(q.get(k, "")).strip() for k in ("status", "kind", "queue", "agent", "from", "to")}
    errors: dict[str, str] = {}
    if f["status"] and f["status"] not in dict(STATUSES):
        errors["status"] = "Estado desconhecido."
    if f["kind"] and f["kind"] not in dict(KINDS):
        errors["kind"] = "Tipo desconhecido."
    for key in ("from", "to"):
        if f[key] and _day(f[key]) is None:
            errors[key] = "Informe uma data (AAAA-MM-DD)."
    return f, errors


def _period(f: dict[str, str], zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The filter's days (the domain's wall clock) as moments: from the first day's 00:00 to the
    day after the last."""
    start, end = _day(f["from"]), _day(f["to"])
    return (datetime.combine(start, time(), zone) if start else None,
            datetime.combine(end + timedelta(days=1), time(), zone) if end else None)


async def _page(request: web.Request, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                status: int = 200, row_error: tuple[int, str] | None = None) -> web.Response:
    session: Session = request[SESSION]
    services, slug, me = request.app[SERVICES], session.domain or "", session.principal
    f, filter_errors = _filters(request)
    zone = await domain_zone(request)
    offset = int(request.query["offset"]) if str(request.query.get("offset", "")).isdigit() \
        and len(str(request.query["offset"])) < 9 else 0
    items: list[Any] = []
    total = 0
    if not filter_errors:
        start, end = _period(f, zone)
        items, total = await services.callbacks.list(me, slug, PAGE, offset, f["status"] or None,
                                                     kind=f["kind"] or None, queue=f["queue"] or None,
                                                     agent=f["agent"] or None, start=start, end=end)
    queues, _q = await services.queues.list(me, slug, 500, 0)
    agents, _a = await services.agents.list(me, slug, 500, 0)
    default_at = (datetime.now(zone) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    keep = urlencode({k: v for k, v in f.items() if v})
    return render(request, "admin_callbacks.html", status=status, items=items, total=total, offset=offset,
                  page_size=PAGE, keep=keep,
                  filters=f, filter_errors=filter_errors, statuses=STATUSES, kinds=KINDS,
                  queues=[q.name for q in queues], agents=agents, errors=errors or {},
                  values=values or {"at": _picker(default_at, zone), "offline_to_queue": True},
                  local=functools.partial(local, zone=zone), picker=functools.partial(_picker, zone=zone), open_statuses=OPEN, row_error=row_error,
                  saved=request.query.get("saved"), zone=zone.key)


@page(MANAGERS)
async def callbacks(request: web.Request) -> web.StreamResponse:
    return await _page(request)


@page(MANAGERS)
async def callback_new(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    form = await request.post()
    values: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in ("number", "at", "queue", "agent", "note")}
    values["offline_to_queue"] = form.get("offline_to_queue") == "on"
    at = _moment(values["at"], await domain_zone(request))
    if at is None:
        return await _page(request, {"at": "Informe a data e a hora."}, values, 400)
    body = {"number": values["number"], "at": at, "queue": values["queue"] or None, "agent": values["agent"] or None,
            "note": values["note"], "offline_to_queue": values["offline_to_queue"]}
    try:
        cb = await request.app[SERVICES].callbacks.create(session.principal, session.domain or "",
                                                          CallbackCreate.model_validate(body))
    except ValidationError as exc:
        return await _page(request, pydantic_errors(exc, request), values, 400)
    except ApiError as exc:
        return await _page(request, api_errors(exc, request), values, exc.status)
    raise web.HTTPSeeOther(f"/admin/callbacks?saved={cb.id}")


def _cbid(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    return int(raw)


@page(MANAGERS)
async def callback_cancel(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    cid = _cbid(request)
    try:
        await request.app[SERVICES].callbacks.cancel(session.principal, session.domain or "", cid)
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await _page(request, status=exc.status, row_error=(cid, localize(exc, request)))
    raise web.HTTPSeeOther(f"/admin/callbacks?saved={cid}")


@page(MANAGERS)
async def callback_reschedule(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    cid = _cbid(request)
    form = await request.post()
    at = _moment(str(form.get("at", "")), await domain_zone(request))
    if at is None:
        return await _page(request, status=400, row_error=(cid, "Informe a data e a hora."))
    try:
        await request.app[SERVICES].callbacks.reschedule(session.principal, session.domain or "", cid,
                                                         CallbackReschedule.model_validate({"at": at}))
    except ValidationError as exc:
        return await _page(request, status=400, row_error=(cid, next(iter(pydantic_errors(exc, request).values()))))
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await _page(request, status=exc.status, row_error=(cid, localize(exc, request)))
    raise web.HTTPSeeOther(f"/admin/callbacks?saved={cid}")


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/admin/callbacks", callbacks)
    r.add_post("/admin/callbacks/new", callback_new)
    r.add_post("/admin/callbacks/{id}/cancel", callback_cancel)
    r.add_post("/admin/callbacks/{id}/reschedule", callback_reschedule)
