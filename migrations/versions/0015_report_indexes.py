"""indexes for the reports (a domain's calls by start, legs by call and kind)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""
from __future__ import annotations

from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_calls_domain_started', 'calls', ['domain_id', 'started_at', 'id'])
    op.create_index('ix_call_legs_call_kind', 'call_legs', ['call_pk', 'kind'])


def downgrade() -> None:
    op.drop_index('ix_call_legs_call_kind', table_name='call_legs')
    op.drop_index('ix_calls_domain_started', table_name='calls')
