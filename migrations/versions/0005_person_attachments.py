"""person attachments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('person_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_as', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['monitored_persons.id'], name=op.f('fk_person_attachments_person_id_monitored_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_attachments'))
    )
    with op.batch_alter_table('person_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_attachments_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('person_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_attachments_person_id'))

    op.drop_table('person_attachments')
