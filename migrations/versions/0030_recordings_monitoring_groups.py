"""recordings, monitoring groups, record flags on extensions and outbound routes

Monitoring groups get a table (and their members one); every group name that
queues already carry in ``queues.monitoring_group`` becomes a group of its
domain, so no existing queue loses its group. Recordings and the per-domain
retention policy are new tables. Extensions and outbound routes get a
``record`` flag, off for every existing row.

Revision ID: 0030
Revises: 0021
Create Date: 2026-12-06
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op


revision = '0030'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('monitoring_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_monitoring_groups_domain_id_domains'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_groups')),
    sa.UniqueConstraint('domain_id', 'name', name='uq_monitoring_groups_domain_name')
    )
    with op.batch_alter_table('monitoring_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_groups_domain_id'), ['domain_id'], unique=False)

    op.create_table('monitoring_group_members',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['monitoring_groups.id'],
                            name=op.f('fk_monitoring_group_members_group_id_monitoring_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_monitoring_group_members_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_monitoring_group_members'))
    )
    with op.batch_alter_table('monitoring_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_group_members_user_id'), ['user_id'], unique=False)

    op.create_table('recordings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('file', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('protocol', sa.String(length=32), nullable=True),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=True),
    sa.Column('agent_uniqueid', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration', sa.Float(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_recordings_domain_id_domains'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recordings')),
    sa.UniqueConstraint('file', name=op.f('uq_recordings_file'))
    )
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        for column in ('agent', 'call_id', 'domain_id', 'protocol', 'queue', 'started_at'):
            batch_op.create_index(batch_op.f(f'ix_recordings_{column}'), [column], unique=False)

    op.create_table('recording_policies',
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('retention_days', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_recording_policies_domain_id_domains'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('domain_id', name=op.f('pk_recording_policies'))
    )

    with op.batch_alter_table('extensions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    with op.batch_alter_table('outbound_routes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record', sa.Boolean(), server_default=sa.text('false'), nullable=False))

    # the group names queues already carry become groups
    conn = op.get_bind()
    now = datetime.now(timezone.utc)
    pairs = conn.execute(sa.text("SELECT DISTINCT domain_id, monitoring_group FROM queues "
                                 "WHERE monitoring_group IS NOT NULL AND monitoring_group <> ''")).all()
    groups = sa.table('monitoring_groups', sa.column('domain_id', sa.Integer), sa.column('name', sa.String),
                      sa.column('created_at', sa.DateTime(timezone=True)),
                      sa.column('updated_at', sa.DateTime(timezone=True)))
    if pairs:
        op.bulk_insert(groups, [{"domain_id": d, "name": n, "created_at": now, "updated_at": now} for d, n in pairs])


def downgrade() -> None:
    with op.batch_alter_table('outbound_routes', schema=None) as batch_op:
        batch_op.drop_column('record')
    with op.batch_alter_table('extensions', schema=None) as batch_op:
        batch_op.drop_column('record')
    op.drop_table('recording_policies')
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        for column in ('agent', 'call_id', 'domain_id', 'protocol', 'queue', 'started_at'):
            batch_op.drop_index(batch_op.f(f'ix_recordings_{column}'))
    op.drop_table('recordings')
    with op.batch_alter_table('monitoring_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_group_members_user_id'))
    op.drop_table('monitoring_group_members')
    with op.batch_alter_table('monitoring_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_groups_domain_id'))
    op.drop_table('monitoring_groups')
