"""Schema building blocks shared by features."""
from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ..errors import ValidationFailed

T = TypeVar("T")


def _refuse_null(value: T) -> T:
    if value is None:
        raise ValueError("may not be null (leave the field out to keep it as it is)")
    return value


def _not_nullable(schema: dict[str, object]) -> None:
    """The field's schema without its null branch: what the server accepts."""
    branches = schema.pop("anyOf", None)
    if isinstance(branches, list):
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == 1 and isinstance(kept[0], dict):
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    if schema.get("default", 0) is None:
        del schema["default"]


# An optional field of an update body that may be left out but not set to
# null: ``name: NotNull[Name] = None``. Validation refuses null (422 naming the
# field) and the OpenAPI schema says so, so the document and the server agree;
# a field that may be cleared is declared ``X | None`` instead.
NotNull = Annotated[T | None, AfterValidator(_refuse_null), Field(json_schema_extra=_not_nullable)]

# Characters that would let a value break out of an Asterisk config line.
CONF_SAFE = r"^[^\r\n;\[\]]*$"

Name = Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True, pattern=CONF_SAFE)]
Slug = Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]


class Input(BaseModel):
    """Request bodies: unknown fields and type coercion are refused."""
    model_config = ConfigDict(extra="forbid", strict=True)


# The largest offset a list accepts: far beyond any real list, well inside the
# 64-bit integers SQLite and PostgreSQL take (2**63 used to be a 500).
MAX_OFFSET = 2**31 - 1
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
# A stored row's id: a positive signed 64-bit integer.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=500)
    offset: Offset = 0


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
