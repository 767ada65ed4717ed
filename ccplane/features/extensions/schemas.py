from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from ..common import Input, Name, NotNull

Number = Annotated[str, StringConstraints(min_length=2, max_length=10, pattern=r"^[0-9]+$")]
Secret = Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9._~!@#%^*+=-]+$")]
Kind = Literal["sip", "webrtc"]


class ExtensionCreate(Input):
    number: Number
    name: Name
    kind: Kind = "sip"
    secret: Secret
    # record the internal and outbound calls it places or receives
    record: bool = False


class ExtensionUpdate(Input):
    name: NotNull[Name] = None
    kind: NotNull[Kind] = None
    secret: NotNull[Secret] = None
    record: NotNull[bool] = None


class ExtensionOut(BaseModel):
    number: str
    name: str
    kind: str
    sip_username: str
    registered: bool
    in_use_by: str | None
    contacts: list[str]
    record: bool = False
