from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from ..common import Input, NotNull, PlainText, QueryTime, Timestamp

QueueName = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Username = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Number = Annotated[str, StringConstraints(min_length=8, max_length=30)]


def _iso_with_offset(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("must be an ISO-8601 date-time with its offset, e.g. 2026-12-01T14:30:00-03:00")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs its offset (e.g. -03:00 or Z): a callback's time is never ambiguous")
    return value


# A moment given in a body: ISO-8601 text with an offset.
At = Annotated[datetime, Field(strict=False), BeforeValidator(_iso_with_offset), AfterValidator(_aware)]


class CallbackCreate(Input):
    number: Number
    at: At
    queue: QueueName | None = None
    agent: Username | None = None
    note: Annotated[PlainText, StringConstraints(max_length=500)] = ""
    offline_to_queue: bool = True


class CallbackReschedule(Input):
    at: At
    number: NotNull[Number] = None
    note: NotNull[Annotated[PlainText, StringConstraints(max_length=500)]] = None


class CallbackOut(BaseModel):
    id: int
    kind: Literal["scheduled", "in_queue"]
    number: str
    at: Timestamp
    queue: str | None
    agent: str | None
    note: str
    offline_to_queue: bool
    status: str
    outcome: str | None
    attempts: int
    started_at: Timestamp | None
    delay: float | None
    agent_answered_at: Timestamp | None
    customer_answered_at: Timestamp | None = None
    ended_at: Timestamp | None
    routed_to: str | None
    call: str | None
    created_by: str | None
    position: int | None = None  # in_queue: the caller's place when it asked (kept in the queue)
    expires_at: Timestamp | None = None  # in_queue: given up after this


class CallbackQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=2**31 - 1)
    status: Literal["scheduled", "calling_agent", "calling_customer", "completed", "failed", "cancelled"] | None = None
    kind: Literal["scheduled", "in_queue"] | None = None
    queue: QueueName | None = None
    agent: Username | None = None
    # on the callback's time (``at``): from <= at < to
    from_: QueryTime | None = Field(None, alias="from")
    to: QueryTime | None = None
