from __future__ import annotations

from ...web.routing import Api, Req
from ..common import ListQuery, Page, window
from .schemas import BlacklistCreate, BlacklistOut, RejectionOut, RouteCreate, RouteOut, RouteUpdate

api = Api()
ROUTES = "/domains/{domain}/routes"
BLACKLIST = "/domains/{domain}/blacklist"


@api.route("GET", ROUTES, query=ListQuery, response=Page[RouteOut], tag="routes")
async def list_routes(req: Req) -> Page[RouteOut]:
    """Inbound routes: DID -> destination."""
    rows = await req.services.routes.list(req.me, req.params["domain"])
    return Page[RouteOut](items=window(rows, req.query), total=len(rows))


@api.route("POST", ROUTES, body=RouteCreate, response=RouteOut, status=201, tag="routes")
async def create_route(req: Req) -> RouteOut:
    """Route a DID (unique across domains)."""
    return await req.services.routes.create(req.me, req.params["domain"], req.body)


@api.route("GET", ROUTES + "/{did}", response=RouteOut, tag="routes")
async def get_route(req: Req) -> RouteOut:
    """One inbound route."""
    return await req.services.routes.get(req.me, req.params["domain"], req.params["did"])


@api.route("PATCH", ROUTES + "/{did}", body=RouteUpdate, response=RouteOut, tag="routes")
async def update_route(req: Req) -> RouteOut:
    """Change a route's destination or reject delay."""
    return await req.services.routes.update(req.me, req.params["domain"], req.params["did"], req.body)


@api.route("DELETE", ROUTES + "/{did}", status=204, tag="routes")
async def delete_route(req: Req) -> None:
    """Remove a route (the DID gets the unknown-DID treatment)."""
    await req.services.routes.delete(req.me, req.params["domain"], req.params["did"])


@api.route("GET", BLACKLIST, query=ListQuery, response=Page[BlacklistOut], tag="blacklist")
async def list_blacklist(req: Req) -> Page[BlacklistOut]:
    """Blacklisted caller numbers (normalised) and the forms each matches."""
    rows = await req.services.routes.blacklist(req.me, req.params["domain"])
    return Page[BlacklistOut](items=window(rows, req.query), total=len(rows))


@api.route("POST", BLACKLIST, body=BlacklistCreate, response=BlacklistOut, status=201, tag="blacklist")
async def add_blacklist(req: Req) -> BlacklistOut:
    """Reject this caller's inbound calls before any IVR or queue."""
    return await req.services.routes.block(req.me, req.params["domain"], req.body)


@api.route("GET", BLACKLIST + "/{number}", response=BlacklistOut, tag="blacklist")
async def get_blacklisted(req: Req) -> BlacklistOut:
    """One blacklisted number (404 when the caller is not blacklisted)."""
    return await req.services.routes.blocked(req.me, req.params["domain"], req.params["number"])


@api.route("DELETE", BLACKLIST + "/{number}", status=204, tag="blacklist")
async def remove_blacklist(req: Req) -> None:
    """Allow this caller again."""
    await req.services.routes.unblock(req.me, req.params["domain"], req.params["number"])


@api.route("GET", BLACKLIST + "-rejections", query=ListQuery, response=Page[RejectionOut], tag="blacklist")
async def list_rejections(req: Req) -> Page[RejectionOut]:
    """Every call refused by the blacklist, newest first."""
    rows, total = await req.services.routes.rejections(req.me, req.params["domain"], req.query.limit,
                                                       req.query.offset)
    return Page[RejectionOut](items=rows, total=total)
