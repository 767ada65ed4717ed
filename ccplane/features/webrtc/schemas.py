from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from ..common import Input, NotNull

Count = Annotated[int, Field(ge=0, le=2**31 - 1)]
Millis = Annotated[float, Field(ge=0, le=600000)]


class QualityReport(Input):
    """What the agent screen's phone measured so far on its current call (WebRTC
    getStats: cumulative packet counts of the audio streams, the latest jitter of
    what it receives and the latest round-trip time)."""
    call: NotNull[Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]] = None
    packets_sent: Count
    packets_received: Count
    packets_lost: Count = 0
    jitter_ms: Millis = 0
    rtt_ms: NotNull[Millis] = None


class QualityOut(BaseModel):
    call: str
    agent: str
    extension: str | None
    samples: int
    packets_sent: int
    packets_received: int
    packets_lost: int
    loss_percent: float
    jitter_ms: float
    rtt_ms: float | None
    mos: float = Field(description="MOS estimate now (1.0 – 4.5, simplified E-model)")
    mos_min: float = Field(description="the lowest MOS estimate reported on this leg")
    first_at: datetime
    last_at: datetime


class QualityList(BaseModel):
    items: list[QualityOut]
    total: int
