"""Outbound campaigns (discador): the campaign, its contacts, its blacklist,
and the domain-wide do-not-call list."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped, UtcDateTime


class Campaign(Timestamped, Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("domain_id", "name", name="uq_campaigns_domain_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    queue: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)  # draft|running|paused|stopped|finished
    # {"mon": [["08:00", "18:00"]], ...}: local times in ``timezone``; a day left out has no calls
    calling_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timezone: Mapped[str] = mapped_column(String(64), default="America/Sao_Paulo",
                                          server_default=text("'America/Sao_Paulo'"))
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    retry_interval: Mapped[int] = mapped_column(Integer, default=600)  # seconds between attempts
    ratio: Mapped[float] = mapped_column(Float, default=1.0, server_default=text("1.0"))  # calls per free agent


class CampaignContact(Base):
    __tablename__ = "campaign_contacts"
    __table_args__ = (UniqueConstraint("campaign_id", "number", name="uq_campaign_contacts_campaign_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20))  # canonical national form
    name: Mapped[str] = mapped_column(String(120), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # shown to the agent on the live feed
    # pending | dialing | answered | connected | retry | done | failed | skipped
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_result: Mapped[str | None] = mapped_column(String(32), nullable=True)
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class CampaignBlacklistEntry(Base):
    __tablename__ = "campaign_blacklist"
    __table_args__ = (UniqueConstraint("campaign_id", "number", name="uq_campaign_blacklist_campaign_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20))


class DoNotCallEntry(Base):
    __tablename__ = "do_not_call"
    __table_args__ = (UniqueConstraint("domain_id", "number", name="uq_do_not_call_domain_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200), default="")
