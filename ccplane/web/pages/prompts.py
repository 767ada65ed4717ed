"""/admin/prompts: the domain's uploaded prompts (upload a WAV or MP3, listen, delete).

The upload is streamed to the prompt service as the API's is (a prompt may be
20 MB, far above the pages' form limit): the form's first field is its CSRF
token, checked before the file is read. A prompt an IVR plays is not deleted:
the page shows the API's 409 naming the nodes."""
from __future__ import annotations

import hmac
from typing import Any

from aiohttp import BodyPartReader, web

from ...errors import ApiError
from ...features.ivr.http import send_wav
from ...features.ivr.prompts import MAX_UPLOAD
from ...web.body import open_multipart
from ..keys import SERVICES
from . import LANG, SESSION, Session, _lang, drain, load_session, render, too_large_message
from .i18n import translator
from .admin import MANAGERS, page
from .field_errors import api_errors, localize

UPLOAD_ACCEPT = ".wav,.mp3,audio/wav,audio/x-wav,audio/mpeg"
IN_USE = "O áudio {name} é tocado por nós de URA ({nodes}): altere esses nós antes de excluí-lo."


async def _list(request: web.Request, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                status: int = 200) -> web.Response:
    session: Session = request[SESSION]
    items = await request.app[SERVICES].prompts.details(session.principal, session.domain or "")
    return render(request, "admin_prompts.html", status=status, items=items, errors=errors or {},
                  values=values or {}, saved=request.query.get("saved"), deleted=request.query.get("deleted"),
                  accept=UPLOAD_ACCEPT)


@page(MANAGERS)
async def prompts(request: web.Request) -> web.StreamResponse:
    return await _list(request)


async def upload(request: web.Request) -> web.StreamResponse:
    """The multipart form: ``csrf`` first, then ``name`` and ``file`` (the service reads those)."""
    request[LANG] = _lang(request)
    session = await load_session(request)
    if session is None:
        raise web.HTTPFound("/login?next=/admin/prompts")
    request[SESSION] = session
    if session.role not in MANAGERS:
        return render(request, "error.html", status=403, message="forbidden")
    try:
        reader = await open_multipart(request, "fields 'csrf', 'name' and 'file'")
        part = await reader.next()
        sent = (await part.text()).strip() if isinstance(part, BodyPartReader) and part.name == "csrf" else ""
    except ApiError:
        sent = ""
    if not session.csrf or not hmac.compare_digest(sent, session.csrf):
        raise web.HTTPForbidden(text="CSRF token missing or wrong")
    try:
        name = await request.app[SERVICES].prompts.upload(session.principal, session.domain or "", reader)
    except ApiError as exc:
        if exc.status == 413:  # over the limit: the rest of the file is read and dropped, the limit named
            await drain(request)
            return await _list(request, {"file": too_large_message(request, MAX_UPLOAD)}, {}, 413)
        return await _list(request, api_errors(exc, request), {}, exc.status)
    raise web.HTTPSeeOther(f"/admin/prompts?saved={name}")


@page(MANAGERS)
async def audio(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    path = await request.app[SERVICES].prompts.audio(session.principal, session.domain or "",
                                                     request.match_info["name"])
    return await send_wav(request, path)


@page(MANAGERS)
async def delete(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    name = request.match_info["name"]
    try:
        await request.app[SERVICES].prompts.delete(session.principal, session.domain or "", name)
    except ApiError as exc:
        message = localize(exc, request)
        if exc.status == 409:  # in use: say which nodes in the page's language
            items = await request.app[SERVICES].prompts.details(session.principal, session.domain or "")
            nodes = next((p.used_by for p in items if p.name == name), [])
            if nodes:
                message = translator(request[LANG])(IN_USE).format(name=name, nodes=", ".join(nodes))
        errors: dict[str, Any] = {"__all__": message}
        return await _list(request, errors, {}, exc.status)
    raise web.HTTPSeeOther(f"/admin/prompts?deleted={name}")


@page(MANAGERS)
async def names(request: web.Request) -> web.StreamResponse:
    """The prompt names the IVR editor offers in its prompt fields."""
    session: Session = request[SESSION]
    items = await request.app[SERVICES].prompts.list(session.principal, session.domain or "")
    return web.json_response({"items": items})


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/admin/prompts", prompts)
    r.add_get("/admin/prompts.json", names)
    r.add_post("/admin/prompts/new", upload)
    r.add_get("/admin/prompts/{name}/audio", audio)
    r.add_post("/admin/prompts/{name}/delete", delete)
