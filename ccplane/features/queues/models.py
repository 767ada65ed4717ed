from __future__ import annotations

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped

STRATEGIES = ("ringall", "linear", "rrmemory", "leastrecent", "fewestcalls", "random")


class Queue(Timestamped, Base):
    __tablename__ = "queues"
    __table_args__ = (
        UniqueConstraint("domain_id", "name", name="uq_queues_domain_name"),
        CheckConstraint("strategy IN ('ringall','linear','rrmemory','leastrecent','fewestcalls','random')",
                        name="strategy"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    strategy: Mapped[str] = mapped_column(String(16), default="ringall")
    ring_timeout: Mapped[int] = mapped_column(Integer, default=15)
    retry: Mapped[int] = mapped_column(Integer, default=5)
    wrapup_time: Mapped[int] = mapped_column(Integer, default=0)
    max_no_answer: Mapped[int] = mapped_column(Integer, default=0)
    call_timeout: Mapped[int] = mapped_column(Integer, default=0)
    reject_delay: Mapped[int] = mapped_column(Integer, default=0)
    busy_delay: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: reject_delay
    noanswer_delay: Mapped[int] = mapped_column(Integer, default=0)
    max_wait: Mapped[int] = mapped_column(Integer, default=0)
    max_len: Mapped[int] = mapped_column(Integer, default=0)
    join_empty: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    leave_empty: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    record: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    monitoring_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # in-queue callback (features/callbacks): the key a waiting caller presses to be called
    # back at their place; retries of a customer who does not answer, their back-off, and
    # how long a callback may wait for an agent
    callback_key: Mapped[str | None] = mapped_column(String(1), nullable=True)
    callback_retries: Mapped[int] = mapped_column(Integer, default=2, server_default=text("2"))
    callback_retry_delay: Mapped[int] = mapped_column(Integer, default=120, server_default=text("120"))
    callback_expiry: Mapped[int] = mapped_column(Integer, default=3600, server_default=text("3600"))
    # {"type": "queue"|"extension"|"hangup", "target": str|None}
    # dispositions an agent may qualify an attendance of this queue with
    dispositions: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # where a caller goes back when a blind transfer fails: "queue" (this queue) or "agent" (the transferer)
    transfer_fail: Mapped[str] = mapped_column(String(8), default="queue", server_default=text("'queue'"))
    overflow: Mapped[dict[str, object]] = mapped_column(JSON, default=lambda: {"type": "hangup", "target": None})


class QueueExtension(Base):
    __tablename__ = "queue_extensions"

    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    extension_id: Mapped[int] = mapped_column(ForeignKey("extensions.id", ondelete="CASCADE"),
                                              primary_key=True, index=True)
