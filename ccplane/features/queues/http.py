from __future__ import annotations

from ...web.routing import Api, Req
from ..common import ListQuery, Page
from .schemas import QueueCreate, QueueOut, QueueUpdate

api = Api()
BASE = "/domains/{domain}/queues"


@api.route("GET", BASE, query=ListQuery, response=Page[QueueOut], tag="queues")
async def list_queues(req: Req) -> Page[QueueOut]:
    """The domain's queues."""
    rows, total = await req.services.queues.list(req.me, req.params["domain"], req.query.limit, req.query.offset)
    return Page[QueueOut](items=rows, total=total)


@api.route("POST", BASE, body=QueueCreate, response=QueueOut, status=201, tag="queues")
async def create_queue(req: Req) -> QueueOut:
    """Create a queue; rendered into Asterisk before the response."""
    return await req.services.queues.create(req.me, req.params["domain"], req.body)


@api.route("GET", BASE + "/{name}", response=QueueOut, tag="queues")
async def get_queue(req: Req) -> QueueOut:
    """One queue."""
    return await req.services.queues.get(req.me, req.params["domain"], req.params["name"])


@api.route("PATCH", BASE + "/{name}", body=QueueUpdate, response=QueueOut, tag="queues")
async def update_queue(req: Req) -> QueueOut:
    """Change a queue; only queues (and the dialplan when routing changed) are reloaded."""
    return await req.services.queues.update(req.me, req.params["domain"], req.params["name"], req.body)


@api.route("DELETE", BASE + "/{name}", status=204, tag="queues")
async def delete_queue(req: Req) -> None:
    """Delete a queue nobody is logged into."""
    await req.services.queues.delete(req.me, req.params["domain"], req.params["name"])
