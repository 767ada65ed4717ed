from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from ..common import Input


class TokenRequest(Input):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class RefreshRequest(Input):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str


class ResetRequest(Input):
    reset_token: Annotated[str, StringConstraints(min_length=10, max_length=200)]
    new_password: Annotated[str, StringConstraints(min_length=8, max_length=128)]


class PasswordChange(Input):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    new_password: Annotated[str, StringConstraints(min_length=8, max_length=128)]


class ResetToken(BaseModel):
    reset_token: str
    expires_at: str
