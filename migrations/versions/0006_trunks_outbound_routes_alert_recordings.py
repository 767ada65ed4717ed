"""trunks, outbound routes, alert recordings

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbound_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('patterns', sa.JSON(), nullable=False),
    sa.Column('trunks', sa.JSON(), nullable=False),
    sa.Column('strip', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_outbound_routes_domain_id_domains'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_routes')),
    sa.UniqueConstraint('domain_id', 'name', name='uq_outbound_routes_domain_name')
    )
    with op.batch_alter_table('outbound_routes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_routes_domain_id'), ['domain_id'], unique=False)

    op.create_table('trunks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('transport', sa.String(length=8), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('secret', sa.String(length=64), nullable=True),
    sa.Column('register', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('caller_id', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_trunks_domain_id_domains'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trunks')),
    sa.UniqueConstraint('domain_id', 'name', name='uq_trunks_domain_name')
    )
    with op.batch_alter_table('trunks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trunks_domain_id'), ['domain_id'], unique=False)

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recording', sa.String(length=120), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('recording')

    with op.batch_alter_table('trunks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trunks_domain_id'))

    op.drop_table('trunks')
    with op.batch_alter_table('outbound_routes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_routes_domain_id'))

    op.drop_table('outbound_routes')
