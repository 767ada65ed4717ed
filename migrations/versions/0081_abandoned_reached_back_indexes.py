"""reports: indexes for the abandoned list's "reached back" (a later answered call from the same
caller, or a later answered external leg to that number): one probe per abandoned call instead of
a scan of the domain's calls (over two minutes for one day's abandons on a million calls)

Revision ID: 0081
Revises: 0080
Create Date: 2026-12-07
"""
from __future__ import annotations

from alembic import op


revision = '0081'
down_revision = '0080'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_calls_domain_caller_started', 'calls', ['domain_id', 'caller', 'started_at'])
    op.create_index('ix_call_legs_number', 'call_legs', ['number'])


def downgrade() -> None:
    op.drop_index('ix_call_legs_number', table_name='call_legs')
    op.drop_index('ix_calls_domain_caller_started', table_name='calls')
