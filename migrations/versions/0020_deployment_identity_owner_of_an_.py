"""deployment identity (owner of an Asterisk's rendered configuration)

One row: the id of this deployment (its database), which the renderer writes
as the owner of the Asterisk configuration it renders into.

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0020'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deployment_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deployment', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployment_identity'))
    )


def downgrade() -> None:
    op.drop_table('deployment_identity')
