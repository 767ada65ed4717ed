from __future__ import annotations

from ...web.routing import Api, Req
from .schemas import PasswordChange, RefreshRequest, ResetRequest, TokenOut, TokenRequest

api = Api()


@api.route("POST", "/auth/token", body=TokenRequest, response=TokenOut, auth=False, tag="auth")
async def issue_token(req: Req) -> TokenOut:
    """Log in with username and password."""
    return await req.services.auth.login(req.body.username, req.body.password, req.request.remote or "")


@api.route("POST", "/auth/refresh", body=RefreshRequest, response=TokenOut, auth=False, tag="auth")
async def refresh_token(req: Req) -> TokenOut:
    """Renew an access token with a refresh token."""
    return await req.services.auth.refresh(req.body.refresh_token)


@api.route("POST", "/auth/reset", body=ResetRequest, status=204, auth=False, tag="auth")
async def reset_password(req: Req) -> None:
    """Set a new password with the one-time token an admin handed over (revokes all tokens)."""
    await req.services.auth.reset(req.body.reset_token, req.body.new_password)


@api.route("POST", "/auth/password", body=PasswordChange, status=204, tag="auth")
async def change_password(req: Req) -> None:
    """Change your own password (revokes your other tokens too)."""
    await req.services.auth.change_password(req.me.user_id, req.body.current_password, req.body.new_password)
