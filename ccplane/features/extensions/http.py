from __future__ import annotations

from ...web.routing import Api, Req
from ..common import ListQuery, Page
from .schemas import ExtensionCreate, ExtensionOut, ExtensionUpdate

api = Api()
BASE = "/domains/{domain}/extensions"


@api.route("GET", BASE, query=ListQuery, response=Page[ExtensionOut], tag="extensions")
async def list_extensions(req: Req) -> Page[ExtensionOut]:
    """The domain's extensions with their live registration."""
    rows, total = await req.services.extensions.list(req.me, req.params["domain"],
                                                     req.query.limit, req.query.offset)
    return Page[ExtensionOut](items=rows, total=total)


@api.route("POST", BASE, body=ExtensionCreate, response=ExtensionOut, status=201, tag="extensions")
async def create_extension(req: Req) -> ExtensionOut:
    """Create an extension; it is rendered into Asterisk before the response."""
    return await req.services.extensions.create(req.me, req.params["domain"], req.body)


@api.route("GET", BASE + "/{number}", response=ExtensionOut, tag="extensions")
async def get_extension(req: Req) -> ExtensionOut:
    """One extension."""
    return await req.services.extensions.get(req.me, req.params["domain"], req.params["number"])


@api.route("PATCH", BASE + "/{number}", body=ExtensionUpdate, response=ExtensionOut, tag="extensions")
async def update_extension(req: Req) -> ExtensionOut:
    """Change name, kind or secret."""
    return await req.services.extensions.update(req.me, req.params["domain"], req.params["number"], req.body)


@api.route("DELETE", BASE + "/{number}", status=204, tag="extensions")
async def delete_extension(req: Req) -> None:
    """Delete an extension; Asterisk forgets the endpoint."""
    await req.services.extensions.delete(req.me, req.params["domain"], req.params["number"])
