"""/admin/campaigns: outbound dialer campaigns (features/dialer) — the list with
state and progress, create/edit (calling hours per weekday, time zone, pacing
ratio, queue, attempts), start/pause/resume/stop, the contacts CSV upload (a
refused file shows every bad row: row number, field, message; nothing is
imported) and the campaign's blacklist. Supervisors and administrators."""
from __future__ import annotations

import re
from typing import Any

from aiohttp import BodyPartReader, web
from pydantic import ValidationError

from ...errors import ApiError
from ...features.dialer.domain import DAYS, csv_rows
from ...features.dialer.schemas import CampaignCreate, CampaignUpdate, NumberIn
from ...features.dialer.services import ACTIONS, RowsInvalid
from ..keys import SERVICES
from . import MULTIPART, SESSION, Session, drain, render, too_large_message
from .admin import MANAGERS, page
from .alerts import domain_zone
from .field_errors import api_errors, localize, pydantic_errors

DAY_LABELS = {"mon": "Segunda", "tue": "Terça", "wed": "Quarta", "thu": "Quinta", "fri": "Sexta", "sat": "Sábado",
              "sun": "Domingo"}
STATUS_LABELS = {"draft": "Rascunho", "running": "Em andamento", "paused": "Pausada", "stopped": "Parada",
                 "finished": "Concluída"}
CONTACT_LABELS = {"pending": "Pendente", "dialing": "Discando", "answered": "Atendido, aguardando agente",
                  "connected": "Com agente", "ending": "Encerrando", "retry": "Nova tentativa", "done": "Concluído",
                  "failed": "Sem sucesso", "skipped": "Ignorado"}
ACTION_LABELS = {"start": "Iniciar", "pause": "Pausar", "resume": "Retomar", "stop": "Parar"}
TIMEZONES = ("America/Sao_Paulo", "America/Manaus", "America/Cuiaba", "America/Belem", "America/Fortaleza",
             "America/Recife", "America/Bahia", "America/Porto_Velho", "America/Rio_Branco", "America/Noronha")
MAX_CSV = 4 * 1024 * 1024
_WINDOW = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


def _hours_text(hours: dict[str, list[list[str]]]) -> dict[str, str]:
    return {f"hours_{d}": ", ".join(f"{a}-{b}" for a, b in hours.get(d, [])) for d in DAYS}


def _hours_of(form: Any, errors: dict[str, str]) -> dict[str, list[list[str]]]:
    """``08:00-12:00, 13:00-18:00`` per weekday; an empty day never dials."""
    hours: dict[str, list[list[str]]] = {}
    for day in DAYS:
        raw = str(form.get(f"hours_{day}", "")).strip()
        if not raw:
            continue
        windows = []
        for part in raw.replace(";", ",").split(","):
            m = _WINDOW.match(part)
            if not m:
                errors[f"hours_{day}"] = "Use HH:MM-HH:MM, separados por vírgula (ex.: 08:00-12:00, 13:00-18:00)."
                break
            windows.append([x.zfill(5) for x in m.groups()])
        hours[day] = windows
    return hours


def _body(form: Any, errors: dict[str, str], zone: str) -> dict[str, Any]:
    body: dict[str, Any] = {"name": str(form.get("name", "")).strip(), "queue": str(form.get("queue", "")).strip(),
                            "timezone": str(form.get("timezone", "")).strip() or zone,
                            "calling_hours": _hours_of(form, errors)}
    for key, kind, message in (("ratio", float, "Informe um número entre 1 e 3 (ex.: 1,5)."),
                               ("max_attempts", int, "Informe um número inteiro."),
                               ("retry_interval", int, "Informe um número inteiro de segundos.")):
        raw = str(form.get(key, "")).strip().replace(",", ".")
        try:
            body[key] = kind(raw)
        except ValueError:
            errors[key] = message
    return body


def _values(c: Any | None) -> dict[str, Any]:
    if c is None:
        defaults = CampaignCreate.model_validate({"name": "x", "queue": "x"})
        return {"name": "", "queue": "", "timezone": defaults.timezone, "ratio": defaults.ratio,
                "max_attempts": defaults.max_attempts, "retry_interval": defaults.retry_interval,
                **_hours_text({d: [["09:00", "18:00"]] for d in DAYS[:5]})}
    return {"name": c.name, "queue": c.queue, "timezone": c.timezone, "ratio": c.ratio,
            "max_attempts": c.max_attempts, "retry_interval": c.retry_interval, **_hours_text(c.calling_hours)}


def _cid(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    return int(raw)


def _labels() -> dict[str, Any]:
    return {"day_labels": DAY_LABELS, "status_labels": STATUS_LABELS, "action_labels": ACTION_LABELS,
            "contact_labels": CONTACT_LABELS,
            "days": DAYS, "timezones": TIMEZONES}


def actions_for(status: str) -> list[str]:
    return [a for a, (allowed, _target) in ACTIONS.items() if status in allowed]


@page(MANAGERS)
async def campaigns(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    items, total = await request.app[SERVICES].campaigns.list(session.principal, session.domain or "", 500, 0)
    return render(request, "admin_campaigns.html", items=items, total=total, actions_for=actions_for,
                  saved=request.query.get("saved"), error=None, **_labels())


async def _form(request: web.Request, campaign: Any | None, values: dict[str, Any], errors: dict[str, str],
                status: int = 200, **extra: Any) -> web.Response:
    session: Session = request[SESSION]
    services, slug, me = request.app[SERVICES], session.domain or "", session.principal
    queues, _t = await services.queues.list(me, slug, 500, 0)
    ctx: dict[str, Any] = {"campaign": campaign, "values": values, "errors": errors,
                           "queues": [q.name for q in queues], "actions_for": actions_for,
                           "import_errors": None, "imported": None, "block_values": {}, "block_errors": {},
                           **_labels()}
    if campaign is not None:
        ctx["blacklist"] = await services.campaigns.blacklist(me, slug, campaign.id)
        ctx["contacts"], ctx["contacts_total"] = await services.campaigns.contacts(me, slug, campaign.id, 20, 0, None)
    ctx.update(extra)
    ctx["saved"] = request.query.get("saved")
    return render(request, "admin_campaign.html", status=status, **ctx)


@page(MANAGERS)
async def campaign_new(request: web.Request) -> web.StreamResponse:
    # a new campaign calls in the domain's zone unless told otherwise
    return await _form(request, None, {**_values(None), "timezone": (await domain_zone(request)).key}, {})


@page(MANAGERS)
async def campaign_edit(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    c = await request.app[SERVICES].campaigns.get(session.principal, session.domain or "", _cid(request))
    return await _form(request, c, _values(c), {})


@page(MANAGERS)
async def campaign_save(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    services, slug, me = request.app[SERVICES], session.domain or "", session.principal
    cid = _cid(request) if "id" in request.match_info else None
    campaign = await services.campaigns.get(me, slug, cid) if cid is not None else None
    form = await request.post()
    errors: dict[str, str] = {}
    body = _body(form, errors, (await domain_zone(request)).key)
    shown = {k: str(form.get(k, "")) for k in ("name", "queue", "timezone", "ratio", "max_attempts",
                                                 "retry_interval")}
    shown.update({f"hours_{d}": str(form.get(f"hours_{d}", "")) for d in DAYS})
    if errors:
        return await _form(request, campaign, shown, errors, 400)
    try:
        if cid is None:
            saved = await services.campaigns.create(me, slug, CampaignCreate.model_validate(body))
        else:
            saved = await services.campaigns.update(me, slug, cid, CampaignUpdate.model_validate(body))
    except ValidationError as exc:
        return await _form(request, campaign, shown, _hours_errors(pydantic_errors(exc, request), exc), 400)
    except ApiError as exc:
        return await _form(request, campaign, shown, api_errors(exc, request), exc.status)
    raise web.HTTPSeeOther(f"/admin/campaigns/{saved.id}?saved=1")


def _hours_errors(errors: dict[str, str], exc: ValidationError) -> dict[str, str]:
    """A refused calling_hours names its day (``mon: ...``): shown at that day's field."""
    message = errors.pop("calling_hours", None)  # already in the page's language
    if message is not None:
        raw = next((str(e.get("msg", "")) for e in exc.errors() if e.get("loc", ("",))[0] == "calling_hours"), "")
        day = next((d for d in DAYS if f"{d}:" in raw), None)
        errors[f"hours_{day}" if day else "hours_mon"] = message
    return errors


@page(MANAGERS)
async def campaign_action(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    services, slug, me = request.app[SERVICES], session.domain or "", session.principal
    try:
        c = await services.campaigns.act(me, slug, _cid(request), action)
    except ApiError as exc:
        if exc.status == 404:
            raise
        items, total = await services.campaigns.list(me, slug, 500, 0)
        return render(request, "admin_campaigns.html", status=exc.status, items=items, total=total,
                      actions_for=actions_for, saved=None, error=localize(exc, request), **_labels())
    raise web.HTTPSeeOther(f"/admin/campaigns?saved={c.id}")


async def _csv_upload(request: web.Request) -> bytes | None:
    """The form's ``file`` part, streamed (the CSRF token came first); at most MAX_CSV + 1 bytes
    are kept: more means the file is over the limit. None: no file was sent."""
    reader = request[MULTIPART]
    raw: bytes | None = None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name != "file" or raw is not None:
            await part.release()
            continue
        buf = bytearray()
        while chunk := await part.read_chunk(64 * 1024):
            buf += chunk
            if len(buf) > MAX_CSV:
                await drain(request)
                return bytes(buf)
        raw = bytes(buf) if part.filename or buf else None
    return raw


@page(MANAGERS, multipart=True)
async def campaign_contacts(request: web.Request) -> web.StreamResponse:
    """The CSV upload (streamed: the CSRF token first, then the file): all rows or none; a refused
    file lists every bad row; a file over the limit is refused naming the limit."""
    session: Session = request[SESSION]
    services, slug, me = request.app[SERVICES], session.domain or "", session.principal
    cid = _cid(request)
    campaign = await services.campaigns.get(me, slug, cid)
    raw = await _csv_upload(request)
    if not raw:
        return await _form(request, campaign, _values(campaign), {"file": "Escolha um arquivo CSV."}, 400)
    if len(raw) > MAX_CSV:
        return await _form(request, campaign, _values(campaign), {"file": too_large_message(request, MAX_CSV)}, 413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return await _form(request, campaign, _values(campaign), {"file": "O CSV precisa estar em UTF-8."}, 400)
    rows, problem = csv_rows(text)
    if problem:
        return await _form(request, campaign, _values(campaign), {"file": problem}, 400)
    try:
        result = await services.campaigns.import_contacts(me, slug, cid, rows, first_row=2)
    except RowsInvalid as exc:
        return await _form(request, campaign, _values(campaign), {}, 422, import_errors=exc.rows,
                           import_total=len(rows))
    except ApiError as exc:
        return await _form(request, campaign, _values(campaign), {"file": localize(exc, request)}, exc.status)
    campaign = await services.campaigns.get(me, slug, cid)
    return await _form(request, campaign, _values(campaign), {}, imported=result)


@page(MANAGERS)
async def campaign_blacklist(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    services, slug, me = request.app[SERVICES], session.domain or "", session.principal
    cid = _cid(request)
    campaign = await services.campaigns.get(me, slug, cid)
    form = await request.post()
    values = {"number": str(form.get("number", "")).strip(), "reason": str(form.get("reason", "")).strip()}
    try:
        if request.match_info["what"] == "remove":
            await services.campaigns.unblock(me, slug, cid, values["number"])
        else:
            await services.campaigns.block(me, slug, cid, NumberIn.model_validate(values))
    except ValidationError as exc:
        return await _form(request, campaign, _values(campaign), {}, 400, block_values=values,
                           block_errors=pydantic_errors(exc, request))
    except ApiError as exc:
        return await _form(request, campaign, _values(campaign), {}, exc.status, block_values=values,
                           block_errors=api_errors(exc, request, "number"))
    raise web.HTTPSeeOther(f"/admin/campaigns/{cid}#blacklist")


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/admin/campaigns", campaigns)
    r.add_get("/admin/campaigns/new", campaign_new)
    r.add_post("/admin/campaigns/new", campaign_save)
    r.add_get("/admin/campaigns/{id}", campaign_edit)
    r.add_post("/admin/campaigns/{id}", campaign_save)
    r.add_post("/admin/campaigns/{id}/contacts", campaign_contacts)
    r.add_post("/admin/campaigns/{id}/blacklist/{what:add|remove}", campaign_blacklist)
    r.add_post("/admin/campaigns/{id}/{action:start|pause|resume|stop}", campaign_action)
