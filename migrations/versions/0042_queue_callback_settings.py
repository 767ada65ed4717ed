"""queues: in-queue callback settings (key, retries, back-off, expiry)

Existing queues get no callback key (nothing changes for their callers) and the
defaults for the rest.

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('callback_key', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('callback_retries', sa.Integer(), server_default=sa.text('2'), nullable=False))
        batch_op.add_column(sa.Column('callback_retry_delay', sa.Integer(), server_default=sa.text('120'),
                                      nullable=False))
        batch_op.add_column(sa.Column('callback_expiry', sa.Integer(), server_default=sa.text('3600'),
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.drop_column('callback_expiry')
        batch_op.drop_column('callback_retry_delay')
        batch_op.drop_column('callback_retries')
        batch_op.drop_column('callback_key')
