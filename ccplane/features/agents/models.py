from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, UtcDateTime, utcnow


class AgentSession(Base):
    """An agent logged into queues on an extension: stored first, then applied
    to Asterisk, and re-applied after any restart of ccplane or Asterisk."""
    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    extension_id: Mapped[int] = mapped_column(ForeignKey("extensions.id", ondelete="CASCADE"), unique=True)
    logged_in_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    pause_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class AgentSessionQueue(Base):
    __tablename__ = "agent_session_queues"

    session_id: Mapped[int] = mapped_column(ForeignKey("agent_sessions.id", ondelete="CASCADE"), primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)


class QueueCall(Base):
    """One answered queue call (the attendance record of this feature)."""
    __tablename__ = "queue_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="SET NULL"), nullable=True)
    caller_uniqueid: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    caller_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agent_username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    talk_seconds: Mapped[float] = mapped_column(Float)
    end_reason: Mapped[str] = mapped_column(String(32))
