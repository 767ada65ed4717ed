"""call_legs.result holds up to 128 characters: an IVR leg's result is its last step,
``<node path>:<step>[:<digits>]``, longer than 32 in a tree two menus deep (PostgreSQL
refused such a leg; SQLite never enforced the length). Existing rows are kept as they are.

Revision ID: 0111
Revises: 0110
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0111'
down_revision = '0110'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # widening a varchar rewrites nothing on PostgreSQL: instant however many legs
        op.alter_column('call_legs', 'result', type_=sa.String(128), existing_type=sa.String(32),
                        existing_nullable=True)
    else:
        with op.batch_alter_table('call_legs') as batch:  # SQLite: the table is copied, rows kept
            batch.alter_column('result', type_=sa.String(128), existing_type=sa.String(32),
                               existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('call_legs', 'result', type_=sa.String(32), existing_type=sa.String(128),
                        existing_nullable=True, postgresql_using='left(result, 32)')
    else:
        with op.batch_alter_table('call_legs') as batch:
            batch.alter_column('result', type_=sa.String(32), existing_type=sa.String(128),
                               existing_nullable=True)
