"""The supervisor panel's colour thresholds: per domain (``queue`` empty: every
queue) or per queue, one row per figure."""
from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped


class PanelThreshold(Timestamped, Base):
    __tablename__ = "panel_thresholds"
    __table_args__ = (UniqueConstraint("domain_id", "queue", "figure", name="uq_panel_thresholds_domain_queue_figure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    queue: Mapped[str] = mapped_column(String(64), default="")  # "" = the domain's default for every queue
    figure: Mapped[str] = mapped_column(String(32))  # longest_wait | service_level | waiting
    yellow: Mapped[float] = mapped_column(Float)
    red: Mapped[float] = mapped_column(Float)
