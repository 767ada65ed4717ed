"""call groups (ring groups of the PABX)

Revision ID: 0060
Revises: 0020
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0060'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=10), nullable=False),
    sa.Column('strategy', sa.String(length=16), nullable=False),
    sa.Column('extensions', sa.JSON(), nullable=False),
    sa.Column('ring_timeout', sa.Integer(), nullable=False),
    sa.Column('no_answer', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("strategy IN ('ringall','sequential')", name=op.f('ck_call_groups_strategy')),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_call_groups_domain_id_domains'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_groups')),
    sa.UniqueConstraint('domain_id', 'name', name='uq_call_groups_domain_name'),
    sa.UniqueConstraint('domain_id', 'number', name='uq_call_groups_domain_number'),
    )
    with op.batch_alter_table('call_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_groups_domain_id'), ['domain_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('call_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_groups_domain_id'))
    op.drop_table('call_groups')
