"""transfers, attendances and protocols (issue 10, first half)

queues.dispositions (the list an attendance is qualified from) and
queues.transfer_fail (where a failed blind transfer sends the caller back);
attendances (one per agent answer, with its protocol) and protocol_counters
(the per-domain, per-day sequence protocols are allocated from).

Revision ID: 0021
Revises: 0061
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0061'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queues') as batch:
        batch.add_column(sa.Column('dispositions', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch.add_column(sa.Column('transfer_fail', sa.String(length=8), server_default=sa.text("'queue'"),
                                   nullable=False))
    op.create_table('attendances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('protocol', sa.String(length=24), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('leg_uniqueid', sa.String(length=64), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=True),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('talk_time', sa.Float(), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.Column('disposition', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('qualified_by', sa.String(length=64), nullable=True),
    sa.Column('qualified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_attendances_domain_id_domains'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendances')),
    sa.UniqueConstraint('domain_id', 'protocol', name='uq_attendances_domain_protocol'),
    sa.UniqueConstraint('call_id', 'leg_uniqueid', name='uq_attendances_call_leg'),
    )
    op.create_index('ix_attendances_domain_started', 'attendances', ['domain_id', 'started_at'])
    op.create_index(op.f('ix_attendances_call_id'), 'attendances', ['call_id'])
    op.create_table('protocol_counters',
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_protocol_counters_domain_id_domains'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('domain_id', 'day', name=op.f('pk_protocol_counters')),
    )


def downgrade() -> None:
    op.drop_table('protocol_counters')
    op.drop_index(op.f('ix_attendances_call_id'), table_name='attendances')
    op.drop_index('ix_attendances_domain_started', table_name='attendances')
    op.drop_table('attendances')
    with op.batch_alter_table('queues') as batch:
        batch.drop_column('transfer_fail')
        batch.drop_column('dispositions')
