from __future__ import annotations

from ...web.routing import Api, Req
from ..common import ListQuery, Page, window
from .schemas import CallGroupCreate, CallGroupOut, CallGroupUpdate

api = Api()
GROUPS = "/domains/{domain}/call-groups"


@api.route("GET", GROUPS, query=ListQuery, response=Page[CallGroupOut], tag="call-groups")
async def list_groups(req: Req) -> Page[CallGroupOut]:
    """Call groups (ring groups): extensions that ring together or in order."""
    rows = await req.services.callgroups.list(req.me, req.params["domain"])
    return Page[CallGroupOut](items=window(rows, req.query), total=len(rows))


@api.route("POST", GROUPS, body=CallGroupCreate, response=CallGroupOut, status=201, tag="call-groups")
async def create_group(req: Req) -> CallGroupOut:
    """Create a call group, dialled by its number and usable as a route or IVR destination."""
    return await req.services.callgroups.create(req.me, req.params["domain"], req.body)


@api.route("GET", GROUPS + "/{name}", response=CallGroupOut, tag="call-groups")
async def get_group(req: Req) -> CallGroupOut:
    """One call group."""
    return await req.services.callgroups.get(req.me, req.params["domain"], req.params["name"])


@api.route("PATCH", GROUPS + "/{name}", body=CallGroupUpdate, response=CallGroupOut, tag="call-groups")
async def update_group(req: Req) -> CallGroupOut:
    """Change a call group's number, strategy, extensions, ring timeout or no-answer destination."""
    return await req.services.callgroups.update(req.me, req.params["domain"], req.params["name"], req.body)


@api.route("DELETE", GROUPS + "/{name}", status=204, tag="call-groups")
async def delete_group(req: Req) -> None:
    """Remove a call group (refused while a route or another group sends calls to it)."""
    await req.services.callgroups.delete(req.me, req.params["domain"], req.params["name"])
