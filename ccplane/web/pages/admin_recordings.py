"""/admin/recordings: the recordings list (filters: period, agent, queue, protocol,
call) with a player and a download. The audio goes through the page session
(``/admin/recordings/{id}/audio``, one HTTP byte range per request so the player
seeks); the service applies the monitoring groups' rule: a supervisor hears only
the queues its groups cover (anything else is 404, as in the API)."""
from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from ...errors import ApiError, RangeNotSatisfiable
from ...features.recordings.schemas import RecordingQuery
from ..keys import SERVICES
from ..ranges import send_range
from . import SESSION, Session, render
from . import page as session_page
from .admin import MANAGERS, page
from .alerts import domain_zone

PAGE = 50
KINDS = {"attendance": "Atendimento", "consultation": "Consulta (transferência)", "internal": "Interna",
         "outbound": "Saída"}
STATUS = {"recording": "Gravando", "ready": "Pronta", "missing": "Arquivo ausente"}


def _local(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S") if at else "—"


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@page(MANAGERS)
async def recordings(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    q = request.query
    f = {k: str(q.get(k, "")).strip()[:64] for k in ("from", "to", "agent", "queue", "protocol", "call")}
    errors: dict[str, str] = {}
    zone = await domain_zone(request)  # the days of the filter and the times shown: the domain's zone
    query: dict[str, Any] = {k: f[k] for k in ("agent", "queue", "protocol", "call") if f[k]}
    for key, target, shift in (("from", "from", 0), ("to", "to", 1)):
        if f[key]:
            day = _day(f[key])
            if day is None:
                errors[key] = "Informe uma data (AAAA-MM-DD)."
            else:
                query[target] = datetime.combine(day + timedelta(days=shift), time(), zone).isoformat()
    offset = int(q["offset"]) if str(q.get("offset", "")).isdigit() and len(str(q["offset"])) < 9 else 0
    items: list[Any] = []
    total = 0
    if not errors:
        items, total = await request.app[SERVICES].recordings.list(
            session.principal, session.domain or "", RecordingQuery.model_validate({**query, "limit": PAGE,
                                                                                   "offset": offset}))
    queues, _t = await request.app[SERVICES].queues.list(session.principal, session.domain or "", 500, 0)
    agents, _a = await request.app[SERVICES].agents.list(session.principal, session.domain or "", 500, 0)
    keep = urlencode({k: v for k, v in f.items() if v})
    return render(request, "admin_recordings.html", items=items, total=total, filters=f, errors=errors,
                  queues=[x.name for x in queues], agents=agents, kinds=KINDS, statuses=STATUS,
                  local=functools.partial(_local, zone=zone),
                  offset=offset, page_size=PAGE, keep=keep, zone=zone.key)


@session_page(MANAGERS)
async def audio(request: web.Request) -> web.StreamResponse:
    """The WAV through the page session, with one byte range (206) for seeking."""
    session: Session = request[SESSION]
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        return web.Response(status=404, text="recording not found")
    disposition = "attachment" if request.query.get("download") else "inline"
    try:
        path = await request.app[SERVICES].recordings.audio(session.principal, session.domain or "", int(raw))
        return await send_range(request, path, "audio/wav", disposition=disposition,
                                headers={"Cache-Control": "private, no-store"})
    except RangeNotSatisfiable as exc:
        return web.Response(status=416, text=exc.message, headers={"Content-Range": f"bytes */{exc.size}"})
    except ApiError as exc:
        return web.Response(status=exc.status, text=exc.message)


def register(app: web.Application) -> None:
    app.router.add_get("/admin/recordings", recordings)
    app.router.add_get("/admin/recordings/{id}/audio", audio)
