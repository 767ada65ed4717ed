from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped


class Trunk(Timestamped, Base):
    """A carrier's SIP trunk (per domain), with or without registration."""
    __tablename__ = "trunks"
    __table_args__ = (UniqueConstraint("domain_id", "name", name="uq_trunks_domain_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=5060)
    transport: Mapped[str] = mapped_column(String(8), default="udp")
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    register: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    caller_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # extra source addresses/networks the carrier sends calls from (the host is always matched)
    match: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))


class OutboundRoute(Timestamped, Base):
    __tablename__ = "outbound_routes"
    __table_args__ = (UniqueConstraint("domain_id", "name", name="uq_outbound_routes_domain_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    patterns: Mapped[list[str]] = mapped_column(JSON)
    trunks: Mapped[list[str]] = mapped_column(JSON)  # trunk names, in order of preference
    strip: Mapped[int] = mapped_column(Integer, default=0)
    prefix: Mapped[str] = mapped_column(String(10), default="")
    # Record the calls placed through this route (features/recordings).
    record: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
