"""/supervisor: the live panel (agents, queues, calls) over the domain's live feed,
with pause/unpause and hang up through the same services the API uses."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from ...errors import ApiError
from ..keys import SERVICES
from ..live import log as live_log
from . import LANG, SESSION, Session, page, render
from .i18n import translator

SUPERVISORS = frozenset({"root", "superuser", "admin", "supervisor"})


@page(SUPERVISORS)
async def panel(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    _ = translator(request.get(LANG) or "pt_BR")
    labels = {"available": _("Disponível"), "ringing": _("Tocando"), "in_call": _("Em chamada"), "wrapup": _("Pós-atendimento"),
              "paused": _("Em pausa"), "inactive": _("Inativo"), "offline": _("Desconectado"), "pause": _("Pausar"),
              "unpause": _("Retomar"), "hangup": _("Desligar"), "reason": _("Motivo da pausa"), "none": _("Nenhum agente conectado"),
              "logout": _("Deslogar"), "confirm_logout": _("Tirar {u} das filas?"), "no_calls": _("Nenhuma chamada ativa"),
              "no_queue": _("Nenhuma fila com chamadas"), "direct": _("Ligação direta")}
    domain_name = dict(session.domains).get(session.domain or "", session.domain or "")
    return render(request, "supervisor.html", domain=session.domain, domain_name=domain_name, labels=labels,
                  figures=await _service_level(request, session), sl_seconds=SERVICE_LEVEL_SECONDS)


SERVICE_LEVEL_SECONDS = 20  # answered within 20 s: the usual 80/20 target of a contact center
WINDOW = timedelta(hours=24)  # a sliding window: a 24-hour centre's figures do not reset at midnight


async def _service_level(request: web.Request, session: Session) -> dict[str, dict[str, int]]:
    """Per queue over the last 24 hours: calls answered within the target, and the calls
    that count (answered, or abandoned after the target) — the reports' own definition.
    One query per page load; the page then adds the live feed's queue.caller_left."""
    from ...features.reports.schemas import ReportQuery
    if session.domain is None or session.role not in SUPERVISORS:
        return {}
    now = datetime.now(timezone.utc)
    services = request.app[SERVICES]
    query = ReportQuery.model_validate({"from": (now - WINDOW).isoformat(), "to": now.isoformat(),
                                        "group_by": "queue", "service_level": SERVICE_LEVEL_SECONDS})
    try:
        report, _slug = await services.reports.open(session.principal, session.domain, query)
        rows = await services.reports.aggregate(report, "summary")
    except ApiError:
        return {}
    return {str(r["queue"]): {"within": int(r["answered_within_sl"]),
                              "counted": int(r["answered"]) + _late(r)} for r in rows if r.get("queue")}


def _late(row: dict[str, Any]) -> int:
    """Abandoned after the target (the summary gives the rate's denominator through service_level_pct)."""
    within, pct, answered = int(row["answered_within_sl"]), row.get("service_level_pct"), int(row["answered"])
    if pct is None:
        return 0
    if not pct:  # 0 %: none within, at least one counted
        return 0 if answered else 1
    return max(0, round(within * 100 / pct) - answered)


@page(SUPERVISORS)
async def action(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    services = request.app[SERVICES]
    form = await request.post()
    what, me, slug = request.match_info["what"], session.principal, session.domain or ""
    try:
        if what == "pause":
            await services.agents.pause(me, slug, str(form.get("username", "")), str(form.get("reason", "")) or "supervisor")
        elif what == "unpause":
            await services.agents.unpause(me, slug, str(form.get("username", "")))
        elif what == "logout":
            await services.agents.logout(me, slug, str(form.get("username", "")))
        elif what == "hangup":
            await services.calls.hangup(me, slug, str(form.get("call", "")))
        else:
            raise web.HTTPNotFound()
    except ApiError as exc:
        return web.json_response(exc.to_json(), status=exc.status)
    return web.json_response({"ok": True})


async def live(request: web.Request) -> web.StreamResponse:
    """The live feed for a page: the session cookie instead of a bearer token."""
    from . import load_session
    session = await load_session(request)
    if session is None or session.domain is None:
        raise web.HTTPForbidden(text="no session")
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    live_log.info("live.subscribed", extra={"domain": session.domain, "user": session.username})
    await request.app[SERVICES].live.serve(session.domain, ws)
    return ws


def register(app: web.Application) -> None:
    app.router.add_get("/supervisor", panel)
    app.router.add_post("/supervisor/{what}", action)
    app.router.add_get("/live", live)
