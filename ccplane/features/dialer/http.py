from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web

from ...errors import BadRequest, PayloadTooLarge
from ...web.body import open_multipart, read_body
from ...web.routing import Api, Req, path_id
from ..common import ListQuery, Page, window
from .domain import csv_rows
from .schemas import (CampaignCreate, CampaignOut, CampaignUpdate, ContactOut, ContactQuery, ContactsIn, ImportOut,
                      NumberIn, NumberOut)

api = Api()
BASE = "/domains/{domain}/campaigns"
DNC = "/domains/{domain}/do-not-call"
MAX_CSV = 4 * 1024 * 1024


def _id(req: Req) -> int:
    return path_id(req, "id", "campaign")


@api.route("GET", BASE, query=ListQuery, response=Page[CampaignOut], tag="campaigns")
async def list_campaigns(req: Req) -> Page[CampaignOut]:
    """Outbound campaigns with their progress counts."""
    rows, total = await req.services.campaigns.list(req.me, req.params["domain"], req.query.limit, req.query.offset)
    return Page[CampaignOut](items=rows, total=total)


@api.route("POST", BASE, body=CampaignCreate, response=CampaignOut, status=201, tag="campaigns")
async def create_campaign(req: Req) -> CampaignOut:
    """A campaign (draft): its queue, calling hours per weekday, attempts and retry interval."""
    return await req.services.campaigns.create(req.me, req.params["domain"], req.body)


@api.route("GET", BASE + "/{id}", response=CampaignOut, tag="campaigns")
async def get_campaign(req: Req) -> CampaignOut:
    """One campaign with its progress counts per contact status."""
    return await req.services.campaigns.get(req.me, req.params["domain"], _id(req))


@api.route("PATCH", BASE + "/{id}", body=CampaignUpdate, response=CampaignOut, tag="campaigns")
async def update_campaign(req: Req) -> CampaignOut:
    """Change a campaign (also while it runs: hours, attempts, pacing)."""
    return await req.services.campaigns.update(req.me, req.params["domain"], _id(req), req.body)


@api.route("DELETE", BASE + "/{id}", status=204, tag="campaigns")
async def delete_campaign(req: Req) -> None:
    """Delete a campaign that is not running, with its contacts."""
    await req.services.campaigns.delete(req.me, req.params["domain"], _id(req))


def _action(name: str) -> Any:
    async def act(req: Req) -> CampaignOut:
        return await req.services.campaigns.act(req.me, req.params["domain"], _id(req), name)
    act.__name__ = f"{name}_campaign"
    act.__doc__ = {"start": "Start dialling (409 unless draft, stopped or finished).",
                   "pause": "Pause: no new calls; calls in progress go on.",
                   "resume": "Resume a paused campaign.",
                   "stop": "Stop: no new calls; start again later from where it stopped."}[name]
    return act


for _name in ("start", "pause", "resume", "stop"):
    api.route("POST", BASE + "/{id}/" + _name, response=CampaignOut, tag="campaigns")(_action(_name))


async def _csv_upload(request: web.Request) -> bytes:
    """The CSV file of a multipart/form-data upload (its first file part, at most MAX_CSV bytes)."""
    reader = await open_multipart(request, "a CSV file part (e.g. 'file')")
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.filename is not None:
            raw = bytearray()
            while chunk := await part.read_chunk():
                raw += chunk
                if len(raw) > MAX_CSV:
                    raise PayloadTooLarge(f"the CSV file is larger than {MAX_CSV} bytes")
            return bytes(raw)
    raise BadRequest("the upload has no file: send the CSV as a file part (e.g. 'file')", field="file")


@api.route("POST", BASE + "/{id}/contacts", body=ContactsIn, response=ImportOut, status=201, tag="campaigns",
           accepts=("text/csv", "multipart/form-data"))
async def import_contacts(req: Req) -> ImportOut:
    """Contacts as a JSON list of {number, name, data}, or a CSV (header: number/numero/telefone, name/nome,
    other columns as data) sent as the body (text/csv) or uploaded as a file (multipart/form-data). Every
    row is validated (Brazilian numbers); any bad row refuses all (422)."""
    if req.body is None:  # text/csv or a file upload
        multipart = req.request.headers.get("Content-Type", "").lower().startswith("multipart/")
        raw = await (_csv_upload(req.request) if multipart else read_body(req.request, MAX_CSV))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the CSV must be UTF-8 text") from None
        rows, problem = csv_rows(text)
        if problem:
            raise BadRequest(problem, field="contacts")
        return await req.services.campaigns.import_contacts(req.me, req.params["domain"], _id(req), rows,
                                                           first_row=2)
    return await req.services.campaigns.import_contacts(req.me, req.params["domain"], _id(req), req.body.root)


@api.route("GET", BASE + "/{id}/contacts", query=ContactQuery, response=Page[ContactOut], tag="campaigns")
async def list_contacts(req: Req) -> Page[ContactOut]:
    """A campaign's contacts with status, attempts, last result (skips say why)."""
    rows, total = await req.services.campaigns.contacts(req.me, req.params["domain"], _id(req), req.query.limit,
                                                        req.query.offset, req.query.status)
    return Page[ContactOut](items=rows, total=total)


@api.route("GET", BASE + "/{id}/blacklist", response=Page[NumberOut], tag="campaigns")
async def list_campaign_blacklist(req: Req) -> Page[NumberOut]:
    """Numbers this campaign never dials (all of them: a campaign's list is short)."""
    rows = await req.services.campaigns.blacklist(req.me, req.params["domain"], _id(req))
    return Page[NumberOut](items=rows, total=len(rows))


@api.route("POST", BASE + "/{id}/blacklist", body=NumberIn, response=NumberOut, status=201, tag="campaigns")
async def add_campaign_blacklist(req: Req) -> NumberOut:
    """Never dial this number in this campaign (checked before every dial, also while it runs)."""
    return await req.services.campaigns.block(req.me, req.params["domain"], _id(req), req.body)


@api.route("DELETE", BASE + "/{id}/blacklist/{number}", status=204, tag="campaigns")
async def remove_campaign_blacklist(req: Req) -> None:
    """Allow this number again in this campaign."""
    await req.services.campaigns.unblock(req.me, req.params["domain"], _id(req), req.params["number"])


@api.route("GET", DNC, query=ListQuery, response=Page[NumberOut], tag="campaigns")
async def list_do_not_call(req: Req) -> Page[NumberOut]:
    """The domain's do-not-call list: no campaign dials these numbers."""
    rows = await req.services.campaigns.blacklist(req.me, req.params["domain"], None)
    return Page[NumberOut](items=window(rows, req.query), total=len(rows))


@api.route("POST", DNC, body=NumberIn, response=NumberOut, status=201, tag="campaigns")
async def add_do_not_call(req: Req) -> NumberOut:
    """The customer asked not to be called: no campaign of the domain dials this number."""
    return await req.services.campaigns.block(req.me, req.params["domain"], None, req.body)


@api.route("DELETE", DNC + "/{number}", status=204, tag="campaigns")
async def remove_do_not_call(req: Req) -> None:
    """Remove a number from the do-not-call list."""
    await req.services.campaigns.unblock(req.me, req.params["domain"], None, req.params["number"])
