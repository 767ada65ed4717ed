from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from ..common import Input, NotNull, PlainText, Timestamp

Did = Annotated[str, StringConstraints(min_length=2, max_length=20, pattern=r"^\+?[0-9]+$")]
Target = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class Destination(Input):
    type: Literal["queue", "ivr", "extension", "call_group", "callgroup", "hangup"]
    target: Target | None = None

    @field_validator("type")
    @classmethod
    def _one_spelling(cls, value: str) -> str:
        return "callgroup" if value == "call_group" else value  # stored as before; shown as API.md spells it

    @model_validator(mode="after")
    def _target_matches_type(self) -> "Destination":
        if self.type == "hangup" and self.target is not None:
            raise ValueError("hangup takes no target")
        if self.type != "hangup" and not self.target:
            raise ValueError(f"{self.type} needs a target")
        return self


class RouteCreate(Input):
    did: Did
    destination: Destination
    reject_delay: Annotated[int, Field(ge=0, le=60)] = 0


class RouteUpdate(Input):
    destination: NotNull[Destination] = None
    reject_delay: NotNull[Annotated[int, Field(ge=0, le=60)]] = None


class RouteOut(BaseModel):
    did: str
    destination: dict[str, str | None]
    reject_delay: int


class BlacklistCreate(Input):
    number: Annotated[str, StringConstraints(min_length=3, max_length=30)]
    reason: Annotated[PlainText, StringConstraints(max_length=200)] = ""


class BlacklistOut(BaseModel):
    number: str
    reason: str
    matches: list[str]


class RejectionOut(BaseModel):
    caller: str
    did: str
    at: Timestamp
