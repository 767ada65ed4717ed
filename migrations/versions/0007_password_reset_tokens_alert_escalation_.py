"""password reset tokens, alert escalation queue

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alert_app_configs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalation_queue', sa.String(length=32), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reset_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reset_expires', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('reset_expires')
        batch_op.drop_column('reset_hash')

    with op.batch_alter_table('alert_app_configs', schema=None) as batch_op:
        batch_op.drop_column('escalation_queue')

