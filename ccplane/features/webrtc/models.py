from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped, UtcDateTime


class CallQuality(Timestamped, Base):
    """Call-quality figures the agent screen's phone measured (WebRTC getStats) on
    one agent's leg of one call: the latest cumulative counts, the latest jitter and
    round-trip, the MOS estimate now and at its worst."""
    __tablename__ = "call_quality"
    __table_args__ = (UniqueConstraint("call_id", "agent", name="uq_call_quality_call_agent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)  # the journey's id (calls.call_id)
    agent: Mapped[str] = mapped_column(String(64), index=True)
    extension: Mapped[str | None] = mapped_column(String(16), nullable=True)
    samples: Mapped[int] = mapped_column(Integer, default=0)
    packets_sent: Mapped[int] = mapped_column(Integer, default=0)
    packets_received: Mapped[int] = mapped_column(Integer, default=0)
    packets_lost: Mapped[int] = mapped_column(Integer, default=0)
    loss_percent: Mapped[float] = mapped_column(Float, default=0.0)
    jitter_ms: Mapped[float] = mapped_column(Float, default=0.0)
    rtt_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    mos: Mapped[float] = mapped_column(Float, default=0.0)
    mos_min: Mapped[float] = mapped_column(Float, default=0.0)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_at: Mapped[datetime] = mapped_column(UtcDateTime())
