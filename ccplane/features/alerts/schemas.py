from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, field_validator

from ..common import Id, Input, NotNull, Offset
from . import domain as rules

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


Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
ColorName = Annotated[str, StringConstraints(max_length=30)]
QueueName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
TextKey = Literal["green", "yellow", "red", "call_now", "unavailable"]
Deadline = Annotated[int, Field(ge=5, le=3600)]
DEFAULT_APP_NAME = "Canal de Alertas"


class AlertAppUpdate(Input):
    """Only the routing fields may be cleared with null (no call number, no
    queue); the others are optional but never null — a null there used to be
    stored and then broke every read of the settings, the app's included."""
    app_name: NotNull[Annotated[str, StringConstraints(min_length=1, max_length=60)]] = None
    colors: NotNull[dict[ColorName, Color]] = None
    show_logo: NotNull[bool] = None
    texts: NotNull[dict[TextKey, LevelTexts]] = None
    call_number: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{3,20}$")] | None = None
    monitoring_queue: QueueName | None = None
    escalation_queue: QueueName | None = None
    ack_deadlines: NotNull[dict[Literal["green", "yellow", "red"], Deadline]] = None


_COLOR = TypeAdapter(dict[ColorName, Color])
# What a stored deadline may be: any positive number of seconds (the API's 5 s
# floor is for what people type; a stored value is honoured unless unusable).
_DEADLINES = TypeAdapter(dict[str, Annotated[int, Field(ge=1, le=86400)]])


def stored_texts(value: Any) -> dict[str, Any]:
    """The app texts from what is stored, defaults for anything unusable."""
    custom = {k: {kk: vv for kk, vv in v.items() if isinstance(vv, str)}
              for k, v in value.items() if isinstance(v, dict)} if isinstance(value, dict) else {}
    return rules.merged_texts(custom)


def stored_deadlines(value: Any) -> dict[str, int]:
    good: dict[str, int] = {}
    for level, seconds in (value.items() if isinstance(value, dict) else ()):
        if level not in ("green", "yellow", "red"):
            continue
        try:
            good.update(_DEADLINES.validate_python({level: seconds}, strict=True))
        except ValidationError:
            pass  # a bad stored value falls back to the default; the others stay
    return {**rules.DEFAULT_DEADLINES, **good}


def _stored_colors(value: Any) -> dict[str, str]:
    good: dict[str, str] = {}
    for name, color in (value.items() if isinstance(value, dict) else ()):
        try:
            good.update(_COLOR.validate_python({name: color}, strict=True))
        except ValidationError:
            pass
    return good


class AlertAppOut(BaseModel):
    app_name: str
    colors: dict[str, str]
    show_logo: bool
    texts: dict[str, Any]
    call_number: str | None
    monitoring_queue: str | None
    escalation_queue: str | None
    ack_deadlines: dict[str, int]

    @classmethod
    def from_stored(cls, c: Any) -> "AlertAppOut":
        """The settings as stored (an AlertAppConfig row, or None for defaults).
        Reads never fail on a bad stored value: the monitored person's app
        must still get a usable configuration."""
        def text(value: Any, limit: int) -> str | None:
            return value if isinstance(value, str) and 0 < len(value) <= limit else None
        return cls(app_name=text(getattr(c, "app_name", None), 60) or DEFAULT_APP_NAME,
                   colors=_stored_colors(getattr(c, "colors", None)),
                   show_logo=c.show_logo if isinstance(getattr(c, "show_logo", None), bool) else True,
                   texts=stored_texts(getattr(c, "texts", None)),
                   call_number=text(getattr(c, "call_number", None), 20),
                   monitoring_queue=text(getattr(c, "monitoring_queue", None), 32),
                   escalation_queue=text(getattr(c, "escalation_queue", None), 32),
                   ack_deadlines=stored_deadlines(getattr(c, "ack_deadlines", None)))


class AlertQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    level: Level | None = None
    status: Literal["new", "acknowledged", "closed"] | None = None
    person: Id | None = None
    format: Literal["json", "csv", "xlsx"] = "json"
    limit: int = Field(100, ge=1, le=10000)
    offset: Offset = 0


class AlertOut(BaseModel):
    id: int
    level: str
    person: dict[str, Any]
    person_id: int | None = None  # the monitored person (None once the person was deleted)
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


class AlertNoteIn(Input):
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class AlertNoteOut(BaseModel):
    alert: int
    author: str
    text: str
    at: str


class AppLook(BaseModel):
    """What the app page shows before login: the name, colours and logo switch only."""
    app_name: str
    colors: dict[str, str]
    show_logo: bool
