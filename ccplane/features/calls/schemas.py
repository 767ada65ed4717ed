from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..common import Offset, QueryTime


class CallQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["active", "ended"] = "active"
    from_: QueryTime | None = Field(None, alias="from")
    to: QueryTime | None = None
    queue: str | None = Field(None, max_length=64)
    agent: str | None = Field(None, max_length=64)
    limit: int = Field(50, ge=1, le=500)
    offset: Offset = 0


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["blind", "attended"]
    # an extension number, a queue name, or a number an outbound route takes
    to: str = Field(min_length=1, max_length=32, pattern=r"^[0-9a-z][0-9a-z-]*$")


class TransferOut(BaseModel):
    call: str
    mode: str
    to: str | None
    state: str  # requested (blind) | consulting | completing | cancelling


class LegOut(BaseModel):
    kind: str
    agent: str | None
    extension: str | None
    queue: str | None
    number: str | None
    started_at: str | None
    answered_at: str | None
    ended_at: str | None
    result: str | None
    detail: str | None


class CallOut(BaseModel):
    id: str
    protocol: str | None
    caller: str | None
    caller_name: str | None
    queue: str | None
    agent: str | None
    state: str
    direction: str
    did: str | None
    started_at: str | None
    answered_at: str | None
    ended_at: str | None
    ended_reason: str | None
    alert: int | None
    wait_time: float | None
    talk_time: float | None


class CallDetail(CallOut):
    legs: list[LegOut]
    protocols: list[str]
    recordings: list[str]


class CallPage(BaseModel):
    items: list[CallOut]
    total: int
