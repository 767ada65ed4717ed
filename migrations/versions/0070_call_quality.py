"""call quality reported by the agent screen's WebRTC phone

Revision ID: 0070
Revises: 0042
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0070'
down_revision = '0042'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_quality',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('extension', sa.String(length=16), nullable=True),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('packets_sent', sa.Integer(), nullable=False),
    sa.Column('packets_received', sa.Integer(), nullable=False),
    sa.Column('packets_lost', sa.Integer(), nullable=False),
    sa.Column('loss_percent', sa.Float(), nullable=False),
    sa.Column('jitter_ms', sa.Float(), nullable=False),
    sa.Column('rtt_ms', sa.Float(), nullable=True),
    sa.Column('mos', sa.Float(), nullable=False),
    sa.Column('mos_min', sa.Float(), nullable=False),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_call_quality_domain_id_domains'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_quality')),
    sa.UniqueConstraint('call_id', 'agent', name='uq_call_quality_call_agent'),
    )
    with op.batch_alter_table('call_quality', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_quality_domain_id'), ['domain_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_quality_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_quality_agent'), ['agent'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('call_quality', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_quality_agent'))
        batch_op.drop_index(batch_op.f('ix_call_quality_call_id'))
        batch_op.drop_index(batch_op.f('ix_call_quality_domain_id'))
    op.drop_table('call_quality')
