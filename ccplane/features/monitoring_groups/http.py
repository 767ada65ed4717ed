from __future__ import annotations

from ...web.routing import Api, Req
from ..common import ListQuery, Page
from .schemas import GroupCreate, GroupOut, GroupUpdate

api = Api()
BASE = "/domains/{domain}/monitoring-groups"


@api.route("GET", BASE, query=ListQuery, response=Page[GroupOut], tag="monitoring-groups")
async def list_monitoring_groups(req: Req) -> Page[GroupOut]:
    """The domain's monitoring groups: the queues each covers and its members."""
    rows, total = await req.services.monitoring_groups.list(req.me, req.params["domain"], req.query.limit,
                                                            req.query.offset)
    return Page[GroupOut](items=rows, total=total)


@api.route("POST", BASE, body=GroupCreate, response=GroupOut, status=201, tag="monitoring-groups")
async def create_monitoring_group(req: Req) -> GroupOut:
    """Create a group covering some queues (a queue belongs to one group at most: 409)."""
    return await req.services.monitoring_groups.create(req.me, req.params["domain"], req.body)


@api.route("GET", BASE + "/{name}", response=GroupOut, tag="monitoring-groups")
async def get_monitoring_group(req: Req) -> GroupOut:
    """One monitoring group."""
    return await req.services.monitoring_groups.get(req.me, req.params["domain"], req.params["name"])


@api.route("PATCH", BASE + "/{name}", body=GroupUpdate, response=GroupOut, tag="monitoring-groups")
async def update_monitoring_group(req: Req) -> GroupOut:
    """Rename a group (its queues follow) or replace the queues it covers."""
    return await req.services.monitoring_groups.update(req.me, req.params["domain"], req.params["name"], req.body)


@api.route("DELETE", BASE + "/{name}", status=204, tag="monitoring-groups")
async def delete_monitoring_group(req: Req) -> None:
    """Delete a group: its queues are covered by no group, its members leave it."""
    await req.services.monitoring_groups.delete(req.me, req.params["domain"], req.params["name"])
