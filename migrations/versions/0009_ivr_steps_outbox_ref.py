"""ivr steps: outbox ref

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ivr_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ref', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_ivr_steps_ref'), ['ref'])


def downgrade() -> None:
    with op.batch_alter_table('ivr_steps', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_ivr_steps_ref'), type_='unique')
        batch_op.drop_column('ref')
