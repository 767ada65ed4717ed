from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped, UtcDateTime, utcnow


class InboundRoute(Timestamped, Base):
    __tablename__ = "inbound_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="RESTRICT"), index=True)
    did: Mapped[str] = mapped_column(String(20), unique=True)  # DIDs are unique across domains
    destination_type: Mapped[str] = mapped_column(String(16))
    destination_target: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reject_delay: Mapped[int] = mapped_column(Integer, default=0)


class BlacklistEntry(Timestamped, Base):
    __tablename__ = "blacklist_entries"
    __table_args__ = (UniqueConstraint("domain_id", "number", name="uq_blacklist_domain_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20))  # normalised (see routes/domain.py)
    reason: Mapped[str] = mapped_column(String(200), default="")


class BlacklistRejection(Base):
    """Every call refused because its caller is blacklisted (reportable)."""
    __tablename__ = "blacklist_rejections"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    caller: Mapped[str] = mapped_column(String(40))
    did: Mapped[str] = mapped_column(String(20))
    uniqueid: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
