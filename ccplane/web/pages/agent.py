"""/agent: the agent screen. Choose queues, then an extension from the offered
ones, log in/out, pause/unpause (plain forms: they work without JavaScript);
the current call, the wrap-up countdown and the connection banner come from the
domain's live feed (static/agent.js)."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from ...errors import ApiError, Conflict
from ...features.agents.schemas import LoginRequest, PauseRequest
from ..keys import SERVICES
from . import LANG, SESSION, Session, page, render
from .alerts import domain_zone
from .field_errors import localize, pydantic_errors
from .i18n import translator
from .phone import no_store, phone_context  # issue 15: the agent screen is the phone

PAUSE_REASONS = ("Almoço", "Banheiro", "Treinamento", "Reunião", "Feedback")


def _labels(lang: str) -> dict[str, str]:
    _ = translator(lang)
    return {"available": _("Disponível"), "ringing": _("Tocando"), "in_call": _("Em chamada"),
            "wrapup": _("Pós-atendimento"), "paused": _("Em pausa"), "inactive": _("Inativo"),
            "offline": _("Desconectado"), "no_call": _("Nenhuma chamada no momento."),
            "wrapup_left": _("Pós-atendimento: {s} s restantes"), "waiting": _("Aguardando na fila"),
            "direct": _("Ligação direta"), "ivr_none": _("Sem passagem pela URA"),
            "choose": _("Escolha…"), "saved": _("Salvo."),
            "callback_saved": _("Retorno agendado para {at}."), "callback_past": _("Escolha um horário no futuro."),
            "transfer_blind": _("Transferência enviada."),
            "transfer_consulting": _("Falando com o destino: conclua ou cancele a transferência."),
            "transfer_complete": _("Transferência concluída."),
            "transfer_cancel": _("Transferência cancelada: o cliente voltou para você.")}


async def _queues(request: web.Request, session: Session) -> list[str]:
    services = request.app[SERVICES]
    items, _total = await services.queues.list(session.principal, session.domain or "", 500, 0)
    return [q.name for q in items]


async def _screen(request: web.Request, status: int = 200, error: str | None = None,
                  detail: str | None = None, chosen: list[str] | None = None) -> web.Response:
    session: Session = request[SESSION]
    services = request.app[SERVICES]
    lang = request.get(LANG) or "pt_BR"
    if session.domain is None:
        return render(request, "agent.html", status=status, me=None, queues=[], chosen=[], offered=None,
                      error=error, detail=detail, reasons=PAUSE_REASONS, labels=_labels(lang))
    try:
        me = await services.agents.get(session.principal, session.domain, session.username)
    except ApiError:  # e.g. root, who belongs to no domain: no agent session of its own here
        return render(request, "agent.html", status=status, me=None, queues=[], chosen=[], offered=None,
                      error=error or "not_agent", detail=detail, reasons=PAUSE_REASONS, labels=_labels(lang))
    queues: list[str] = []
    offered: list[Any] | None = None
    if me.extension is None:
        queues = await _queues(request, session)
        chosen = [q for q in (chosen if chosen is not None else request.query.getall("queues", [])) if q in queues]
        if chosen:
            offered = await services.agents.available_extensions(session.principal, session.domain,
                                                                 session.username, chosen)
    phone = await phone_context(request, session, lang)  # issue 15
    return no_store(render(request, "agent.html", status=status, me=me, queues=queues, chosen=chosen or [],
                           offered=offered, error=error, detail=detail, reasons=PAUSE_REASONS,
                           zone=(await domain_zone(request)).key,
                           labels=_labels(lang), dispositions=await _dispositions(request, session, me), **phone),
                    phone)


async def _dispositions(request: web.Request, session: Session, me: Any) -> dict[str, list[str]]:
    """The qualification lists of the queues the agent is logged in to (the form offers them)."""
    if me is None or not me.queues:
        return {}
    services = request.app[SERVICES]
    items, _total = await services.queues.list(session.principal, session.domain or "", 500, 0)
    return {q.name: list(q.dispositions) for q in items if q.name in me.queues}


@page()
async def screen(request: web.Request) -> web.StreamResponse:
    return await _screen(request)


@page()
async def act(request: web.Request) -> web.StreamResponse:
    """The screen's forms: session (log in), logout, pause, unpause."""
    session: Session = request[SESSION]
    services = request.app[SERVICES]
    form = await request.post()
    what, me, slug, username = request.match_info["what"], session.principal, session.domain or "", session.username
    chosen = [str(q) for q in form.getall("queues", [])]
    try:
        if what == "session":
            body = LoginRequest.model_validate({"queues": chosen, "extension": str(form.get("extension", ""))})
            await services.agents.login(me, slug, username, body)
        elif what == "logout":
            await services.agents.logout(me, slug, username)
        elif what == "pause":
            reason = str(form.get("reason", "")).strip()
            await services.agents.pause(me, slug, username, PauseRequest.model_validate({"reason": reason}).reason)
        elif what == "unpause":
            await services.agents.unpause(me, slug, username)
        else:
            raise web.HTTPNotFound()
    except Conflict as exc:
        # the service's one logout refusal besides "not logged in" is the call in progress
        key = {"logout": "in_call" if "in progress" in exc.message else "conflict",
               "session": "extension" if exc.field == "extension" else "conflict"}.get(what, "conflict")
        return await _screen(request, status=409, error=key, detail=localize(exc, request), chosen=chosen)
    except ApiError as exc:
        return await _screen(request, status=exc.status, error="invalid", detail=localize(exc, request), chosen=chosen)
    except ValueError as exc:  # pydantic's ValidationError: the form's fields
        field = "reason" if what == "pause" else ("queues" if not chosen else "extension")
        detail = next(iter(pydantic_errors(exc, request).values())) if isinstance(exc, ValidationError) \
            else str(exc).splitlines()[0]
        return await _screen(request, status=400, error=f"field_{field}", detail=detail, chosen=chosen)
    raise web.HTTPSeeOther("/agent")


@page()
async def call_path(request: web.Request) -> web.StreamResponse:
    """The IVR path of the call the agent is handling (the card shows it)."""
    session: Session = request[SESSION]
    services = request.app[SERVICES]
    call = request.match_info["call"]
    view = services.calls.view(call)
    try:
        steps = await services.ivrs.path(session.principal, session.domain or "", call,
                                         handled_by=view.get("agent") if view else None)
    except ApiError as exc:
        return web.json_response(exc.to_json(), status=exc.status)
    return web.json_response({"items": [s.model_dump(mode="json") for s in steps]})


def register(app: web.Application) -> None:
    app.router.add_get("/agent", screen)
    app.router.add_post("/agent/{what}", act)
    app.router.add_get("/agent/calls/{call}/ivr-path", call_path)
