"""each domain's time zone (reports, protocol days, pages); existing domains get America/Sao_Paulo

Revision ID: 0100
Revises: 0090
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0100'
down_revision = '0090'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN: a batch (copy-and-rename) of ``domains`` on SQLite would
    # cascade the drop of the old table into every row that refers to a domain
    op.add_column('domains', sa.Column('timezone', sa.String(length=64), nullable=False,
                                       server_default=sa.text("'America/Sao_Paulo'")))


def downgrade() -> None:
    op.drop_column('domains', 'timezone')  # SQLite >= 3.35 drops a column in place
