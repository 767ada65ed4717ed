"""/supervisor: the live panel (agents, queues, calls) over the domain's live feed,
with pause/unpause and hang up through the same services the API uses."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ...errors import ApiError
from ...features.supervision.window import SERVICE_LEVEL_SECONDS
from ..keys import SERVICES
from ..live import log as live_log
from . import LANG, SESSION, Session, page, render
from .field_errors import localize
from .i18n import translator

SUPERVISORS = frozenset({"root", "superuser", "admin", "supervisor"})


FIGURES = ("waiting", "longest_wait", "service_level")


def _labels(lang: str) -> dict[str, str]:
    _ = translator(lang)
    return {"available": _("Disponível"), "ringing": _("Tocando"), "in_call": _("Em chamada"), "wrapup": _("Pós-atendimento"),
            "paused": _("Em pausa"), "inactive": _("Inativo"), "offline": _("Desconectado"), "pause": _("Pausar"),
            "unpause": _("Retomar"), "hangup": _("Desligar"), "reason": _("Motivo da pausa"), "none": _("Nenhum agente conectado"),
            "logout": _("Deslogar"), "confirm_logout": _("Tirar {u} das filas?"), "no_calls": _("Nenhuma chamada ativa"),
            "no_queue": _("Nenhuma fila com chamadas"), "direct": _("Ligação direta"),
            "listen": _("Ouvir"), "whisper": _("Sussurrar"), "barge": _("Conferência"),
            "spy_no_extension": _("Informe o seu ramal para ouvir a chamada."),
            "spy_ringing": _("Atenda o ramal {e}: {m} na chamada de {a}."),
            "quality": _("MOS {mos} · perda {loss}% · jitter {jitter} ms"),
            "quality_title": _("Qualidade da chamada (telefone WebRTC do agente)"),
            "level_yellow": _("atenção"), "level_red": _("crítico"),
            "sound_on": _("Som ligado"), "sound_off": _("Som desligado"),
            "fig_waiting": _("Aguardando"), "fig_longest_wait": _("Maior espera"),
            "fig_service_level": _("Nível de serviço")}


async def _groups(request: web.Request, session: Session) -> list[dict[str, Any]]:
    """The monitoring groups the panel may filter by: a supervisor's own, every group for the others."""
    services = request.app[SERVICES]
    try:
        groups, _total = await services.monitoring_groups.list(session.principal, session.domain or "", 500, 0)
    except ApiError:
        return []
    if session.role == "supervisor":
        groups = [g for g in groups if session.username in g.members]
    return [{"name": g.name, "queues": list(g.queues)} for g in groups]


async def _agent_queues(request: web.Request, session: Session) -> dict[str, list[str]]:
    """Which queues each logged-in agent is in (the feed's agent states do not say; the
    group filter needs it). The page asks the API again only when an agent it does not
    know logs in."""
    try:
        items, _total = await request.app[SERVICES].agents.list(session.principal, session.domain or "", 500, 0)
    except ApiError:
        return {}
    return {a.username: list(a.queues) for a in items if a.queues}


async def _thresholds(request: web.Request, session: Session) -> list[dict[str, Any]]:
    try:
        items = await request.app[SERVICES].thresholds.list(session.principal, session.domain or "")
    except ApiError:
        return []
    return [i.model_dump() for i in items]


async def _queue_names(request: web.Request, session: Session) -> list[str]:
    try:
        items, _total = await request.app[SERVICES].queues.list(session.principal, session.domain or "", 500, 0)
    except ApiError:
        return []
    return [q.name for q in items]


async def _form_queues(request: web.Request, session: Session) -> list[str]:
    """The rows of the thresholds form: "" (every queue) and each queue for administrators; a
    supervisor sets only their monitoring groups' queues (the API refuses any other row)."""
    if session.role == "supervisor":
        mine = {q for g in await _groups(request, session) for q in g["queues"]}
        return [q for q in await _queue_names(request, session) if q in mine]
    return [""] + await _queue_names(request, session)


async def _panel(request: web.Request, status: int = 200, error: dict[str, str] | None = None,
                 typed: list[dict[str, Any]] | None = None) -> web.Response:
    session: Session = request[SESSION]
    lang = request.get(LANG) or "pt_BR"
    domain_name = dict(session.domains).get(session.domain or "", session.domain or "")
    groups = await _groups(request, session)
    chosen = request.query.get("group", "")
    if chosen not in {g["name"] for g in groups}:
        chosen = ""
    kiosk = request.query.get("kiosk") == "1"
    thresholds = await _thresholds(request, session)
    ctx = dict(domain=session.domain, domain_name=domain_name, labels=_labels(lang),
               figures=await _service_level(request, session, groups), sl_seconds=SERVICE_LEVEL_SECONDS, groups=groups,
               group=chosen, thresholds=thresholds, kiosk=kiosk,
               agent_queues=await _agent_queues(request, session) if groups else {},
               recent_agents=_recent_agents(request, session, groups))
    if kiosk:
        return render(request, "supervisor_kiosk.html", status=status, **ctx)
    queues = await _form_queues(request, session)
    form = {(t["queue"], t["figure"]): t for t in (typed if typed is not None else thresholds)}
    return render(request, "supervisor.html", status=status, queue_names=queues, threshold_form=form,
                  figure_names=FIGURES, error=error, saved=request.query.get("saved") == "thresholds", **ctx)


@page(SUPERVISORS)
async def panel(request: web.Request) -> web.StreamResponse:
    return await _panel(request)


@page(SUPERVISORS)
async def thresholds(request: web.Request) -> web.StreamResponse:
    """The panel's threshold form: one row per queue ("" = every queue), yellow and red per
    figure; a row left blank has no threshold. Everything is checked before anything is kept."""
    from ...features.supervision.schemas import ThresholdIn
    session: Session = request[SESSION]
    form = await request.post()
    typed: list[dict[str, Any]] = []
    items: list[ThresholdIn] = []
    for queue in await _form_queues(request, session):
        for figure in FIGURES:
            yellow = str(form.get(f"t-{queue}-{figure}-yellow", "")).strip().replace(",", ".")
            red = str(form.get(f"t-{queue}-{figure}-red", "")).strip().replace(",", ".")
            if not yellow and not red:
                continue
            typed.append({"queue": queue, "figure": figure, "yellow": yellow, "red": red})
            field = f"t-{queue}-{figure}-{'yellow' if not _number(yellow) else 'red'}"
            if not _number(yellow) or not _number(red):
                return await _panel(request, 422, {"field": field, "message": "number"}, typed)
            try:
                items.append(ThresholdIn.model_validate({"queue": queue, "figure": figure, "yellow": float(yellow),
                                                         "red": float(red)}))
            except ValueError:
                return await _panel(request, 422, {"field": f"t-{queue}-{figure}-yellow", "message": "range"}, typed)
    try:
        await request.app[SERVICES].thresholds.replace(session.principal, session.domain or "", items)
    except ApiError as exc:
        if exc.status == 403:  # a queue outside the supervisor's groups (the groups changed meanwhile)
            return await _panel(request, 403, {"field": "thresholds", "message": "forbidden",
                                               "text": localize(exc, request)}, typed)
        index = exc.field.split("]")[0].split("[")[-1] if exc.field and "[" in exc.field else ""
        part = "red" if exc.field and exc.field.endswith(".red") else "yellow"
        bad = items[int(index)] if index.isdigit() and int(index) < len(items) else None
        field = f"t-{bad.queue}-{bad.figure}-{part}" if bad else ""
        return await _panel(request, exc.status, {"field": field, "message": "order" if part == "red" else "range"},
                            typed)
    raise web.HTTPSeeOther("/supervisor?saved=thresholds#thresholds")


def _number(text: str) -> bool:
    try:
        return float(text) >= 0
    except ValueError:
        return False


async def _service_level(request: web.Request, session: Session,
                         groups: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per queue over the sliding window (24 h): calls answered within the target, and the
    calls that count (answered, or abandoned after the target). One figure per domain,
    computed on the server and shared by every panel (features/supervision/window.py);
    the feed's ``queue.service_level`` events keep it current. A supervisor gets only
    their monitoring groups' queues."""
    if session.domain is None or session.role not in SUPERVISORS:
        return {}
    figures = await request.app[SERVICES].service_levels.current(session.domain)
    if session.role == "supervisor":
        mine = {q for g in groups for q in g["queues"]}
        figures = {q: f for q, f in figures.items() if q in mine}
    return dict(figures)


def _recent_agents(request: web.Request, session: Session, groups: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Agents who took calls of the panel's queues in the window: those not logged in are
    shown as *Desconectado* (a supervisor: of their monitoring groups' queues only)."""
    if session.domain is None:
        return {}
    agents = request.app[SERVICES].service_levels.agents(session.domain)
    if session.role != "supervisor":
        return dict(agents)
    mine = {q for g in groups for q in g["queues"]}
    out = {a: [q for q in queues if q in mine] for a, queues in agents.items()}
    return {a: queues for a, queues in out.items() if queues}


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
        elif what == "spy":
            from ...features.supervision.schemas import SpyIn
            try:
                body = SpyIn.model_validate({"mode": str(form.get("mode", "")), "extension": str(form.get("extension", ""))})
            except ValueError as exc:
                field = "extension" if "extension" in str(exc) else "mode"
                return web.json_response({"error": {"code": "invalid", "message": str(exc).splitlines()[0],
                                                    "field": field}}, status=422)
            out = await services.spy.spy(me, slug, str(form.get("call", "")), body)
            return web.json_response(out.model_dump())
        else:
            raise web.HTTPNotFound()
    except ApiError as exc:
        return web.json_response(exc.to_json(), status=exc.status)
    return web.json_response({"ok": True})


async def live(request: web.Request) -> web.StreamResponse:
    """The live feed for a page: the session cookie instead of a bearer token."""
    from ..live import check_origin
    from . import load_session
    check_origin(request)  # the cookie authenticates: only the site's own pages may open it
    session = await load_session(request)
    if session is None or session.domain is None:
        raise web.HTTPForbidden(text="no session")
    services = request.app[SERVICES]
    hub = services.live
    scope = None
    if hub.scope_of is not None:  # a supervisor's page sees their monitoring groups only, as the API's feed
        from ...features.domains.services import resolve_domain
        try:
            async with services.sessions() as s:
                domain = await resolve_domain(s, session.principal, session.domain)
            scope = await hub.scope_of(session.principal, domain.id, domain.slug)
        except ApiError as exc:
            raise web.HTTPForbidden(text=exc.message) from None
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    live_log.info("live.subscribed", extra={"domain": session.domain, "user": session.username})
    await hub.serve(session.domain, ws, scope)
    return ws


def register(app: web.Application) -> None:
    app.router.add_get("/supervisor", panel)
    app.router.add_post("/supervisor/thresholds", thresholds)
    app.router.add_post("/supervisor/{what}", action)
    app.router.add_get("/live", live)
