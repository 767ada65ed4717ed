"""Indexes the reports need on the journey tables (owned by features/calls; declared
here so the models and migrations 0015, 0080, 0081, 0110 agree): a domain's period in start order
(filters and the detailed keyset; on PostgreSQL covering the aggregates' columns), a call's legs
by kind, and the abandoned list's probes by caller and by number."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, UtcDateTime
from ..calls.models import CallLeg, CallRecord

CALLS_PERIOD = Index("ix_calls_domain_started", CallRecord.domain_id, CallRecord.started_at, CallRecord.id,
                     postgresql_include=["status", "answered_at", "end_reason", "wait_seconds", "talk_seconds",
                                         "transferred", "ring_seconds", "direction", "queue", "agent", "did"])  # 0080
LEGS_BY_KIND = Index("ix_call_legs_call_kind", CallLeg.call_pk, CallLeg.kind)
# the abandoned list's "reached back" probes (0081): a later call from the caller, a later leg to them
CALLS_BY_CALLER = Index("ix_calls_domain_caller_started", CallRecord.domain_id, CallRecord.caller,
                        CallRecord.started_at)
LEGS_BY_NUMBER = Index("ix_call_legs_number", CallLeg.number)
# the abandoned list's calls (0110): partial, read by ``end_reason = 'abandon'`` written as a literal (a
# bound value does not select a partial index); on PostgreSQL covering what the list shows and filters on
_ABANDON = text("end_reason = 'abandon'")
CALLS_ABANDONED = Index("ix_calls_abandoned", CallRecord.domain_id, CallRecord.started_at, CallRecord.id,
                        postgresql_include=["status", "call_id", "caller", "caller_name", "did", "queue", "agent",
                                            "direction", "ended_at", "wait_seconds", "queue_position"],
                        postgresql_where=_ABANDON, sqlite_where=_ABANDON)
# agent activity's legs (0110): those naming an agent, by call; on PostgreSQL covering what it sums
_HAS_AGENT = text("agent IS NOT NULL")
LEGS_WITH_AGENT = Index("ix_call_legs_agent_call", CallLeg.call_pk,
                        postgresql_include=["agent", "kind", "result", "answered_at", "ended_at"],
                        postgresql_where=_HAS_AGENT, sqlite_where=_HAS_AGENT)


class AgentStateSpan(Base):
    """One stretch of an agent's state (available, ringing, in_call, wrapup, paused
    with its reason, inactive) from the agent board, for agent activity, pause time
    by reason and occupancy. An open span has no ``ended_at``; offline is no span."""
    __tablename__ = "agent_state_spans"
    __table_args__ = (Index("ix_agent_state_spans_domain_started", "domain_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
