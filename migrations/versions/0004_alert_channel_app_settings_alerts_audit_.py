"""alert channel: app settings, alerts, audit chain

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_app_configs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('app_name', sa.String(length=60), nullable=False),
    sa.Column('colors', sa.JSON(), nullable=False),
    sa.Column('show_logo', sa.Boolean(), server_default=sa.text('(true)'), nullable=False),
    sa.Column('texts', sa.JSON(), nullable=False),
    sa.Column('call_number', sa.String(length=20), nullable=True),
    sa.Column('monitoring_queue', sa.String(length=32), nullable=True),
    sa.Column('ack_deadlines', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_alert_app_configs_domain_id_domains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_app_configs')),
    sa.UniqueConstraint('domain_id', name=op.f('uq_alert_app_configs_domain_id'))
    )
    op.create_table('alert_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_alert_audit_domain_id_domains'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_audit')),
    sa.UniqueConstraint('domain_id', 'seq', name='uq_alert_audit_domain_seq')
    )
    with op.batch_alter_table('alert_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_audit_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_audit_domain_id'), ['domain_id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('person_name', sa.String(length=120), nullable=False),
    sa.Column('person_cpf', sa.String(length=11), nullable=False),
    sa.Column('person_phone', sa.String(length=13), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('accuracy', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('acknowledged_by', sa.String(length=64), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('call_id', sa.String(length=64), nullable=True),
    sa.Column('call_answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('person_call_id', sa.String(length=64), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('escalations', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_alerts_domain_id_domains'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['monitored_persons.id'], name=op.f('fk_alerts_person_id_monitored_persons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_domain_id'), ['domain_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_person_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_domain_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_created_at'))

    op.drop_table('alerts')
    with op.batch_alter_table('alert_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_audit_domain_id'))
        batch_op.drop_index(batch_op.f('ix_alert_audit_alert_id'))

    op.drop_table('alert_audit')
    op.drop_table('alert_app_configs')
