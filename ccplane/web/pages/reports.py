"""/reports: the report filter screen, the table, a chart, and CSV/XLSX
downloads — the reports API's own code (features/reports/http.py) on the
session's principal instead of a bearer token."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import ValidationError

from ...errors import ApiError
from ...features.reports.http import report_json, report_response
from ...features.reports.schemas import KINDS, ReportQuery
from ..keys import SERVICES
from . import LANG, SESSION, Session, page, render
from .charts import bars, stacked
from .i18n import translator

READERS = frozenset({"root", "superuser", "admin", "supervisor"})
ZONE = "America/Sao_Paulo"
GROUPS = ("", "queue", "agent", "hour", "day", "did", "disposition")
HIDDEN = {"legs"}


class FormError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def parse(query: Mapping[str, str], zone_name: str = ZONE) -> tuple[str, dict[str, str], ReportQuery]:
    """The filter form → (kind, the form's values, the API's query). Dates are the
    days of the domain's zone (``zone_name``); raises FormError naming the field."""
    today = datetime.now(ZoneInfo(zone_name)).date()
    form = {"kind": query.get("kind") or "quantitative", "from": query.get("from") or str(today - timedelta(days=6)),
            "to": query.get("to") or str(today), "queues": query.get("queues", ""), "agents": query.get("agents", ""),
            "group_by": query.get("group_by", ""), "service_level": query.get("service_level") or "20"}
    if form["kind"] not in KINDS:
        raise FormError("kind", "kind")
    if form["group_by"] not in GROUPS:
        raise FormError("group_by", "group_by")
    days = {}
    for name in ("from", "to"):
        try:
            days[name] = date.fromisoformat(form[name])
        except ValueError:
            raise FormError(name, name) from None
    if days["to"] < days["from"]:
        raise FormError("to", "to")
    zone = ZoneInfo(zone_name)
    raw: dict[str, Any] = {"from": datetime.combine(days["from"], time(), zone).isoformat(),
                           "to": datetime.combine(days["to"] + timedelta(days=1), time(), zone).isoformat(),
                           "timezone": zone_name, "service_level": form["service_level"], "limit": 1000}
    for name in ("queues", "agents", "group_by"):
        if form[name]:
            raw[name] = form[name]
    try:
        return form["kind"], form, ReportQuery.model_validate(raw)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors() else "from"
        raise FormError(field, field) from None


def chart(kind: str, items: list[dict[str, Any]], group: str | None, _: Any) -> str | None:
    """A picture where it says more than the table: answered/abandoned/other per group, or calls per agent."""
    if not items:
        return None
    if "answered" in items[0] and ("unanswered" in items[0] or "abandoned" in items[0]):
        rows = []
        for it in items[:20]:
            label = str(it.get(group or "", None) or (_("Total") if not group else "—"))
            other = max(0, int(it.get("total", 0)) - int(it.get("answered", 0)) - int(it.get("abandoned", 0) or 0))
            rows.append((label, [(_("Atendidas"), float(it.get("answered", 0)), "green"),
                                 (_("Abandonadas"), float(it.get("abandoned", 0) or 0), "red"),
                                 (_("Outras não atendidas"), float(other), "grey")]))
        return stacked(_("Chamadas atendidas e não atendidas"), rows)
    if kind == "agent-activity":
        return bars(_("Chamadas atendidas por agente"), [(str(it["agent"]), float(it["calls"])) for it in items[:24]], "blue")
    return None


def _cell(value: Any, zone: str = ZONE) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "—"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value).astimezone(ZoneInfo(zone)).strftime("%d/%m %H:%M:%S")
        except ValueError:
            return value
    return str(value)


@page(READERS)
async def reports(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    _ = translator(request.get(LANG) or "pt_BR")
    labels = _column_labels(_)
    if session.domain is None:
        return render(request, "reports.html", domain=None, labels=labels)
    error: FormError | ApiError | None = None
    body: dict[str, Any] | None = None
    zone = (await request.app[SERVICES].domains.get(session.principal, session.domain)).timezone
    try:
        kind, form, q = parse(request.query, zone)
        body = await report_json(request.app[SERVICES].reports, session.principal, session.domain, kind, q)
    except FormError as exc:
        error, kind, form = exc, "quantitative", {k: request.query.get(k, "") for k in
                                                  ("kind", "from", "to", "queues", "agents", "group_by", "service_level")}
    except ApiError as exc:
        error = exc
    items = (body or {}).get("items") or []
    columns = [c for c in (items[0] if items else {}) if c not in HIDDEN]
    group = q.group_by if body and kind != "listing" else ("queue" if body else None)
    download = {k: v for k, v in form.items() if v}
    return render(request, "reports.html", status=(422 if isinstance(error, FormError) else error.status) if error else 200,
                  domain=session.domain, error=error, form=form, kinds=KINDS, groups=GROUPS, items=items, columns=columns,
                  cell=lambda v: _cell(v, zone), labels=labels, header=(body or {}).get("header"), download=download,
                  chart=chart(kind, items, group, _) if body else None, more=bool((body or {}).get("next")))


@page(READERS)
async def export(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    fmt = request.query.get("format", "")
    if fmt not in ("csv", "xlsx") or session.domain is None:
        raise web.HTTPBadRequest(text="format: csv or xlsx")
    zone = (await request.app[SERVICES].domains.get(session.principal, session.domain)).timezone
    try:
        kind, _form, q = parse(request.query, zone)
    except FormError as exc:
        raise web.HTTPBadRequest(text=f"{exc.field}: invalid value") from None
    try:
        return await report_response(request, request.app[SERVICES].reports, session.principal, session.domain, kind,
                                     q.model_copy(update={"format": fmt}))
    except ApiError as exc:
        return web.json_response(exc.to_json(), status=exc.status)


def _column_labels(_: Any) -> dict[str, str]:
    names = {
        "kind": "Relatório", "quantitative": "Quantitativo", "summary": "Resumo", "detailed": "Detalhado",
        "listing": "Listagem por fila", "abandoned": "Abandonadas", "agent-activity": "Atividade dos agentes",
        "queue": "Fila", "agent": "Agente", "hour": "Hora", "day": "Dia", "did": "DID", "disposition": "Qualificação",
        "total": "Total", "answered": "Atendidas", "unanswered": "Não atendidas",
        "short_abandoned": "Abandonos curtos", "transferred": "Transferidas", "blacklisted": "Bloqueadas",
        "overflowed": "Transbordadas", "timed_out": "Tempo esgotado", "callbacks": "Retornos",
        "answered_pct": "% atendidas", "unanswered_pct": "% não atendidas", "abandoned_pct": "% abandonadas",
        "transferred_pct": "% transferidas", "blacklisted_pct": "% bloqueadas", "overflowed_pct": "% transbordadas",
        "timed_out_pct": "% tempo esgotado", "wait_avg": "Espera média (s)", "wait_max": "Espera máxima (s)",
        "asa": "TME atendidas (s)", "talk_avg": "Conversa média (s)", "talk_max": "Conversa máxima (s)",
        "talk_total": "Conversa total (s)", "ring_avg": "Toque médio (s)", "wrapup_total": "Pós-atendimento (s)",
        "answered_within_sl": "Atendidas no NS", "service_level_pct": "Nível de serviço %",
        "abandon_rate_pct": "% abandono", "call": "Chamada", "caller": "Chamador", "caller_name": "Nome",
        "started_at": "Início da chamada", "answered_at": "Atendida em", "ended_at": "Fim", "direction": "Sentido",
        "wait": "Espera (s)", "talk": "Conversa (s)", "ivr": "URA", "agents_tried": "Agentes tentados",
        "transfers": "Transferências", "position": "Posição", "short": "Curto", "reached_back": "Retornada",
        "offers": "Ofertas", "offers_unanswered": "Ofertas não atendidas", "offers_no_answer": "Sem resposta",
        "calls": "Chamadas", "logged_in_since": "Conectado desde", "paused_now": "Em pausa",
        "pause_reason_now": "Motivo da pausa", "abandoned_0_10": "Aband. 0–10 s", "abandoned_10_30": "Aband. 10–30 s",
        "abandoned_30_60": "Aband. 30–60 s", "abandoned_60_more": "Aband. 60 s+", "": "Sem agrupamento",
        "from": "De", "to": "Até", "queues": "Filas", "agents": "Agentes", "group_by": "Agrupar por",
        "service_level": "Nível de serviço (s)"}
    out = {k: _(v) for k, v in names.items()}
    out["abandoned"] = _("Abandonadas")
    return out


def register(app: web.Application) -> None:
    app.router.add_get("/reports", reports)
    app.router.add_get("/reports/export", export)
