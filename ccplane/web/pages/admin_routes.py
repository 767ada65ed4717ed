"""/admin/routes (inbound routes and the inbound blacklist) and /admin/trunks
(trunks with their live status, outbound routes): forms over the services the
API uses, each refused field shown where it was typed."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from ...errors import ApiError
from ...features.routes.schemas import BlacklistCreate, RouteCreate
from ...features.trunks.schemas import OutboundRouteCreate, TrunkCreate
from ..keys import SERVICES
from . import SESSION, Session, render
from .admin import ADMINS, MANAGERS, page
from .field_errors import localize, pydantic_errors

DESTINATIONS = (("queue", "Fila"), ("ivr", "URA"), ("extension", "Ramal"), ("hangup", "Desligar"))


def _split(raw: str) -> list[str]:
    return [x.strip() for x in raw.replace(";", ",").split(",") if x.strip()]


def _int(raw: str, field: str, errors: dict[str, str], default: int = 0) -> int:
    if not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        errors[field] = "Informe um número inteiro."
        return default


# -- inbound routes and blacklist ----------------------------------------------

async def _routes(request: web.Request, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                  status: int = 200) -> web.Response:
    session: Session = request[SESSION]
    services, slug = request.app[SERVICES], session.domain or ""
    routes = await services.routes.list(session.principal, slug)
    blacklist = await services.routes.blacklist(session.principal, slug)
    queues, _t = await services.queues.list(session.principal, slug, 500, 0)
    return render(request, "admin_routes.html", status=status, routes=routes, blacklist=blacklist,
                  errors=errors or {}, values=values or {}, destinations=DESTINATIONS,
                  queues=[q.name for q in queues], saved=request.query.get("saved"))


@page(MANAGERS)
async def routes(request: web.Request) -> web.StreamResponse:
    return await _routes(request)


@page(MANAGERS)
async def routes_post(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    services, slug, me = request.app[SERVICES], session.domain or "", session.principal
    form = await request.post()
    what = request.match_info["what"]
    values = {k: str(v) for k, v in form.items() if k != "csrf"}
    errors: dict[str, str] = {}
    try:
        if what == "new":
            kind = values.get("type", "")
            destination: dict[str, Any] = {"type": kind}
            if kind != "hangup":
                destination["target"] = values.get("target", "").strip()
            delay = _int(values.get("reject_delay", ""), "reject_delay", errors)
            if errors:
                return await _routes(request, errors, values, 400)
            await services.routes.create(me, slug, RouteCreate.model_validate(
                {"did": values.get("did", "").strip(), "destination": destination, "reject_delay": delay}))
        elif what == "delete":
            await services.routes.delete(me, slug, values.get("did", ""))
        elif what == "block":
            await services.routes.block(me, slug, BlacklistCreate.model_validate(
                {"number": values.get("number", "").strip(), "reason": values.get("reason", "").strip()}))
        elif what == "unblock":
            await services.routes.unblock(me, slug, values.get("number", ""))
        else:
            raise web.HTTPNotFound()
    except ValidationError as exc:
        found = pydantic_errors(exc, request)
        if "destination" in found:
            found["target"] = found.pop("destination")
        return await _routes(request, found, values, 400)
    except ApiError as exc:
        field = exc.field or "__all__"
        field = "target" if field.startswith("destination") else field
        return await _routes(request, {field: localize(exc, request)}, values, exc.status)
    raise web.HTTPSeeOther("/admin/routes?saved=1")


# -- trunks and outbound routes --------------------------------------------------

async def _trunks(request: web.Request, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                  status: int = 200) -> web.Response:
    session: Session = request[SESSION]
    services, slug = request.app[SERVICES], session.domain or ""
    trunks = await services.trunks.list(session.principal, slug)
    outbound = await services.trunks.routes(session.principal, slug)
    return render(request, "admin_trunks.html", status=status, trunks=trunks, outbound=outbound,
                  errors=errors or {}, values=values or {}, saved=request.query.get("saved"))


@page(ADMINS)
async def trunks(request: web.Request) -> web.StreamResponse:
    return await _trunks(request)


@page(ADMINS)
async def trunks_state(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    items = await request.app[SERVICES].trunks.list(session.principal, session.domain or "")
    return web.json_response({"items": [{"name": t.name, "status": t.status} for t in items]})


@page(ADMINS)
async def trunks_post(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    services, slug, me = request.app[SERVICES], session.domain or "", session.principal
    form = await request.post()
    what = request.match_info["what"]
    values = {k: str(v) for k, v in form.items() if k not in ("csrf", "secret")}
    errors: dict[str, str] = {}
    try:
        if what == "new":
            port = _int(values.get("port", ""), "port", errors, 5060)
            if errors:
                return await _trunks(request, errors, values, 400)
            body: dict[str, Any] = {"name": values.get("name", "").strip(), "host": values.get("host", "").strip(),
                                    "port": port, "transport": values.get("transport", "udp"),
                                    "register": form.get("register") == "on"}
            for key in ("username", "caller_id"):
                if values.get(key, "").strip():
                    body[key] = values[key].strip()
            if str(form.get("secret", "")):
                body["secret"] = str(form["secret"])
            await services.trunks.create(me, slug, TrunkCreate.model_validate(body))
        elif what == "delete":
            await services.trunks.delete(me, slug, values.get("name", ""))
        elif what == "route":
            strip = _int(values.get("strip", ""), "strip", errors)
            if errors:
                return await _trunks(request, errors, values, 400)
            await services.trunks.create_route(me, slug, OutboundRouteCreate.model_validate(
                {"name": values.get("route_name", "").strip(), "patterns": _split(values.get("patterns", "")),
                 "trunks": _split(values.get("trunks", "")), "strip": strip, "prefix": values.get("prefix", "").strip()}))
        elif what == "route-delete":
            await services.trunks.delete_route(me, slug, values.get("route_name", ""))
        else:
            raise web.HTTPNotFound()
    except ValidationError as exc:
        found = pydantic_errors(exc, request)
        if what == "route" and "name" in found:
            found["route_name"] = found.pop("name")
        return await _trunks(request, found, values, 400)
    except ApiError as exc:
        field = exc.field or "__all__"
        if what == "route" and field == "name":
            field = "route_name"
        return await _trunks(request, {field: localize(exc, request)}, values, exc.status)
    raise web.HTTPSeeOther("/admin/trunks?saved=1")


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/admin/routes", routes)
    r.add_post("/admin/routes/{what}", routes_post)
    r.add_get("/admin/trunks", trunks)
    r.add_get("/admin/trunks/state", trunks_state)
    r.add_post("/admin/trunks/{what}", trunks_post)
