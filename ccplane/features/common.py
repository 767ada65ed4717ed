"""Schema building blocks shared by features."""
from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..errors import ValidationFailed

T = TypeVar("T")

# Characters that would let a value break out of an Asterisk config line.
CONF_SAFE = r"^[^\r\n;\[\]]*$"

Name = Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True, pattern=CONF_SAFE)]
Slug = Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]


class Input(BaseModel):
    """Request bodies: unknown fields and type coercion are refused."""
    model_config = ConfigDict(extra="forbid", strict=True)


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


def changes_of(body: BaseModel, nullable: tuple[str, ...] = ()) -> dict[str, object]:
    """The fields a PATCH body sets; an explicit null is refused unless the field may be cleared."""
    changes = body.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if value is None and key not in nullable:
            raise ValidationFailed(f"{key} may not be null", field=key)
    return changes
