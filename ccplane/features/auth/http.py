from __future__ import annotations

from ...web.routing import Api, Req
from .schemas import RefreshRequest, TokenOut, TokenRequest

api = Api()


@api.route("POST", "/auth/token", body=TokenRequest, response=TokenOut, auth=False, tag="auth")
async def issue_token(req: Req) -> TokenOut:
    """Log in with username and password."""
    return await req.services.auth.login(req.body.username, req.body.password)


@api.route("POST", "/auth/refresh", body=RefreshRequest, response=TokenOut, auth=False, tag="auth")
async def refresh_token(req: Req) -> TokenOut:
    """Renew an access token with a refresh token."""
    return await req.services.auth.refresh(req.body.refresh_token)
