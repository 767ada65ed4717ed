from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..common import Input, Offset, QueryTime, Timestamp

Filter = Annotated[str, Field(min_length=1, max_length=64)]


class RecordingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    call: Filter | None = None
    protocol: Filter | None = None
    agent: Filter | None = None
    queue: Filter | None = None
    from_: QueryTime | None = Field(None, alias="from")
    to: QueryTime | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: Offset = 0


class RecordingOut(BaseModel):
    id: int
    call: str
    protocol: str | None
    agent: str | None
    queue: str | None
    # attendance (a queue call from the agent's answer), consultation (the agents'
    # talk during an attended transfer), internal, outbound
    kind: Literal["attendance", "consultation", "internal", "outbound"]
    # recording: Asterisk is still writing it; ready: kept and playable;
    # missing: finished, but its file is gone from the store
    status: Literal["recording", "ready", "missing"]
    started_at: Timestamp
    ended_at: Timestamp | None
    duration: float | None
    size: int | None


class RecordingPage(BaseModel):
    items: list[RecordingOut]
    total: int


class RecordingPolicyIn(Input):
    # Days a recording is kept; null keeps them for good.
    retention_days: Annotated[int, Field(ge=1, le=36500)] | None


class RecordingPolicyOut(BaseModel):
    retention_days: int | None
