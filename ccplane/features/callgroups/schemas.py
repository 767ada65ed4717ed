from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from ..common import Input, NotNull

GroupName = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Number = Annotated[str, StringConstraints(min_length=2, max_length=10, pattern=r"^[0-9]+$")]
Strategy = Literal["ringall", "sequential"]
RingTimeout = Annotated[int, Field(ge=5, le=300)]
Extensions = Annotated[list[Number], Field(min_length=1, max_length=100)]


class NoAnswer(Input):
    """Where the caller goes when no extension of the group answers."""
    type: Literal["queue", "ivr", "extension", "call_group", "callgroup", "hangup"]
    target: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]*$")] | None = None

    @field_validator("type")
    @classmethod
    def _one_spelling(cls, value: str) -> str:
        return "callgroup" if value == "call_group" else value  # stored as before; shown as API.md spells it

    @model_validator(mode="after")
    def _target_matches_type(self) -> "NoAnswer":
        if self.type == "hangup" and self.target is not None:
            raise ValueError("hangup takes no target")
        if self.type != "hangup" and not self.target:
            raise ValueError(f"{self.type} needs a target")
        return self


class CallGroupCreate(Input):
    name: GroupName
    number: Number
    strategy: Strategy = "ringall"
    extensions: Extensions
    ring_timeout: RingTimeout = 20
    no_answer: NoAnswer = Field(default_factory=lambda: NoAnswer(type="hangup"))


class CallGroupUpdate(Input):
    number: NotNull[Number] = None
    strategy: NotNull[Strategy] = None
    extensions: NotNull[Extensions] = None
    ring_timeout: NotNull[RingTimeout] = None
    no_answer: NotNull[NoAnswer] = None


class CallGroupOut(BaseModel):
    name: str
    number: str
    strategy: str
    extensions: list[str]
    ring_timeout: int
    no_answer: dict[str, str | None]
