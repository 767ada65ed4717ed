from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ..common import Input

Level = Literal["green", "yellow", "red"]
Text = Annotated[str, StringConstraints(max_length=500)]


class AppLogin(Input):
    cpf: str
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]

    @field_validator("cpf")
    @classmethod
    def _digits_only(cls, value: str) -> str:
        if not value.isdigit():
            raise ValueError("use digits only (no dots or dash), e.g. 52998224725")
        if len(value) != 11:
            raise ValueError("a CPF has 11 digits")
        return value


class AppToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class Location(Input):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    accuracy: Annotated[float, Field(ge=0, le=100000)] | None = None

    model_config = ConfigDict(extra="forbid", strict=False)  # JSON numbers may be ints


class AlertCreate(Input):
    level: Level
    location: Location | None


class AlertCreated(BaseModel):
    id: int
    message: str
    call_number: str | None
    duplicate: bool = False


class LevelTexts(Input):
    message: Text | None = None
    button: Annotated[str, StringConstraints(max_length=60)] | None = None


class AlertAppUpdate(Input):
    app_name: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = None
    colors: dict[Annotated[str, StringConstraints(max_length=30)],
                 Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]] | None = None
    show_logo: bool | None = None
    texts: dict[Literal["green", "yellow", "red", "call_now", "unavailable"], LevelTexts] | None = None
    call_number: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{3,20}$")] | None = None
    monitoring_queue: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")] | None = None
    escalation_queue: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")] | None = None
    ack_deadlines: dict[Literal["green", "yellow", "red"], Annotated[int, Field(ge=5, le=3600)]] | None = None


class AlertAppOut(BaseModel):
    app_name: str
    colors: dict[str, str]
    show_logo: bool
    texts: dict[str, Any]
    call_number: str | None
    monitoring_queue: str | None
    escalation_queue: str | None
    ack_deadlines: dict[str, int]


class AlertQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    level: Level | None = None
    status: Literal["new", "acknowledged", "closed"] | None = None
    person: int | None = None
    format: Literal["json", "csv", "xlsx"] = "json"
    limit: int = Field(100, ge=1, le=10000)
    offset: int = Field(0, ge=0)


class AlertOut(BaseModel):
    id: int
    level: str
    person: dict[str, Any]
    location: dict[str, Any] | None
    location_text: str
    created_at: str
    status: str
    acknowledged_by: str | None
    acknowledged_at: str | None
    seconds_to_ack: float | None
    seconds_to_answer: float | None  # until an attendant answered the alert call
    call: str | None
    recording: str | None
    person_call: str | None
    escalations: int
    outcome: str | None


class AlertClose(Input):
    outcome: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
