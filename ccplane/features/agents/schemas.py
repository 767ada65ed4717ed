from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..common import CONF_UNSAFE, Input, Timestamp

QueueName = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Number = Annotated[str, StringConstraints(min_length=2, max_length=10, pattern=r"^[0-9]+$")]


class LoginRequest(Input):
    queues: Annotated[list[QueueName], Field(min_length=1, max_length=50)]
    extension: Number


class PauseRequest(Input):
    # queue_log's fields are |-separated: no | either
    reason: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=rf"^[^{CONF_UNSAFE}|]+$")]


class QueuesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    queues: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class AvailableExtension(BaseModel):
    number: str
    name: str
    sip_username: str


class AvailableExtensions(BaseModel):
    items: list[AvailableExtension]


class AgentOut(BaseModel):
    username: str
    name: str
    state: str
    pause_reason: str | None
    paused_since: Timestamp | None
    wrapup_left: float | None
    queues: list[str]
    extension: str | None
    missed_in_a_row: int
    logged_in_at: Timestamp | None


class QueueCallOut(BaseModel):
    caller_number: str | None
    agent: str | None
    queue: str | None
    answered_at: Timestamp
    ended_at: Timestamp
    talk_seconds: float
    end_reason: str
