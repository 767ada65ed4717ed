from __future__ import annotations

from ...web.routing import Api, Req
from ..common import ListQuery, Page
from ..auth.schemas import ResetToken
from .schemas import UserCreate, UserOut, UserUpdate

api = Api()
BASE = "/domains/{domain}/users"


@api.route("GET", BASE, query=ListQuery, response=Page[UserOut], tag="users")
async def list_users(req: Req) -> Page[UserOut]:
    """The domain's team."""
    rows, total = await req.services.users.list(req.me, req.params["domain"], req.query.limit, req.query.offset)
    return Page[UserOut](items=rows, total=total)


@api.route("POST", BASE, body=UserCreate, response=UserOut, status=201, tag="users")
async def create_user(req: Req) -> UserOut:
    """Add a user to the domain."""
    return await req.services.users.create(req.me, req.params["domain"], req.body)


@api.route("GET", BASE + "/{username}", response=UserOut, tag="users")
async def get_user(req: Req) -> UserOut:
    """One user of the domain."""
    return await req.services.users.get(req.me, req.params["domain"], req.params["username"])


@api.route("PATCH", BASE + "/{username}", body=UserUpdate, response=UserOut, tag="users")
async def update_user(req: Req) -> UserOut:
    """Change name, role, password or active flag (password or deactivation revokes tokens)."""
    return await req.services.users.update(req.me, req.params["domain"], req.params["username"], req.body)


@api.route("DELETE", BASE + "/{username}", status=204, tag="users")
async def delete_user(req: Req) -> None:
    """Remove a user from the domain."""
    await req.services.users.delete(req.me, req.params["domain"], req.params["username"])


@api.route("POST", BASE + "/{username}/reset-token", response=ResetToken, status=201, tag="users")
async def reset_token(req: Req) -> ResetToken:
    """Issue a one-time password reset token (24 h) for the admin to hand over."""
    user = await req.services.users.manageable(req.me, req.params["domain"], req.params["username"])
    token, expires = await req.services.auth.issue_reset(user)
    return ResetToken(reset_token=token, expires_at=expires.isoformat())
