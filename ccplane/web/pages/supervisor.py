"""/supervisor: the live panel (agents, queues, calls) over the domain's live feed,
with pause/unpause and hang up through the same services the API uses."""
from __future__ import annotations

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
              "unpause": _("Retomar"), "hangup": _("Desligar"), "reason": _("Motivo da pausa"), "none": _("Nenhum agente conectado")}
    return render(request, "supervisor.html", domain=session.domain, labels=labels)


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
