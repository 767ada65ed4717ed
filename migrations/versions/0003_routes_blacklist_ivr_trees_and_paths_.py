"""routes, blacklist, IVR trees and paths, prompts, monitored persons

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blacklist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_blacklist_entries_domain_id_domains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blacklist_entries')),
    sa.UniqueConstraint('domain_id', 'number', name='uq_blacklist_domain_number')
    )
    with op.batch_alter_table('blacklist_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blacklist_entries_domain_id'), ['domain_id'], unique=False)

    op.create_table('blacklist_rejections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('caller', sa.String(length=40), nullable=False),
    sa.Column('did', sa.String(length=20), nullable=False),
    sa.Column('uniqueid', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_blacklist_rejections_domain_id_domains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blacklist_rejections')),
    sa.UniqueConstraint('uniqueid', name=op.f('uq_blacklist_rejections_uniqueid'))
    )
    with op.batch_alter_table('blacklist_rejections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blacklist_rejections_domain_id'), ['domain_id'], unique=False)

    op.create_table('inbound_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('did', sa.String(length=20), nullable=False),
    sa.Column('destination_type', sa.String(length=16), nullable=False),
    sa.Column('destination_target', sa.String(length=32), nullable=True),
    sa.Column('reject_delay', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_inbound_routes_domain_id_domains'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_routes')),
    sa.UniqueConstraint('did', name=op.f('uq_inbound_routes_did'))
    )
    with op.batch_alter_table('inbound_routes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_routes_domain_id'), ['domain_id'], unique=False)

    op.create_table('ivr_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('call', sa.String(length=64), nullable=False),
    sa.Column('tree', sa.String(length=24), nullable=False),
    sa.Column('node', sa.String(length=200), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('digits', sa.String(length=40), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_ivr_steps_domain_id_domains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_steps'))
    )
    with op.batch_alter_table('ivr_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ivr_steps_call'), ['call'], unique=False)
        batch_op.create_index(batch_op.f('ix_ivr_steps_domain_id'), ['domain_id'], unique=False)

    op.create_table('ivr_trees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=24), nullable=False),
    sa.Column('root', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_ivr_trees_domain_id_domains'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_trees')),
    sa.UniqueConstraint('domain_id', 'name', name='uq_ivr_trees_domain_name')
    )
    with op.batch_alter_table('ivr_trees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ivr_trees_domain_id'), ['domain_id'], unique=False)

    op.create_table('monitored_persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('cpf', sa.String(length=11), nullable=False),
    sa.Column('phone', sa.String(length=13), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('(true)'), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('token_version', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_monitored_persons_domain_id_domains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitored_persons')),
    sa.UniqueConstraint('domain_id', 'cpf', name='uq_monitored_persons_domain_cpf')
    )
    with op.batch_alter_table('monitored_persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitored_persons_domain_id'), ['domain_id'], unique=False)

    op.create_table('prompts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_prompts_domain_id_domains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prompts')),
    sa.UniqueConstraint('domain_id', 'name', name='uq_prompts_domain_name')
    )
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prompts_domain_id'), ['domain_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prompts_domain_id'))

    op.drop_table('prompts')
    with op.batch_alter_table('monitored_persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitored_persons_domain_id'))

    op.drop_table('monitored_persons')
    with op.batch_alter_table('ivr_trees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_trees_domain_id'))

    op.drop_table('ivr_trees')
    with op.batch_alter_table('ivr_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_steps_domain_id'))
        batch_op.drop_index(batch_op.f('ix_ivr_steps_call'))

    op.drop_table('ivr_steps')
    with op.batch_alter_table('inbound_routes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_routes_domain_id'))

    op.drop_table('inbound_routes')
    with op.batch_alter_table('blacklist_rejections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blacklist_rejections_domain_id'))

    op.drop_table('blacklist_rejections')
    with op.batch_alter_table('blacklist_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blacklist_entries_domain_id'))

    op.drop_table('blacklist_entries')
