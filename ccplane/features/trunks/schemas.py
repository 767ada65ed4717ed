from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ..common import Input, NotNull

TrunkName = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Host = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.-]+$")]
Cred = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._~!@#%^*+=-]+$")]
# Asterisk extension patterns: digits, X N Z, [ranges], . ! and a leading _ / +
Pattern = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^_?\+?[0-9XNZxnz\[\]\-.!*#]+$")]



def _address_or_network(value: str) -> str:
    """An IPv4/IPv6 address or network (CIDR), in its canonical text form."""
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError("an IP address or network (CIDR), e.g. 200.1.2.0/24") from None
    return str(net.network_address) if net.num_addresses == 1 else str(net)


SourceMatch = Annotated[str, StringConstraints(min_length=2, max_length=64), AfterValidator(_address_or_network)]


class TrunkCreate(Input):
    name: TrunkName
    host: Host
    port: Annotated[int, Field(ge=1, le=65535)] = 5060
    transport: Literal["udp", "tcp"] = "udp"
    username: Cred | None = None
    secret: Cred | None = None
    registration: bool = Field(False, alias="register")  # "register" would shadow BaseModel.register
    caller_id: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{2,20}$")] | None = None
    # where the carrier's calls come from besides its host (its signalling may use other addresses)
    match: Annotated[list[SourceMatch], Field(max_length=20)] = []


class TrunkUpdate(Input):
    """Change a trunk: only the fields sent (its name stays)."""
    host: NotNull[Host] = None
    port: NotNull[Annotated[int, Field(ge=1, le=65535)]] = None
    transport: NotNull[Literal["udp", "tcp"]] = None
    username: Cred | None = None
    secret: Cred | None = None
    registration: NotNull[bool] = Field(None, alias="register")
    caller_id: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{2,20}$")] | None = None
    match: NotNull[Annotated[list[SourceMatch], Field(max_length=20)]] = None


class TrunkOut(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)
    name: str
    host: str
    port: int
    transport: str
    username: str | None
    registration: bool = Field(alias="register")
    caller_id: str | None
    match: list[str]
    endpoint: str
    status: str


class OutboundRouteCreate(Input):
    name: TrunkName
    patterns: Annotated[list[Pattern], Field(min_length=1, max_length=50)]
    trunks: Annotated[list[TrunkName], Field(min_length=1, max_length=10)]
    strip: Annotated[int, Field(ge=0, le=20)] = 0
    prefix: Annotated[str, StringConstraints(max_length=10, pattern=r"^\+?[0-9]*$")] = ""
    # record the calls placed through this route
    record: bool = False


class OutboundRouteUpdate(Input):
    patterns: NotNull[Annotated[list[Pattern], Field(min_length=1, max_length=50)]] = None
    trunks: NotNull[Annotated[list[TrunkName], Field(min_length=1, max_length=10)]] = None
    strip: NotNull[Annotated[int, Field(ge=0, le=20)]] = None
    prefix: NotNull[Annotated[str, StringConstraints(max_length=10, pattern=r"^\+?[0-9]*$")]] = None
    record: NotNull[bool] = None


class OutboundRouteOut(BaseModel):
    name: str
    patterns: list[str]
    trunks: list[str]
    strip: int
    prefix: str
    record: bool = False
