"""supervisor panel colour thresholds per domain / queue and figure

Revision ID: 0090
Revises: 0081
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0090'
down_revision = '0081'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('panel_thresholds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('figure', sa.String(length=32), nullable=False),
    sa.Column('yellow', sa.Float(), nullable=False),
    sa.Column('red', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_panel_thresholds_domain_id_domains'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_thresholds')),
    sa.UniqueConstraint('domain_id', 'queue', 'figure', name='uq_panel_thresholds_domain_queue_figure'),
    )
    with op.batch_alter_table('panel_thresholds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_thresholds_domain_id'), ['domain_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('panel_thresholds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_thresholds_domain_id'))
    op.drop_table('panel_thresholds')
