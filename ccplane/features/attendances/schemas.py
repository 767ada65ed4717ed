from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..common import Input, Offset, PlainText, QueryTime


class AttendanceQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_: QueryTime | None = Field(None, alias="from")
    to: QueryTime | None = None
    agent: str | None = Field(None, max_length=64)
    queue: str | None = Field(None, max_length=64)
    protocol: str | None = Field(None, max_length=24)
    call: str | None = Field(None, max_length=64)
    limit: int = Field(50, ge=1, le=500)
    offset: Offset = 0


class Qualification(Input):
    disposition: Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
    description: Annotated[PlainText, StringConstraints(max_length=4000)] | None = None


class AttendanceOut(BaseModel):
    protocol: str
    call: str
    agent: str | None
    queue: str | None
    started_at: str | None
    ended_at: str | None
    talk_time: float | None
    end_reason: str | None
    disposition: str | None
    description: str | None
    qualified_by: str | None
    qualified_at: str | None


class AttendancePage(BaseModel):
    items: list[AttendanceOut]
    total: int
