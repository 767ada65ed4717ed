from __future__ import annotations

from aiohttp import web

from ...web.body import open_multipart
from ...web.routing import Api, Req, path_id
from ..common import ListQuery, Page
from .schemas import PersonCreate, PersonOut, PersonUpdate

api = Api()
BASE = "/domains/{domain}/monitored-persons"


def _id(req: Req) -> int:
    return path_id(req, "id", "monitored person")


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


def _aid(req: Req) -> int:
    return path_id(req, "aid", "attachment")


def _attachment_view(row: object) -> dict[str, object]:
    return {"id": row.id, "filename": row.filename, "content_type": row.content_type,  # type: ignore[attr-defined]
            "size": row.size, "sha256": row.sha256}  # type: ignore[attr-defined]


@api.route("GET", BASE + "/{id}/attachments", tag="alerts")
async def list_attachments(req: Req) -> list[dict[str, object]]:
    """A person's attachments (at most 5)."""
    rows = await req.services.attachments.list(req.me, req.params["domain"], _id(req))
    return [_attachment_view(r) for r in rows]


@api.route("POST", BASE + "/{id}/attachments", status=201, tag="alerts", upload=("file",))
async def upload_attachment(req: Req) -> dict[str, object]:
    """Upload one file (multipart field 'file'); 409 beyond 5, 413 beyond 64 MB; streamed to disk."""
    reader = await open_multipart(req.request, "a 'file' field")
    row = await req.services.attachments.upload(req.me, req.params["domain"], _id(req), reader,
                                                req.request.content_length)
    return _attachment_view(row)


@api.route("GET", BASE + "/{id}/attachments/{aid}", tag="alerts")
async def download_attachment(req: Req) -> web.StreamResponse:
    """Download an attachment (sniffed content type)."""
    row, path = await req.services.attachments.open(req.me, req.params["domain"], _id(req), _aid(req))
    return web.FileResponse(path, headers={"Content-Type": row.content_type,
                                           "Content-Disposition": f'attachment; filename="{row.filename}"'})


@api.route("DELETE", BASE + "/{id}/attachments/{aid}", status=204, tag="alerts")
async def delete_attachment(req: Req) -> None:
    """Delete an attachment."""
    await req.services.attachments.delete(req.me, req.params["domain"], _id(req), _aid(req))
