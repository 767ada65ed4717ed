from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ...web.body import open_multipart
from ...web.ranges import send_range
from ...web.routing import Api, Req
from ..common import ListQuery, Page, window
from .schemas import IvrCreate, IvrOut, IvrStepOut, IvrUpdate

api = Api()
BASE = "/domains/{domain}/ivrs"


@api.route("GET", BASE, query=ListQuery, response=Page[IvrOut], tag="ivr")
async def list_ivrs(req: Req) -> Page[IvrOut]:
    """The domain's IVR trees."""
    rows = await req.services.ivrs.list(req.me, req.params["domain"])
    return Page[IvrOut](items=window(rows, req.query), total=len(rows))


@api.route("POST", BASE, body=IvrCreate, response=IvrOut, status=201, tag="ivr")
async def create_ivr(req: Req) -> IvrOut:
    """Save a tree: validated (422 names the node path), then rendered to dialplan."""
    return await req.services.ivrs.create(req.me, req.params["domain"], req.body)


@api.route("GET", BASE + "/{name}", response=IvrOut, tag="ivr")
async def get_ivr(req: Req) -> IvrOut:
    """One tree."""
    return await req.services.ivrs.get(req.me, req.params["domain"], req.params["name"])


@api.route("PUT", BASE + "/{name}", body=IvrUpdate, response=IvrOut, tag="ivr")
async def replace_ivr(req: Req) -> IvrOut:
    """Replace a tree (validated like a new one)."""
    return await req.services.ivrs.update(req.me, req.params["domain"], req.params["name"], req.body)


@api.route("DELETE", BASE + "/{name}", status=204, tag="ivr")
async def delete_ivr(req: Req) -> None:
    """Delete a tree nothing leads to."""
    await req.services.ivrs.delete(req.me, req.params["domain"], req.params["name"])


@api.route("GET", "/domains/{domain}/ivr-paths/{call}", response=list[IvrStepOut], tag="ivr")
async def ivr_path(req: Req) -> list[IvrStepOut]:
    """The path one call took through the IVR (node, digits, time)."""
    return await req.services.ivrs.path(req.me, req.params["domain"], req.params["call"])


@api.route("GET", "/domains/{domain}/prompts", response=list[str], tag="ivr")
async def list_prompts(req: Req) -> list[str]:
    """Names of the prompts uploaded for the domain (use them in trees)."""
    return await req.services.prompts.list(req.me, req.params["domain"])


@api.route("POST", "/domains/{domain}/prompts", status=201, tag="ivr", upload=("file", "name"))
async def upload_prompt(req: Req) -> dict[str, str]:
    """Upload a sound (multipart: name, file): a WAV or an MP3 of at most 20 MB playing 0.1 to
    600 s, converted to 8 kHz mono 16-bit WAV (422 naming the field otherwise)."""
    reader = await open_multipart(req.request, "fields 'name' and 'file'")
    name = await req.services.prompts.upload(req.me, req.params["domain"], reader)
    return {"name": name}


@api.route("GET", "/domains/{domain}/prompts/{name}/audio", tag="ivr", produces=("audio/wav",),
           also=("206", "416"), headers=("Range",))
async def prompt_audio(req: Req) -> web.StreamResponse:
    """The converted prompt (8 kHz mono 16-bit WAV, what Asterisk plays); one HTTP byte
    range (206) so a player can seek; 416 for a range it cannot serve."""
    path = await req.services.prompts.audio(req.me, req.params["domain"], req.params["name"])
    return await send_wav(req.request, path)


async def send_wav(request: web.Request, path: Path) -> web.StreamResponse:
    """A WAV file, whole or one byte range (the admin page's player uses this too)."""
    return await send_range(request, path, "audio/wav", headers={"Cache-Control": "no-cache"})


@api.route("DELETE", "/domains/{domain}/prompts/{name}", status=204, tag="ivr")
async def delete_prompt(req: Req) -> None:
    """Delete an uploaded prompt; 409 naming the IVR nodes while a tree plays it."""
    await req.services.prompts.delete(req.me, req.params["domain"], req.params["name"])
