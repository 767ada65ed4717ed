"""Attendances: one row per agent answer (a protocol), and the per-domain, per-day
counters their protocol numbers are allocated from."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, UtcDateTime


class Attendance(Base):
    """An agent's attendance of a call: from their answer to the end of their leg
    (the call's end, or the transfer). ``protocol`` is ``YYYYMMDD`` + a zero-padded
    sequence, unique in the domain."""
    __tablename__ = "attendances"
    __table_args__ = (
        UniqueConstraint("domain_id", "protocol", name="uq_attendances_domain_protocol"),
        UniqueConstraint("call_id", "leg_uniqueid", name="uq_attendances_call_leg"),
        Index("ix_attendances_domain_started", "domain_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    protocol: Mapped[str] = mapped_column(String(24))
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    leg_uniqueid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    talk_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    qualified_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    qualified_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ProtocolCounter(Base):
    """The last sequence handed out for a domain on a day (``YYYYMMDD``)."""
    __tablename__ = "protocol_counters"

    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
