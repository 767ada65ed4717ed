from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...db.base import Base, Timestamped, UtcDateTime
from ..domains.models import Domain

ROLES = ("root", "superuser", "admin", "supervisor", "agent")


class User(Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('root','superuser','admin','supervisor','agent')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped on password change / deactivation: every token issued before stops working.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Per-agent wrap-up seconds; None: the queue's.
    wrapup_time: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The WebRTC extension this agent always logs in on (the agent screen is the phone).
    webrtc_extension_id: Mapped[int | None] = mapped_column(
        ForeignKey("extensions.id", ondelete="SET NULL", name="fk_users_webrtc_extension"), nullable=True)
    # One-time password reset an admin hands over (sha256 of the token, and its expiry).
    reset_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reset_expires: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    domains: Mapped[list[Domain]] = relationship(secondary="memberships", lazy="selectin", order_by=Domain.slug)


class Membership(Base):
    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True, index=True)
