from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints, field_validator

from ..common import Input, Name, NotNull, PlainText, Timestamp
from .domain import check_hours, check_timezone

QueueName = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Window = Annotated[list[Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]],
                   Field(min_length=2, max_length=2)]
Hours = dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], Annotated[list[Window], Field(max_length=8)]]
Timezone = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def _hours(value: dict[str, Any]) -> dict[str, Any]:
    problem = check_hours(value)
    if problem:
        raise ValueError(problem)
    return value


def _tz(value: str | None) -> str | None:
    if value is not None and not check_timezone(value):
        raise ValueError(f"{value!r} is not a time zone (e.g. America/Sao_Paulo)")
    return value


class CampaignCreate(Input):
    name: Name
    queue: QueueName
    calling_hours: Hours = Field(default_factory=dict)
    timezone: Timezone = "America/Sao_Paulo"
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    retry_interval: Annotated[int, Field(ge=1, le=7 * 86400)] = 600
    ratio: Annotated[float, Field(ge=1.0, le=3.0, strict=False)] = 1.0
    # API.md's `contacts` on a new campaign: its first contacts ({number, name, data}), checked
    # row by row like POST …/contacts; any bad row refuses the campaign too (read back as a count)
    contacts: Annotated[list[dict[str, Any]], Field(max_length=10_000)] | None = None

    @field_validator("calling_hours")
    @classmethod
    def _check_hours(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _hours(value)

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str | None:
        return _tz(value)


class CampaignUpdate(Input):
    name: NotNull[Name] = None
    queue: NotNull[QueueName] = None
    calling_hours: NotNull[Hours] = None
    timezone: NotNull[Timezone] = None
    max_attempts: NotNull[Annotated[int, Field(ge=1, le=10)]] = None
    retry_interval: NotNull[Annotated[int, Field(ge=1, le=7 * 86400)]] = None
    ratio: NotNull[Annotated[float, Field(ge=1.0, le=3.0, strict=False)]] = None

    @field_validator("calling_hours")
    @classmethod
    def _check_hours(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return value if value is None else _hours(value)

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, value: str | None) -> str | None:
        return _tz(value)


class CampaignOut(BaseModel):
    id: int
    name: str
    queue: str
    status: str
    calling_hours: dict[str, list[list[str]]]
    timezone: str
    max_attempts: int
    retry_interval: int
    ratio: float
    contacts: int
    progress: dict[str, int]
    in_calling_hours: bool
    evaluated_at: Timestamp | None


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Annotated[str, StringConstraints(max_length=40)]
    name: Annotated[PlainText, StringConstraints(max_length=120)] = ""
    data: dict[str, Annotated[str, StringConstraints(max_length=200)] | int | float] = Field(default_factory=dict,
                                                                                          max_length=20)


class ContactsIn(RootModel[Annotated[list[dict[str, Any]], Field(min_length=1, max_length=10_000)]]):
    """A JSON list of contacts ({number, name, data}); each row is validated and
    reported on its own (row 1 is the first item)."""


class ImportOut(BaseModel):
    imported: int
    total: int


class ContactOut(BaseModel):
    id: int
    number: str
    name: str
    data: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: Timestamp | None
    last_result: str | None
    call: str | None


class ContactQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=2**31 - 1)
    status: Literal["pending", "dialing", "answered", "connected", "ending", "retry", "done", "failed",
                    "skipped"] | None = None


class NumberIn(Input):
    number: Annotated[str, StringConstraints(min_length=8, max_length=30)]
    reason: Annotated[PlainText, StringConstraints(max_length=200)] = ""


class NumberOut(BaseModel):
    number: str
    reason: str = ""
