from __future__ import annotations

from ...errors import NotFound
from ...web.routing import Api, Req
from ..common import ListQuery, Page
from .schemas import PersonCreate, PersonOut, PersonUpdate

api = Api()
BASE = "/domains/{domain}/monitored-persons"


def _id(req: Req) -> int:
    raw = req.params["id"]
    if not raw.isdigit():
        raise NotFound(f"monitored person {raw} not found", field="id")
    return int(raw)


@api.route("GET", BASE, query=ListQuery, response=Page[PersonOut], tag="alerts")
async def list_persons(req: Req) -> Page[PersonOut]:
    """Monitored persons of the domain."""
    rows, total = await req.services.persons.list(req.me, req.params["domain"], req.query.limit,
                                                  req.query.offset)
    return Page[PersonOut](items=rows, total=total)


@api.route("POST", BASE, body=PersonCreate, response=PersonOut, status=201, tag="alerts")
async def create_person(req: Req) -> PersonOut:
    """Register a person (CPF digits only, check digits validated; password hashed)."""
    return await req.services.persons.create(req.me, req.params["domain"], req.body)


@api.route("GET", BASE + "/{id}", response=PersonOut, tag="alerts")
async def get_person(req: Req) -> PersonOut:
    """One person."""
    return await req.services.persons.get(req.me, req.params["domain"], _id(req))


@api.route("PATCH", BASE + "/{id}", body=PersonUpdate, response=PersonOut, tag="alerts")
async def update_person(req: Req) -> PersonOut:
    """Change a person (a new CPF or password, or deactivation, logs the app out)."""
    return await req.services.persons.update(req.me, req.params["domain"], _id(req), req.body)


@api.route("DELETE", BASE + "/{id}", status=204, tag="alerts")
async def delete_person(req: Req) -> None:
    """Remove a person."""
    await req.services.persons.delete(req.me, req.params["domain"], _id(req))
