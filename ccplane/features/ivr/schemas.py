from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

from ..common import Input

IvrName = Annotated[str, StringConstraints(min_length=1, max_length=24, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class IvrCreate(Input):
    name: IvrName
    root: dict[str, Any]


class IvrUpdate(Input):
    root: dict[str, Any]


class IvrOut(BaseModel):
    name: str
    root: dict[str, Any]
    entry_context: str


class IvrStepOut(BaseModel):
    tree: str
    node: str
    step: str
    digits: str | None
    at: str
