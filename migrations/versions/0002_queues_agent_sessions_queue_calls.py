"""queues, agent sessions, queue calls

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('queues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('strategy', sa.String(length=16), nullable=False),
    sa.Column('ring_timeout', sa.Integer(), nullable=False),
    sa.Column('retry', sa.Integer(), nullable=False),
    sa.Column('wrapup_time', sa.Integer(), nullable=False),
    sa.Column('max_no_answer', sa.Integer(), nullable=False),
    sa.Column('call_timeout', sa.Integer(), nullable=False),
    sa.Column('reject_delay', sa.Integer(), nullable=False),
    sa.Column('busy_delay', sa.Integer(), nullable=True),
    sa.Column('noanswer_delay', sa.Integer(), nullable=False),
    sa.Column('max_wait', sa.Integer(), nullable=False),
    sa.Column('max_len', sa.Integer(), nullable=False),
    sa.Column('join_empty', sa.Boolean(), server_default=sa.text('(true)'), nullable=False),
    sa.Column('leave_empty', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('record', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('monitoring_group', sa.String(length=64), nullable=True),
    sa.Column('overflow', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("strategy IN ('ringall','linear','rrmemory','leastrecent','fewestcalls','random')", name=op.f('ck_queues_strategy')),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_queues_domain_id_domains'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queues')),
    sa.UniqueConstraint('domain_id', 'name', name='uq_queues_domain_name')
    )
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queues_domain_id'), ['domain_id'], unique=False)

    op.create_table('agent_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('extension_id', sa.Integer(), nullable=False),
    sa.Column('logged_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paused', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('pause_reason', sa.String(length=64), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_agent_sessions_domain_id_domains'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['extension_id'], ['extensions.id'], name=op.f('fk_agent_sessions_extension_id_extensions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agent_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_sessions')),
    sa.UniqueConstraint('extension_id', name=op.f('uq_agent_sessions_extension_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_agent_sessions_user_id'))
    )
    with op.batch_alter_table('agent_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_sessions_domain_id'), ['domain_id'], unique=False)

    op.create_table('queue_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=True),
    sa.Column('caller_uniqueid', sa.String(length=64), nullable=True),
    sa.Column('caller_number', sa.String(length=64), nullable=True),
    sa.Column('agent_username', sa.String(length=64), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('talk_seconds', sa.Float(), nullable=False),
    sa.Column('end_reason', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_queue_calls_domain_id_domains'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_queue_calls_queue_id_queues'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_calls'))
    )
    with op.batch_alter_table('queue_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_calls_caller_uniqueid'), ['caller_uniqueid'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_calls_domain_id'), ['domain_id'], unique=False)

    op.create_table('queue_extensions',
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('extension_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['extension_id'], ['extensions.id'], name=op.f('fk_queue_extensions_extension_id_extensions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_queue_extensions_queue_id_queues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('queue_id', 'extension_id', name=op.f('pk_queue_extensions'))
    )
    with op.batch_alter_table('queue_extensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_extensions_extension_id'), ['extension_id'], unique=False)

    op.create_table('agent_session_queues',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_agent_session_queues_queue_id_queues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['agent_sessions.id'], name=op.f('fk_agent_session_queues_session_id_agent_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'queue_id', name=op.f('pk_agent_session_queues'))
    )
    with op.batch_alter_table('agent_session_queues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_session_queues_queue_id'), ['queue_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wrapup_time', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('wrapup_time')

    with op.batch_alter_table('agent_session_queues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_session_queues_queue_id'))

    op.drop_table('agent_session_queues')
    with op.batch_alter_table('queue_extensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_extensions_extension_id'))

    op.drop_table('queue_extensions')
    with op.batch_alter_table('queue_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_calls_domain_id'))
        batch_op.drop_index(batch_op.f('ix_queue_calls_caller_uniqueid'))

    op.drop_table('queue_calls')
    with op.batch_alter_table('agent_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_sessions_domain_id'))

    op.drop_table('agent_sessions')
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queues_domain_id'))

    op.drop_table('queues')
