"""calls.queue_position: the caller's place in line when it joined its queue (the abandoned
list's "position"); calls recorded before have none (NULL: it was never kept)

Revision ID: 0105
Revises: 0100
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0105'
down_revision = '0100'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (nullable, no default: instant on PostgreSQL however many calls);
    # a batch copy of ``calls`` on SQLite would cascade into its legs
    op.add_column('calls', sa.Column('queue_position', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('calls', 'queue_position')  # SQLite >= 3.35 drops a column in place
