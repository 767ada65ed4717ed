"""Authentication for the API: a bearer token, or the pages' session cookie.

The pages' JavaScript (the agent screen's transfer and qualification controls)
calls the API paths themselves with the session cookie. It must send the
session's CSRF token in ``X-CSRF-Token``: a header another site's page cannot
set without a CORS preflight this API never grants, so a cookie alone is never
enough.
"""
from __future__ import annotations

import hmac

from aiohttp import web

from ..errors import Unauthorized
from .context import Principal
from .keys import SERVICES

MISSING = "missing bearer token (Authorization: Bearer <access_token>)"


async def authenticate(request: web.Request) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header and request.headers.get("X-CSRF-Token"):
        return await _page_session(request)
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(MISSING)
    return await request.app[SERVICES].auth.principal(token.strip())


async def _page_session(request: web.Request) -> Principal:
    from .pages import load_session
    session = await load_session(request)
    sent = request.headers.get("X-CSRF-Token", "")
    if session is None or not session.csrf or not hmac.compare_digest(sent, session.csrf):
        raise Unauthorized("session cookie missing or expired, or X-CSRF-Token wrong")
    principal: Principal = session.principal
    return principal
