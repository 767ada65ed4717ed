"""callbacks (scheduled and in-queue return calls)

One row per callback; its scheduler job (apscheduler_jobs, 0013) runs it.

Revision ID: 0040
Revises: 0030
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0040'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queue', sa.String(length=32), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('offline_to_queue', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delay_seconds', sa.Float(), nullable=True),
    sa.Column('agent_answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('customer_answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('routed_to', sa.String(length=16), nullable=True),
    sa.Column('call_id', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_callbacks_domain_id_domains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callbacks')),
    sa.UniqueConstraint('request_id', name=op.f('uq_callbacks_request_id'))
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callbacks_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_domain_id'), ['domain_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callbacks_status'))
        batch_op.drop_index(batch_op.f('ix_callbacks_domain_id'))
        batch_op.drop_index(batch_op.f('ix_callbacks_call_id'))
        batch_op.drop_index(batch_op.f('ix_callbacks_at'))

    op.drop_table('callbacks')
