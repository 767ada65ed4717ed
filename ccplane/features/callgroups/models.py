from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped


class CallGroup(Timestamped, Base):
    """A ring group of the PABX (*grupo de chamada*): extensions that ring all at
    once or one after the other, reached by its number, an inbound route or an IVR."""
    __tablename__ = "call_groups"
    __table_args__ = (
        UniqueConstraint("domain_id", "name", name="uq_call_groups_domain_name"),
        UniqueConstraint("domain_id", "number", name="uq_call_groups_domain_number"),
        CheckConstraint("strategy IN ('ringall','sequential')", name="strategy"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(10))
    strategy: Mapped[str] = mapped_column(String(16), default="ringall")
    # extension numbers, in ring order (sequential)
    extensions: Mapped[list[str]] = mapped_column(JSON, default=list)
    ring_timeout: Mapped[int] = mapped_column(Integer, default=20)
    # {"type": "queue"|"ivr"|"extension"|"callgroup"|"hangup", "target": str|None}
    no_answer: Mapped[dict[str, object]] = mapped_column(JSON, default=lambda: {"type": "hangup", "target": None})
