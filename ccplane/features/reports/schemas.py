"""Report query parameters (one model for every report kind)."""
from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..common import QueryTime

KINDS = ("quantitative", "summary", "detailed", "listing", "call-group", "abandoned", "agent-activity")
GroupBy = Literal["queue", "agent", "hour", "day", "did", "disposition"]


def _names(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_: QueryTime = Field(alias="from")
    to: QueryTime
    queues: str | None = Field(None, max_length=1000)
    agents: str | None = Field(None, max_length=1000)
    dids: str | None = Field(None, max_length=1000)
    dispositions: str | None = Field(None, max_length=1000)
    direction: Literal["inbound", "outbound", "internal"] | None = None
    group_by: GroupBy | None = None
    service_level: int = Field(20, ge=1, le=3600)
    short_abandon: int = Field(5, ge=0, le=600)
    timezone: str | None = Field(None, max_length=64)  # None: the domain's own time zone
    format: Literal["json", "csv", "xlsx"] = "json"
    limit: int = Field(100, ge=1, le=1000)
    after: str | None = Field(None, max_length=200)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone") from None
        return v

    def filters(self) -> dict[str, list[str] | str]:
        out: dict[str, list[str] | str] = {}
        for name in ("queues", "agents", "dids", "dispositions"):
            if values := _names(getattr(self, name)):
                out[name] = values
        if self.direction:
            out["direction"] = self.direction
        return out
