"""Monitoring groups: which supervisors watch (and listen to) which queues.

A queue belongs to at most one group through its own ``monitoring_group`` (the
group's name, the queues feature's column); a group's ``queues`` are the queues
that name it. Users belong to any number of groups (``monitoring_group_members``).
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped


class MonitoringGroup(Timestamped, Base):
    __tablename__ = "monitoring_groups"
    __table_args__ = (UniqueConstraint("domain_id", "name", name="uq_monitoring_groups_domain_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))


class MonitoringGroupMember(Base):
    __tablename__ = "monitoring_group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("monitoring_groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
