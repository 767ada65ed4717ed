from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from ..common import Input, Name, Password

Username = Annotated[str, StringConstraints(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")]
DomainRole = Literal["superuser", "admin", "supervisor", "agent"]


class UserCreate(Input):
    username: Username
    name: Name
    role: DomainRole
    password: Password
    active: bool = True


class UserUpdate(Input):
    name: Name | None = None
    role: DomainRole | None = None
    password: Password | None = None
    active: bool | None = None


class UserOut(BaseModel):
    username: str
    name: str
    role: str
    active: bool
    domains: list[str]
    created_at: datetime
