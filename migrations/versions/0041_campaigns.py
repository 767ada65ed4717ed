"""outbound campaigns: campaigns, contacts, campaign blacklist, do-not-call list

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('queue', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('calling_hours', sa.JSON(), nullable=False),
    sa.Column('timezone', sa.String(length=64), server_default=sa.text("'America/Sao_Paulo'"), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('retry_interval', sa.Integer(), nullable=False),
    sa.Column('ratio', sa.Float(), server_default=sa.text('1.0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_campaigns_domain_id_domains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('domain_id', 'name', name='uq_campaigns_domain_name')
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_domain_id'), ['domain_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaigns_status'), ['status'], unique=False)

    op.create_table('do_not_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_do_not_call_domain_id_domains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_do_not_call')),
    sa.UniqueConstraint('domain_id', 'number', name='uq_do_not_call_domain_number')
    )
    with op.batch_alter_table('do_not_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_do_not_call_domain_id'), ['domain_id'], unique=False)

    op.create_table('campaign_blacklist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_blacklist_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_blacklist')),
    sa.UniqueConstraint('campaign_id', 'number', name='uq_campaign_blacklist_campaign_number')
    )
    with op.batch_alter_table('campaign_blacklist', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_blacklist_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('campaign_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_result', sa.String(length=32), nullable=True),
    sa.Column('call_id', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_contacts_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_contacts')),
    sa.UniqueConstraint('campaign_id', 'number', name='uq_campaign_contacts_campaign_number')
    )
    with op.batch_alter_table('campaign_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_contacts_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_contacts_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('campaign_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_contacts_status'))
        batch_op.drop_index(batch_op.f('ix_campaign_contacts_campaign_id'))

    op.drop_table('campaign_contacts')
    with op.batch_alter_table('campaign_blacklist', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_blacklist_campaign_id'))

    op.drop_table('campaign_blacklist')
    with op.batch_alter_table('do_not_call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_do_not_call_domain_id'))

    op.drop_table('do_not_call')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_status'))
        batch_op.drop_index(batch_op.f('ix_campaigns_domain_id'))

    op.drop_table('campaigns')
