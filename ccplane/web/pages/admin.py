"""/admin/...: queues (every setting, with the product's own help text), the team,
extensions with their registered state, and the IVR tree editor. Pages call the
services the API uses; a refused save shows each error at its field (GOV.UK
pattern: a summary at the top linking to the fields, the error repeated there)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import ValidationError

from ...errors import ApiError
from ...features.extensions.schemas import ExtensionCreate
from ...features.queues.schemas import QueueCreate, QueueUpdate
from ...features.users.schemas import UserCreate, UserUpdate
from ..keys import SERVICES
from . import SESSION, Session, render
from .field_errors import api_errors, localize, pydantic_errors
from . import page as session_page

MANAGERS = frozenset({"root", "superuser", "admin", "supervisor"})  # queues, IVR (the product: supervisors too)
ADMINS = frozenset({"root", "superuser", "admin"})  # team, extensions
STRATEGIES = (("ringall", "Todos ao mesmo tempo"), ("linear", "Em sequência"), ("rrmemory", "Rodízio com memória"),
              ("leastrecent", "Quem atendeu há mais tempo"), ("fewestcalls", "Quem atendeu menos chamadas"),
              ("random", "Aleatório"))


def page(roles: frozenset[str], *, multipart: bool = False) -> Any:
    """A page of the administration: a session with one of ``roles``; a refusal of the
    services (no domain chosen, an object of another domain) is shown as a page."""
    def wrap(handler: Any) -> Any:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                response: web.StreamResponse = await handler(request)
            except ApiError as exc:
                return render(request, "admin_error.html", status=exc.status, status_code=exc.status,
                              message=localize(exc, request))
            return response
        return session_page(roles, multipart=multipart)(guarded)
    return wrap


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    help: str
    kind: str = "int"  # int | bool | strategy | text | list | lines | transfer_fail | group
    optional: bool = False
    # a form without the field leaves it as it is (forms saved before the field existed)
    keep_absent: bool = False


# The help texts are the product's own definitions (PRODUCT.md, the knowledge base).
QUEUE_FIELDS: tuple[Field, ...] = (
    Field("strategy", "Estratégia de distribuição",
          "Como a chamada é oferecida aos agentes: todos ao mesmo tempo (ringall); em sequência, um após o outro "
          "(linear); rodízio com memória (rrmemory); o que atendeu há mais tempo (leastrecent); o que atendeu "
          "menos chamadas (fewestcalls); aleatório (random). Com um só agente que não atende, a chamada volta a "
          "ser oferecida a ele até ser atendida ou perdida.", "strategy"),
    Field("wrapup_time", "Tempo de pós-atendimento (s)",
          "Segundos entre o fim de uma chamada e a próxima oferta ao mesmo agente, para anotações e formulários. "
          "Vale para a fila; pode ser alterado por agente."),
    Field("max_no_answer", "Máximo de não atendimentos",
          "Depois de N ofertas seguidas não atendidas, o agente entra em pausa automática (o motivo aparece "
          "para os supervisores). 0 desativa."),
    Field("call_timeout", "Tempo máximo da chamada (s)",
          "Duração máxima de uma chamada; ao ser atingida, a chamada é desconectada automaticamente. 0 desativa."),
    Field("reject_delay", "Atraso de rejeição (s)",
          "Tempo que o sistema espera antes de rejeitar uma chamada que não pode ser atendida, para que o "
          "roteamento ainda a envie a outro destino; também o tempo até oferecer de novo a um agente que "
          "rejeitou ou estava ocupado."),
    Field("ring_timeout", "Tempo de toque (s)", "Quanto tempo cada oferta toca no ramal do agente."),
    Field("retry", "Intervalo entre tentativas (s)", "Espera entre uma rodada de ofertas e a seguinte (mínimo 1)."),
    Field("noanswer_delay", "Espera após não atendimento (s)",
          "Tempo até oferecer de novo a um agente que deixou a chamada tocar sem atender."),
    Field("busy_delay", "Espera após ocupado (s)",
          "Tempo até oferecer de novo a um agente ocupado ou que rejeitou; vazio: o atraso de rejeição.", optional=True),
    Field("max_wait", "Espera máxima na fila (s)", "Tempo máximo de um chamador na fila antes do transbordo. 0: sem limite."),
    Field("max_len", "Tamanho máximo da fila", "Quantos chamadores podem aguardar ao mesmo tempo. 0: sem limite."),
    Field("join_empty", "Aceitar chamadas sem agentes", "Chamadas entram na fila mesmo sem agentes conectados.", "bool"),
    Field("leave_empty", "Retirar chamadas quando não houver agentes",
          "Chamadores saem da fila (para o transbordo) quando o último agente sai.", "bool"),
    Field("record", "Gravar as chamadas", "As chamadas atendidas pela fila são gravadas.", "bool"),
    Field("monitoring_group", "Grupo de monitoramento",
          "Supervisores deste grupo ouvem as gravações da fila.", "group", optional=True),
    Field("overflow", "Transbordo",
          "Para onde vai o chamador quando a espera máxima acaba, a fila está cheia ou não há agentes: "
          "desligar, outra fila ou um ramal.", "overflow"),
    Field("extensions", "Ramais vinculados",
          "Ramais em que os agentes podem entrar nesta fila, separados por vírgula (ex.: 7401, 7402).", "list"),
    Field("dispositions", "Qualificações",
          "As qualificações com que cada agente qualifica o protocolo que atendeu nesta fila (qualificação + "
          "descrição livre), uma por linha. Sem nenhuma, os atendimentos desta fila não podem ser qualificados.", "lines", keep_absent=True),
    Field("transfer_fail", "Transferência sem sucesso",
          "Quando uma transferência direta não é atendida (sem resposta, ocupado, indisponível), o chamador volta "
          "para esta fila ou para o agente que transferiu.", "transfer_fail", keep_absent=True),
    Field("callback_key", "Tecla de retorno",
          "Tecla (0–9, * ou #) que o chamador em espera pressiona para pedir que a central ligue de volta quando "
          "chegar a sua vez, em vez de aguardar na linha. Vazio: a fila não oferece retorno.", "text", optional=True,
          keep_absent=True),
    Field("callback_retries", "Novas tentativas do retorno",
          "Quantas vezes um retorno pedido na fila é tentado de novo quando o cliente não atende ou está ocupado (0 a 10).", keep_absent=True),
    Field("callback_retry_delay", "Intervalo entre tentativas do retorno (s)",
          "Segundos entre uma tentativa de retorno não atendida e a seguinte (mínimo 5).",
          keep_absent=True),
    Field("callback_expiry", "Validade do pedido de retorno (s)",
          "Um pedido de retorno ainda não atendido depois deste tempo é abandonado (mínimo 60).",
          keep_absent=True),
)
TRANSFER_FAIL = (("queue", "Volta para a fila"), ("agent", "Volta para o agente que transferiu"))


def _queue_body(form: Any, creating: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as the API's JSON body, and the fields that are not even of the right kind."""
    body: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if creating:
        body["name"] = str(form.get("name", "")).strip()
    for f in QUEUE_FIELDS:
        if f.keep_absent and f.name not in form:
            continue
        raw = str(form.get(f.name, "")).strip()
        if f.kind == "bool":
            body[f.name] = form.get(f.name) == "on"
        elif f.kind == "list":
            body[f.name] = [x.strip() for x in raw.replace(";", ",").split(",") if x.strip()]
        elif f.kind == "lines":
            body[f.name] = list(dict.fromkeys(x.strip() for x in raw.splitlines() if x.strip()))
        elif f.kind == "overflow":
            kind = str(form.get("overflow_type", "hangup")) or "hangup"
            target = str(form.get("overflow_target", "")).strip()
            body[f.name] = {"type": kind} if kind == "hangup" else {"type": kind, "target": target}
        elif f.kind in ("text", "strategy", "transfer_fail", "group"):
            if raw or not f.optional:
                body[f.name] = raw
            elif not creating:
                body[f.name] = None
        elif raw == "" and f.optional:
            if not creating:
                body[f.name] = None
        else:
            try:
                body[f.name] = int(raw)
            except ValueError:
                errors[f.name] = "Informe um número inteiro de segundos." if "(s)" in f.label else "Informe um número inteiro."
    return body, errors


def _queue_values(q: Any) -> dict[str, Any]:
    values = q.model_dump() if hasattr(q, "model_dump") else dict(q)
    values["extensions"] = ", ".join(values.get("extensions") or [])
    values["dispositions"] = "\n".join(values.get("dispositions") or [])
    overflow = values.get("overflow") or {}
    values["overflow_type"], values["overflow_target"] = overflow.get("type", "hangup"), overflow.get("target") or ""
    return values


def _defaults() -> dict[str, Any]:
    values = QueueCreate.model_validate({"name": "x"}).model_dump()
    values["name"] = ""
    values["extensions"] = ""
    values["dispositions"] = ""
    values["overflow_type"], values["overflow_target"] = "hangup", ""
    return values


# -- queues ------------------------------------------------------------------

@page(MANAGERS)
async def queues(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    items, total = await request.app[SERVICES].queues.list(session.principal, session.domain or "", 500, 0)
    return render(request, "admin_queues.html", items=items, total=total, saved=request.query.get("saved"))


async def _queue_form(request: web.Request, name: str | None, values: dict[str, Any], errors: dict[str, str],
                      status: int = 200) -> web.Response:
    session: Session = request[SESSION]
    groups, _total = await request.app[SERVICES].monitoring_groups.list(session.principal, session.domain or "",
                                                                        500, 0)
    return render(request, "admin_queue_form.html", status=status, name=name, values=values, errors=errors,
                  fields=QUEUE_FIELDS, strategies=STRATEGIES, transfer_fail=TRANSFER_FAIL,
                  groups=[g.name for g in groups])


@page(MANAGERS)
async def queue_new(request: web.Request) -> web.StreamResponse:
    return await _queue_form(request, None, _defaults(), {})


@page(MANAGERS)
async def queue_edit(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    try:
        q = await request.app[SERVICES].queues.get(session.principal, session.domain or "", request.match_info["name"])
    except ApiError as exc:
        return render(request, "admin_error.html", status=exc.status, status_code=exc.status, message=localize(exc, request))
    return await _queue_form(request, q.name, _queue_values(q), {})


@page(MANAGERS)
async def queue_save(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    services = request.app[SERVICES]
    name = request.match_info.get("name")
    form = await request.post()
    body, errors = _queue_body(form, creating=name is None)
    shown = {**(_defaults() if name is None else {}), **{k: str(form.get(k, "")) for k in form}}
    for f in QUEUE_FIELDS:
        if f.kind == "bool":
            shown[f.name] = form.get(f.name) == "on"
    if errors:
        return await _queue_form(request, name, shown, errors, 400)
    try:
        if name is None:
            created = await services.queues.create(session.principal, session.domain or "",
                                                   QueueCreate.model_validate(body))
            name = created.name
        else:
            await services.queues.update(session.principal, session.domain or "", name,
                                         QueueUpdate.model_validate(body))
    except ValidationError as exc:
        return await _queue_form(request, name if "name" not in body else None, shown, pydantic_errors(exc, request), 400)
    except ApiError as exc:
        return await _queue_form(request, name if "name" not in body else None, shown,
                                 api_errors(exc, request), exc.status)
    raise web.HTTPSeeOther("/admin/queues?saved=" + quote(name, safe=""))


# -- team --------------------------------------------------------------------

@page(ADMINS)
async def users(request: web.Request, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                status: int = 200) -> web.StreamResponse:
    session: Session = request[SESSION]
    items, total = await request.app[SERVICES].users.list(session.principal, session.domain or "", 500, 0)
    return render(request, "admin_users.html", status=status, items=items, total=total, errors=errors or {},
                  values=values or {"role": "agent"}, saved=request.query.get("saved"))


@page(ADMINS)
async def user_save(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    services = request.app[SERVICES]
    form = await request.post()
    username = request.match_info.get("username")
    try:
        if username is None:
            body = {"username": str(form.get("username", "")).strip(), "name": str(form.get("name", "")).strip(),
                    "role": str(form.get("role", "")), "password": str(form.get("password", "")),
                    "active": True}
            created = await services.users.create(session.principal, session.domain or "", UserCreate.model_validate(body))
            username = created.username
        else:
            change: dict[str, Any] = {}
            if str(form.get("role", "")):
                change["role"] = str(form["role"])
            if "active" in form:
                change["active"] = str(form["active"]) == "1"
            await services.users.update(session.principal, session.domain or "", username,
                                        UserUpdate.model_validate(change))
    except ValidationError as exc:
        return await _users_again(request, pydantic_errors(exc, request), form)
    except ApiError as exc:
        return await _users_again(request, api_errors(exc, request), form, exc.status)
    raise web.HTTPSeeOther("/admin/users?saved=" + quote(username, safe=""))


async def _users_again(request: web.Request, errors: dict[str, str], form: Any, status: int = 400) -> web.StreamResponse:
    session: Session = request[SESSION]
    items, total = await request.app[SERVICES].users.list(session.principal, session.domain or "", 500, 0)
    values = {k: str(form.get(k, "")) for k in ("username", "name", "role")}
    return render(request, "admin_users.html", status=status, items=items, total=total, errors=errors,
                  values=values, saved=None)


# -- extensions --------------------------------------------------------------

@page(ADMINS)
async def extensions(request: web.Request) -> web.StreamResponse:
    return await _extensions(request, {}, {})


async def _extensions(request: web.Request, errors: dict[str, str], values: dict[str, str],
                      status: int = 200) -> web.Response:
    session: Session = request[SESSION]
    items, total = await request.app[SERVICES].extensions.list(session.principal, session.domain or "", 500, 0)
    return render(request, "admin_extensions.html", status=status, items=items, total=total, errors=errors,
                  values=values, saved=request.query.get("saved"))


@page(ADMINS)
async def extension_save(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    form = await request.post()
    values = {k: str(form.get(k, "")).strip() for k in ("number", "name", "kind", "secret")}
    try:
        await request.app[SERVICES].extensions.create(session.principal, session.domain or "",
                                                      ExtensionCreate.model_validate(values))
    except ValidationError as exc:
        return await _extensions(request, pydantic_errors(exc, request), values, 400)
    except ApiError as exc:
        return await _extensions(request, api_errors(exc, request), values, exc.status)
    raise web.HTTPSeeOther("/admin/extensions?saved=" + quote(values["number"], safe=""))


@page(ADMINS)
async def extensions_state(request: web.Request) -> web.StreamResponse:
    """Registered state of every extension (the page refreshes it every few seconds)."""
    session: Session = request[SESSION]
    items, _total = await request.app[SERVICES].extensions.list(session.principal, session.domain or "", 500, 0)
    return web.json_response({"items": [{"number": e.number, "registered": e.registered, "in_use_by": e.in_use_by}
                                        for e in items]})


# -- IVR ---------------------------------------------------------------------

@page(MANAGERS)
async def ivrs(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    items = await request.app[SERVICES].ivrs.list(session.principal, session.domain or "")
    return render(request, "admin_ivrs.html", items=items, error=request.query.get("error"))


@page(MANAGERS)
async def ivr_edit(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    name = request.match_info.get("name") or str(request.query.get("name", "")).strip()
    services = request.app[SERVICES]
    root: dict[str, Any] = {"type": "menu", "prompt": "", "options": {"1": {"type": "hangup"}}}
    exists = False
    if request.match_info.get("name"):
        try:
            tree = await services.ivrs.get(session.principal, session.domain or "", name)
            root, exists = tree.root, True
        except ApiError as exc:
            return render(request, "admin_error.html", status=exc.status, status_code=exc.status, message=localize(exc, request))
    queue_items, _t = await services.queues.list(session.principal, session.domain or "", 500, 0)
    return render(request, "admin_ivr_edit.html", name=name, root=root, exists=exists,
                  queues=[q.name for q in queue_items])


@page(MANAGERS)
async def ivr_save(request: web.Request) -> web.StreamResponse:
    """JSON in (the editor's tree), JSON out: 422 with the node path the service names."""
    from ...features.ivr.schemas import IvrCreate, IvrUpdate
    session: Session = request[SESSION]
    services = request.app[SERVICES]
    name = request.match_info["name"]
    try:
        payload = await request.json()
    except ValueError:
        return web.json_response({"error": {"code": "bad_request", "message": "body is not JSON", "field": None}},
                                 status=400)
    root = payload.get("root") if isinstance(payload, dict) else None
    try:
        exists = any(t.name == name for t in await services.ivrs.list(session.principal, session.domain or ""))
        if exists:
            await services.ivrs.update(session.principal, session.domain or "", name, IvrUpdate.model_validate({"root": root}))
        else:
            await services.ivrs.create(session.principal, session.domain or "",
                                       IvrCreate.model_validate({"name": name, "root": root}))
    except ValidationError as exc:
        field, message = next(iter(pydantic_errors(exc, request).items()))
        return web.json_response({"error": {"code": "validation_failed", "message": message, "field": field}},
                                 status=422)
    except ApiError as exc:  # the message in the page's language, the field (a node's path) as the API names it
        return web.json_response({"error": {"code": exc.code, "message": localize(exc, request), "field": exc.field}},
                                 status=exc.status)
    return web.json_response({"ok": True, "name": name})


async def admin_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/queues")


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/admin", admin_home)
    r.add_get("/admin/queues", queues)
    r.add_get("/admin/queues/new", queue_new)
    r.add_post("/admin/queues/new", queue_save)
    r.add_get("/admin/queues/{name}", queue_edit)
    r.add_post("/admin/queues/{name}", queue_save)
    r.add_get("/admin/users", users)
    r.add_post("/admin/users/new", user_save)
    r.add_post("/admin/users/{username}", user_save)
    r.add_get("/admin/extensions", extensions)
    r.add_get("/admin/extensions/state", extensions_state)
    r.add_post("/admin/extensions/new", extension_save)
    r.add_get("/admin/ivrs", ivrs)
    r.add_get("/admin/ivrs/new", ivr_edit)
    r.add_get("/admin/ivrs/{name}", ivr_edit)
    r.add_post("/admin/ivrs/{name}", ivr_save)
    from . import admin_callbacks, admin_campaigns, admin_groups, admin_recordings
    for module in (admin_groups, admin_campaigns, admin_callbacks, admin_recordings):
        module.register(app)
