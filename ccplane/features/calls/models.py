"""Call journeys: one row per call, one per leg (written by ``JourneyStore``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, UtcDateTime


class CallRecord(Base):
    """A call (journey): inbound, outbound or internal, from its first channel to
    its last. ``call_id`` is Asterisk's linkedid of the first channel."""
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)  # active | ended
    state: Mapped[str] = mapped_column(String(16))
    caller: Mapped[str | None] = mapped_column(String(64), nullable=True)
    caller_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    did: Mapped[str | None] = mapped_column(String(32), nullable=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    alert_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    wait_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    talk_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="live")  # live | resync | outbox | queue_calls
    # kept from the legs at write time, for the reports (no per-call legs subquery on a million calls)
    transferred: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # a transfer leg
    ring_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)  # the offer legs' ring time, summed
    queue_position: Mapped[int | None] = mapped_column(Integer, nullable=True)  # place in line at its queue's join


class CallLeg(Base):
    __tablename__ = "call_legs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    extension: Mapped[str | None] = mapped_column(String(32), nullable=True)
    number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    uniqueid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    result: Mapped[str | None] = mapped_column(String(128), nullable=True)  # an IVR leg: its last step (node path)
    detail: Mapped[str | None] = mapped_column(String(255), nullable=True)
