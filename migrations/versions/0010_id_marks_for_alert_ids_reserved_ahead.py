"""id marks for alert ids reserved ahead

Alert ids are reserved before the alert's row is written (its call rings first).
PostgreSQL reserves from the table's sequence; SQLite keeps the high-water mark
of the reservation here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('id_marks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('high', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_id_marks'))
    )


def downgrade() -> None:
    op.drop_table('id_marks')
