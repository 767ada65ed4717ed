from __future__ import annotations

from datetime import datetime

from aiohttp import web

from sqlalchemy.exc import SQLAlchemyError

from ...errors import ServiceUnavailable, ValidationFailed
from .domain import DEFAULT_TEXTS, stats
from ...web.routing import Api, Req, path_id
from ..common import Page
from .export import to_csv, to_xlsx
from .schemas import (AlertAppOut, AlertAppUpdate, AlertClose, AlertCreate, AlertCreated, AlertNoteIn, AlertNoteOut,
                      AlertOut, AlertQuery, AppLogin, AppToken)

api = Api()
TEAM = "/domains/{domain}"
APP = "/app/{domain}"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _when(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{field}: expected an ISO-8601 date or time", field=field) from None


@api.route("GET", TEAM + "/alert-app", response=AlertAppOut, tag="alerts")
async def get_alert_app(req: Req) -> AlertAppOut:
    """The alert app's customisation and routing for this domain."""
    return await req.services.alerts.get_config(req.me, req.params["domain"])


@api.route("PUT", TEAM + "/alert-app", body=AlertAppUpdate, response=AlertAppOut, tag="alerts")
async def put_alert_app(req: Req) -> AlertAppOut:
    """Change the app's name, colours, texts, call number, monitoring queue, deadlines."""
    return await req.services.alerts.put_config(req.me, req.params["domain"], req.body)


@api.route("GET", TEAM + "/alerts", query=AlertQuery, response=Page[AlertOut], tag="alerts",
           produces=("text/csv", XLSX))
async def list_alerts(req: Req) -> object:
    """Alerts, newest first, filtered by period/level/status/person; format json, csv or xlsx."""
    q: AlertQuery = req.query
    items, total = await req.services.alerts.list(
        req.me, req.params["domain"], since=_when(q.from_, "from"), until=_when(q.to, "to"), level=q.level,
        status=q.status, person=q.person, limit=q.limit, offset=q.offset)
    name = f"alertas-{req.params['domain']}"
    if q.format == "csv":
        return web.Response(body=to_csv(items), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if q.format == "xlsx":
        return web.Response(body=to_xlsx(items),
                            content_type=XLSX,
                            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return Page[AlertOut](items=items, total=total)


@api.route("GET", TEAM + "/alerts/stats", query=AlertQuery, tag="alerts")
async def alert_stats(req: Req) -> dict[str, object]:
    """Dashboard figures for the period: per level/day/hour, who alerts most, areas, % acked in 15/30/60 s."""
    q: AlertQuery = req.query
    items, _ = await req.services.alerts.list(
        req.me, req.params["domain"], since=_when(q.from_, "from"), until=_when(q.to, "to"), level=q.level,
        status=q.status, person=q.person, limit=1_000_000, offset=0)
    return stats([a.model_dump() for a in items])


@api.route("POST", TEAM + "/alerts/{id}/ack", response=AlertOut, tag="alerts")
async def ack_alert(req: Req) -> AlertOut:
    """An attendant takes the alert (stops its escalation)."""
    return await req.services.alerts.ack(req.me, req.params["domain"], path_id(req, "id", "alert"))


@api.route("POST", TEAM + "/alerts/{id}/close", body=AlertClose, response=AlertOut, tag="alerts")
async def close_alert(req: Req) -> AlertOut:
    """Close an alert with its outcome note."""
    return await req.services.alerts.close(req.me, req.params["domain"], path_id(req, "id", "alert"),
                                           req.body.outcome)


@api.route("GET", TEAM + "/alerts/{id}/notes", response=list[AlertNoteOut], tag="alerts")
async def list_alert_notes(req: Req) -> list[AlertNoteOut]:
    """The attendants' notes on an alert, oldest first (rows of the alert's audit log)."""
    return await req.services.alert_notes.list(req.me, req.params["domain"], path_id(req, "id", "alert"))


@api.route("POST", TEAM + "/alerts/{id}/notes", body=AlertNoteIn, response=AlertNoteOut, status=201, tag="alerts")
async def add_alert_note(req: Req) -> AlertNoteOut:
    """Add a note to an alert (kept in the hash-chained audit log; published live as alert.note)."""
    return await req.services.alert_notes.add(req.me, req.params["domain"], path_id(req, "id", "alert"),
                                              req.body.text)


@api.route("POST", APP + "/login", body=AppLogin, response=AppToken, auth=False, tag="app")
async def app_login(req: Req) -> AppToken:
    """The monitored person logs in with CPF (digits only) and password."""
    return await req.services.alerts.app_login(req.params["domain"], req.body.cpf, req.body.password,
                                               req.request.remote or "")


@api.route("GET", APP + "/config", response=AlertAppOut, auth=False, tag="app", security="app")
async def app_config(req: Req) -> AlertAppOut:
    """The app's customisation (app token)."""
    person = await req.services.alerts.app_person(req.params["domain"], req.request.headers.get("Authorization", ""))
    return await req.services.alerts.app_config(person)


@api.route("POST", APP + "/alerts", body=AlertCreate, response=AlertCreated, status=201, auth=False, tag="app", security="app")
async def app_alert(req: Req) -> AlertCreated:
    """Send an alert; stored before this answers (503 if it cannot be stored)."""
    try:
        person = await req.services.alerts.app_person(req.params["domain"],
                                                      req.request.headers.get("Authorization", ""))
    except SQLAlchemyError:
        raise ServiceUnavailable(DEFAULT_TEXTS["unavailable"]["message"]) from None
    return await req.services.alerts.create(person, req.body)
