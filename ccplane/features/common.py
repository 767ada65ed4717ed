"""Schema building blocks shared by features."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from ..errors import ValidationFailed

T = TypeVar("T")


def _refuse_null(value: T) -> T:
    if value is None:
        raise ValueError("may not be null (leave the field out to keep it as it is)")
    return value


def not_nullable(schema: dict[str, object]) -> None:
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
NotNull = Annotated[T | None, AfterValidator(_refuse_null), Field(json_schema_extra=not_nullable)]

# Characters refused in any text rendered into Asterisk's configuration: the
# line and section syntax (; [ ] CR LF), every control character (C0, DEL, C1:
# a raw NUL or vertical tab used to land in pjsip.conf), and the invisible
# format characters (bidi overrides such as U+202E, zero-width characters,
# U+2028/U+2029 line and paragraph separators) that make a name read
# differently from what Asterisk gets. Written as \xNN/\uNNNN so the one
# pattern means the same to pydantic, Python and the OpenAPI document.
CONTROL_CHARS = (r"\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f"
                 r"\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb")
CONF_UNSAFE = CONTROL_CHARS + r";\[\]"
CONF_SAFE = rf"^[^{CONF_UNSAFE}]*$"

# The one type for free text that reaches Asterisk's configuration; narrow it
# with a length: ``Annotated[ConfText, StringConstraints(max_length=64)]``.
ConfText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=CONF_SAFE)]
Name = Annotated[ConfText, StringConstraints(min_length=1, max_length=120)]
# Free text kept and shown but never written into a configuration file: only
# the control and format characters are refused.
PlainText = Annotated[str, StringConstraints(pattern=rf"^[^{CONTROL_CHARS}]*$")]
Slug = Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]


def _with_offset(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def iso(value: datetime | None) -> str | None:
    """A stored time as ISO-8601 with its offset, or None."""
    v = as_utc(value)
    return v.isoformat() if v else None


def _iso_text(value: object) -> object:
    """A time in a query is ISO-8601 text (a bare number is not a time here)."""
    if isinstance(value, str) and value and not value.lstrip("+-").replace(".", "", 1).isdigit():
        return value
    if isinstance(value, datetime):
        return value
    raise ValueError("must be an ISO-8601 date-time, e.g. 2026-12-01T08:00:00-03:00")


# A time given in a query (from/to): ISO-8601; without an offset it is UTC.
QueryTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_with_offset)]

# A time in a response: always ISO-8601 with its offset (API.md), whichever
# database it was read from.
Timestamp = Annotated[datetime, AfterValidator(_with_offset)]


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


def window(rows: list[T], query: ListQuery) -> list[T]:
    """One page of a list held whole (a domain's configuration: routes, trunks, IVRs...).

    >>> window(list(range(7)), ListQuery(limit=3, offset=5))
    [5, 6]
    """
    return rows[query.offset:query.offset + query.limit]


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


DEFAULT_ZONE = "America/Sao_Paulo"


def _zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value[:64]!r} is not a time zone (an IANA name, e.g. America/Sao_Paulo, "
                         "America/Manaus)") from None
    return value


TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_zone)]


# "new" names the page that creates one (/admin/queues/new, /admin/users/new, ...):
# an object of that name could never be opened from the pages.
RESERVED_NAMES = frozenset({"new"})


def _not_reserved(value: str) -> str:
    if value.lower() in RESERVED_NAMES:
        raise ValueError(f"{value!r} is reserved (it is the address of the page that creates one)")
    return value


NotReserved = AfterValidator(_not_reserved)
