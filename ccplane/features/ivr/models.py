from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped, UtcDateTime, utcnow


class IvrTree(Timestamped, Base):
    __tablename__ = "ivr_trees"
    __table_args__ = (UniqueConstraint("domain_id", "name", name="uq_ivr_trees_domain_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(24))
    root: Mapped[dict[str, Any]] = mapped_column(JSON)


class IvrStep(Base):
    """One step of one caller through a tree: the path reports and call details show."""
    __tablename__ = "ivr_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    call: Mapped[str] = mapped_column(String(64), index=True)  # the caller channel's uniqueid
    tree: Mapped[str] = mapped_column(String(24))
    node: Mapped[str] = mapped_column(String(200))
    step: Mapped[str] = mapped_column(String(16))
    digits: Mapped[str | None] = mapped_column(String(40), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # The dialplan's outbox key (<uniqueid>-iv<n>): a step replayed after an outage is stored once.
    ref: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)


class Prompt(Timestamped, Base):
    """A sound uploaded for a domain, converted for Asterisk."""
    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("domain_id", "name", name="uq_prompts_domain_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
