"""users: webrtc extension

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webrtc_extension_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_users_webrtc_extension', 'extensions', ['webrtc_extension_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('fk_users_webrtc_extension', type_='foreignkey')
        batch_op.drop_column('webrtc_extension_id')
