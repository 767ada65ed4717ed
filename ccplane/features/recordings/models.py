"""Call recordings: one row per file Asterisk's MixMonitor wrote."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, UtcDateTime


class Recording(Base):
    """``status``: ``recording`` (MixMonitor still writing, in Asterisk's spool),
    ``ready`` (finished, moved under ``recordings.dir``). A ready file that
    vanished from disk is shown as ``missing`` (computed when read)."""
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    file: Mapped[str] = mapped_column(String(160), unique=True)  # base name, same in the spool and the store
    kind: Mapped[str] = mapped_column(String(16))  # attendance | consultation | internal | outbound
    call_id: Mapped[str] = mapped_column(String(64), index=True)  # the call's linkedid (calls.call_id)
    protocol: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    agent_uniqueid: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the agent leg's channel
    channel: Mapped[str | None] = mapped_column(String(128), nullable=True)  # the channel recorded
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RecordingPolicy(Base):
    """Per-domain retention: recordings older than ``retention_days`` are purged
    (files and rows) by a scheduler job; None keeps them for good."""
    __tablename__ = "recording_policies"

    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True)
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
