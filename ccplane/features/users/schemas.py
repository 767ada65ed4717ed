from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ..common import Input, Name, NotNull, NotReserved, Password, Timestamp
from ..extensions.schemas import Number as ExtensionNumber
from ..queues.schemas import GroupName

Username = Annotated[str, StringConstraints(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"),
                     NotReserved]
DomainRole = Literal["superuser", "admin", "supervisor", "agent"]
WrapupTime = Annotated[int, Field(ge=0, le=3600)]
# The monitoring groups (features/monitoring_groups) the user belongs to in this domain.
GroupNames = Annotated[list[GroupName], Field(max_length=100)]


class UserCreate(Input):
    username: Username
    name: Name
    role: DomainRole
    password: Password
    active: bool = True
    # Seconds of wrap-up after each queue call; null: the queue's wrapup_time.
    wrapup_time: WrapupTime | None = None
    # A WebRTC extension of this domain the agent always logs in on.
    webrtc_extension: ExtensionNumber | None = None
    monitoring_groups: GroupNames = Field(default_factory=list)


class UserUpdate(Input):
    name: NotNull[Name] = None
    role: NotNull[DomainRole] = None
    password: NotNull[Password] = None
    active: NotNull[bool] = None
    wrapup_time: WrapupTime | None = None
    webrtc_extension: ExtensionNumber | None = None
    monitoring_groups: NotNull[GroupNames] = None


class UserOut(BaseModel):
    username: str
    name: str
    role: str
    active: bool
    domains: list[str]
    wrapup_time: int | None = None
    webrtc_extension: str | None = None
    monitoring_groups: list[str] = Field(default_factory=list)
    created_at: Timestamp
