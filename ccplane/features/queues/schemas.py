from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from ..common import ConfText, Input, NotNull, NotReserved

QueueName = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]*$"), NotReserved]
Strategy = Literal["ringall", "linear", "rrmemory", "leastrecent", "fewestcalls", "random"]
Number = Annotated[str, StringConstraints(min_length=2, max_length=10, pattern=r"^[0-9]+$")]
# the key a caller waiting in the queue presses to leave a callback (one DTMF key)
CallbackKey = Annotated[str, StringConstraints(pattern=r"^[0-9*#]$")]
Seconds = Annotated[int, Field(ge=0, le=86400)]
GroupName = Annotated[ConfText, StringConstraints(min_length=1, max_length=64), NotReserved]
Disposition = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Dispositions = Annotated[list[Disposition], Field(max_length=200)]
TransferFail = Literal["queue", "agent"]


class Overflow(Input):
    """Where a caller goes when the queue times out (max_wait), is full, or has no agents."""
    type: Literal["queue", "extension", "hangup"]
    target: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]*$")] | None = None

    @model_validator(mode="after")
    def _target_matches_type(self) -> "Overflow":
        if self.type == "hangup" and self.target is not None:
            raise ValueError("hangup takes no target")
        if self.type != "hangup" and not self.target:
            raise ValueError(f"{self.type} needs a target")
        return self


class QueueFields(Input):
    strategy: Strategy = "ringall"
    ring_timeout: Annotated[int, Field(ge=1, le=600)] = 15
    # retry=0 stalls re-offers on Asterisk 22 (a linear queue never came back to
    # its first agent, seen here), so one second is the floor.
    retry: Annotated[int, Field(ge=1, le=600)] = 5
    wrapup_time: Annotated[int, Field(ge=0, le=3600)] = 0
    max_no_answer: Annotated[int, Field(ge=0, le=100)] = 0
    call_timeout: Seconds = 0
    reject_delay: Annotated[int, Field(ge=0, le=3600)] = 0
    busy_delay: Annotated[int, Field(ge=0, le=3600)] | None = None
    noanswer_delay: Annotated[int, Field(ge=0, le=3600)] = 0
    max_wait: Seconds = 0
    max_len: Annotated[int, Field(ge=0, le=10000)] = 0
    join_empty: bool = True
    leave_empty: bool = False
    record: bool = False
    monitoring_group: GroupName | None = None
    overflow: Overflow = Field(default_factory=lambda: Overflow(type="hangup"))
    # what an agent may qualify this queue's attendances with
    dispositions: Dispositions = Field(default_factory=list)
    # a blind transfer that fails (no answer, busy, unavailable) gives the caller back to
    # this queue ("queue") or to the agent who transferred ("agent")
    transfer_fail: TransferFail = "queue"
    extensions: Annotated[list[Number], Field(max_length=500)] = Field(default_factory=list)
    callback_key: CallbackKey | None = None
    callback_retries: Annotated[int, Field(ge=0, le=10)] = 2
    callback_retry_delay: Annotated[int, Field(ge=5, le=86400)] = 120
    callback_expiry: Annotated[int, Field(ge=60, le=86400)] = 3600


class QueueCreate(QueueFields):
    name: QueueName


class QueueUpdate(Input):
    strategy: NotNull[Strategy] = None
    ring_timeout: NotNull[Annotated[int, Field(ge=1, le=600)]] = None
    retry: NotNull[Annotated[int, Field(ge=1, le=600)]] = None
    wrapup_time: NotNull[Annotated[int, Field(ge=0, le=3600)]] = None
    max_no_answer: NotNull[Annotated[int, Field(ge=0, le=100)]] = None
    call_timeout: NotNull[Seconds] = None
    reject_delay: NotNull[Annotated[int, Field(ge=0, le=3600)]] = None
    busy_delay: Annotated[int, Field(ge=0, le=3600)] | None = None
    noanswer_delay: NotNull[Annotated[int, Field(ge=0, le=3600)]] = None
    max_wait: NotNull[Seconds] = None
    max_len: NotNull[Annotated[int, Field(ge=0, le=10000)]] = None
    join_empty: NotNull[bool] = None
    leave_empty: NotNull[bool] = None
    record: NotNull[bool] = None
    monitoring_group: GroupName | None = None
    overflow: NotNull[Overflow] = None
    dispositions: NotNull[Dispositions] = None
    transfer_fail: NotNull[TransferFail] = None
    extensions: NotNull[Annotated[list[Number], Field(max_length=500)]] = None
    callback_key: CallbackKey | None = None
    callback_retries: NotNull[Annotated[int, Field(ge=0, le=10)]] = None
    callback_retry_delay: NotNull[Annotated[int, Field(ge=5, le=86400)]] = None
    callback_expiry: NotNull[Annotated[int, Field(ge=60, le=86400)]] = None


class QueueOut(BaseModel):
    name: str
    asterisk_name: str
    strategy: str
    ring_timeout: int
    retry: int
    wrapup_time: int
    max_no_answer: int
    call_timeout: int
    reject_delay: int
    busy_delay: int | None
    noanswer_delay: int
    max_wait: int
    max_len: int
    join_empty: bool
    leave_empty: bool
    record: bool
    monitoring_group: str | None
    overflow: dict[str, str | None]
    dispositions: list[str]
    transfer_fail: str
    extensions: list[str]
    dial_context: str
    callback_key: str | None = None
    callback_retries: int = 2
    callback_retry_delay: int = 120
    callback_expiry: int = 3600
