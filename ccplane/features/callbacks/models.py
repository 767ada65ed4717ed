"""Callbacks: one row per return call ccplane owes a customer (scheduled by an
agent, or left by a caller waiting in a queue)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped, UtcDateTime


class Callback(Timestamped, Base):
    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | in_queue
    number: Mapped[str] = mapped_column(String(20))  # canonical national form (DDD + number)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    queue: Mapped[str | None] = mapped_column(String(32), nullable=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    # an agent offline at the time: the queue takes the callback (True) or it fails
    offline_to_queue: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    status: Mapped[str] = mapped_column(String(24), index=True, default="scheduled")
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    delay_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)  # started_at - at
    agent_answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    customer_answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    routed_to: Mapped[str | None] = mapped_column(String(16), nullable=True)  # agent | queue
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # the journey
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # in-queue callbacks: the request's channel (a replayed request is stored once), the
    # caller's place in the queue when they asked, and when the callback gives up
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
