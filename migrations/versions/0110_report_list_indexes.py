"""reports: indexes for the abandoned list and agent activity on a month of a million calls

- ``ix_calls_abandoned``: a domain's abandoned calls in start order (partial: ``end_reason =
  'abandon'``, about one call in twelve), on PostgreSQL carrying the columns the list shows and
  filters on, so the list reads its calls from the index alone instead of every call of the period.
- ``ix_call_legs_agent_call``: the legs that name an agent by call (partial: ``agent IS NOT NULL``),
  on PostgreSQL carrying the columns agent activity sums, so the period's legs (a call-key range)
  are read from the index alone.

Both are new indexes: no row changes.

Revision ID: 0110
Revises: 0105
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0110'
down_revision = '0105'
branch_labels = None
depends_on = None

ABANDONED_COVERED = ["status", "call_id", "caller", "caller_name", "did", "queue", "agent", "direction",
                     "ended_at", "wait_seconds", "queue_position"]
AGENT_LEGS_COVERED = ["agent", "kind", "result", "answered_at", "ended_at"]


def upgrade() -> None:
    op.create_index('ix_calls_abandoned', 'calls', ['domain_id', 'started_at', 'id'],
                    postgresql_include=ABANDONED_COVERED,
                    postgresql_where=sa.text("end_reason = 'abandon'"), sqlite_where=sa.text("end_reason = 'abandon'"))
    op.create_index('ix_call_legs_agent_call', 'call_legs', ['call_pk'], postgresql_include=AGENT_LEGS_COVERED,
                    postgresql_where=sa.text("agent IS NOT NULL"), sqlite_where=sa.text("agent IS NOT NULL"))


def downgrade() -> None:
    op.drop_index('ix_call_legs_agent_call', table_name='call_legs')
    op.drop_index('ix_calls_abandoned', table_name='calls')
