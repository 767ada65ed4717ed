"""agent state spans (agent activity: logged-in, pause by reason, wrap-up, occupancy)

Revision ID: 0061
Revises: 0060
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0061'
down_revision = '0060'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_state_spans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_agent_state_spans_domain_id_domains'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_state_spans')),
    )
    op.create_index('ix_agent_state_spans_domain_started', 'agent_state_spans', ['domain_id', 'started_at'])


def downgrade() -> None:
    op.drop_index('ix_agent_state_spans_domain_started', table_name='agent_state_spans')
    op.drop_table('agent_state_spans')
