from __future__ import annotations

from ...web.routing import Api, Req
from ..common import ListQuery, Page, window
from .schemas import (OutboundRouteCreate, OutboundRouteOut, OutboundRouteUpdate, TrunkCreate, TrunkOut,
                      TrunkUpdate)

api = Api()
TRUNKS = "/domains/{domain}/trunks"
ROUTES = "/domains/{domain}/outbound-routes"


@api.route("GET", TRUNKS, query=ListQuery, response=Page[TrunkOut], tag="trunks")
async def list_trunks(req: Req) -> Page[TrunkOut]:
    """The domain's SIP trunks."""
    rows = await req.services.trunks.list(req.me, req.params["domain"])
    return Page[TrunkOut](items=window(rows, req.query), total=len(rows))


@api.route("POST", TRUNKS, body=TrunkCreate, response=TrunkOut, status=201, tag="trunks")
async def create_trunk(req: Req) -> TrunkOut:
    """Add a carrier trunk (rendered as a PJSIP endpoint, with registration if asked)."""
    return await req.services.trunks.create(req.me, req.params["domain"], req.body)


@api.route("GET", TRUNKS + "/{name}", response=TrunkOut, tag="trunks")
async def get_trunk(req: Req) -> TrunkOut:
    """One trunk with its live status."""
    return await req.services.trunks.get(req.me, req.params["domain"], req.params["name"])


@api.route("PATCH", TRUNKS + "/{name}", body=TrunkUpdate, response=TrunkOut, tag="trunks")
async def update_trunk(req: Req) -> TrunkOut:
    """Change a trunk's fields (re-rendered at once; a registering trunk needs username and secret)."""
    return await req.services.trunks.update(req.me, req.params["domain"], req.params["name"], req.body)


@api.route("DELETE", TRUNKS + "/{name}", status=204, tag="trunks")
async def delete_trunk(req: Req) -> None:
    """Remove a trunk no outbound route uses."""
    await req.services.trunks.delete(req.me, req.params["domain"], req.params["name"])


@api.route("GET", ROUTES, query=ListQuery, response=Page[OutboundRouteOut], tag="trunks")
async def list_outbound_routes(req: Req) -> Page[OutboundRouteOut]:
    """Outbound routes: dialled patterns -> trunks in order of preference."""
    rows = await req.services.trunks.routes(req.me, req.params["domain"])
    return Page[OutboundRouteOut](items=window(rows, req.query), total=len(rows))


@api.route("POST", ROUTES, body=OutboundRouteCreate, response=OutboundRouteOut, status=201, tag="trunks")
async def create_outbound_route(req: Req) -> OutboundRouteOut:
    """Add an outbound route."""
    return await req.services.trunks.create_route(req.me, req.params["domain"], req.body)


@api.route("GET", ROUTES + "/{name}", response=OutboundRouteOut, tag="trunks")
async def get_outbound_route(req: Req) -> OutboundRouteOut:
    """One outbound route."""
    return await req.services.trunks.route(req.me, req.params["domain"], req.params["name"])


@api.route("PATCH", ROUTES + "/{name}", body=OutboundRouteUpdate, response=OutboundRouteOut, tag="trunks")
async def update_outbound_route(req: Req) -> OutboundRouteOut:
    """Change an outbound route's patterns, trunks (in order), strip, prefix or recording."""
    return await req.services.trunks.update_route(req.me, req.params["domain"], req.params["name"], req.body)


@api.route("DELETE", ROUTES + "/{name}", status=204, tag="trunks")
async def delete_outbound_route(req: Req) -> None:
    """Remove an outbound route."""
    await req.services.trunks.delete_route(req.me, req.params["domain"], req.params["name"])
