"""Bearer-token authentication for the API."""
from __future__ import annotations

from aiohttp import web

from ..errors import Unauthorized
from .context import Principal
from .keys import SERVICES


async def authenticate(request: web.Request) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token (Authorization: Bearer <access_token>)")
    return await request.app[SERVICES].auth.principal(token.strip())
