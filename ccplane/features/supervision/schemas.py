from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ..common import Input

ExtensionNumber = Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=r"^[0-9]+$")]
QueueName = Annotated[str, StringConstraints(max_length=64, pattern=r"^([a-z0-9][a-z0-9-]*)?$")]


class SpyIn(Input):
    mode: Literal["listen", "whisper", "barge"]
    extension: ExtensionNumber = Field(description="the supervisor's extension: it rings, and on answer hears the call")


class SpyOut(BaseModel):
    call: str
    mode: str
    extension: str
    agent: str
    spy_channel: str = Field(description="id of the channel ccplane originated to the extension")
    options: str = Field(description="ChanSpy's options for the mode (q, w for whisper, B for barge)")


class ThresholdIn(Input):
    queue: QueueName = Field("", description="a queue of the domain, or empty: every queue without its own")
    figure: Literal["longest_wait", "service_level", "waiting"]
    yellow: Annotated[float, Field(ge=0, le=86400)]
    red: Annotated[float, Field(ge=0, le=86400)]


class ThresholdsIn(Input):
    items: Annotated[list[ThresholdIn], Field(max_length=600)]


class ThresholdOut(BaseModel):
    queue: str
    figure: str
    yellow: float
    red: float


class ThresholdList(BaseModel):
    items: list[ThresholdOut]
    total: int
