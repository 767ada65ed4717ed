from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped, UtcDateTime, utcnow


class AlertAppConfig(Timestamped, Base):
    """Per-domain customisation of the alert app and where its calls go."""
    __tablename__ = "alert_app_configs"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), unique=True)
    app_name: Mapped[str] = mapped_column(String(60), default="Canal de Alertas")
    colors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    show_logo: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    call_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    monitoring_queue: Mapped[str | None] = mapped_column(String(32), nullable=True)
    escalation_queue: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ack_deadlines: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="RESTRICT"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("monitored_persons.id", ondelete="SET NULL"),
                                                  nullable=True, index=True)
    person_name: Mapped[str] = mapped_column(String(120))
    person_cpf: Mapped[str] = mapped_column(String(11))
    person_phone: Mapped[str] = mapped_column(String(13))
    level: Mapped[str] = mapped_column(String(8))
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    call_answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    recording: Mapped[str | None] = mapped_column(String(120), nullable=True)  # file in Asterisk's monitor dir
    person_call_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the person's own call
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    escalations: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # When it escalates next (None: acknowledged, closed or past the limit); the
    # scheduler's job for its domain and level runs at the earliest of them.
    escalate_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)


class AlertAudit(Base):
    """Append-only, hash-chained log of everything done to alerts (per domain)."""
    __tablename__ = "alert_audit"
    __table_args__ = (UniqueConstraint("domain_id", "seq", name="uq_alert_audit_domain_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="RESTRICT"), index=True)
    # seq, prev_hash and hash are None until the chain writer links the row (right
    # after its commit): rows are stored concurrently and chained in one place.
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    alert_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    at: Mapped[str] = mapped_column(String(40))  # ISO-8601 as hashed
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
