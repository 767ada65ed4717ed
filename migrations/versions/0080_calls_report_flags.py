"""reports: per-call transferred flag and ring time on calls (kept by the journey writer,
backfilled here from the legs); on PostgreSQL the period index covers the aggregates' columns

Revision ID: 0080
Revises: 0070
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0080'
down_revision = '0070'
branch_labels = None
depends_on = None

# The columns the aggregate reports read, carried in the period index so PostgreSQL answers
# them from the index alone (SQLite takes the key part and reads the rows).
COVERED = ['status', 'answered_at', 'end_reason', 'wait_seconds', 'talk_seconds', 'transferred', 'ring_seconds',
           'direction', 'queue', 'agent', 'did']


def upgrade() -> None:
    op.add_column('calls', sa.Column('transferred', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('calls', sa.Column('ring_seconds', sa.Float(), nullable=True))
    bind = op.get_bind()
    # SQLite: whole seconds plus the milliseconds its %f gives (julianday's double drifts by tens of
    # microseconds on today's dates); the journey writer keeps new calls to the microsecond
    secs = ("((strftime('%s', l.ended_at) - strftime('%s', l.started_at)) + (strftime('%f', l.ended_at) "
            "- strftime('%S', l.ended_at)) - (strftime('%f', l.started_at) - strftime('%S', l.started_at)))"
            if bind.dialect.name == "sqlite" else "extract(epoch from l.ended_at - l.started_at)")
    # Only the calls that have a transfer or an offer leg change; the others keep false / NULL.
    op.execute("UPDATE calls SET "
               "transferred = EXISTS (SELECT 1 FROM call_legs l WHERE l.call_pk = calls.id AND l.kind = 'transfer'), "
               f"ring_seconds = (SELECT round(CAST(sum({secs}) AS numeric), 6) FROM call_legs l "
               "WHERE l.call_pk = calls.id AND l.kind = 'offer') "
               "WHERE id IN (SELECT call_pk FROM call_legs WHERE kind IN ('transfer', 'offer'))")
    if bind.dialect.name == "postgresql":  # same name and key, now with the covered columns
        op.drop_index('ix_calls_domain_started', table_name='calls')
        op.create_index('ix_calls_domain_started', 'calls', ['domain_id', 'started_at', 'id'],
                        postgresql_include=COVERED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_calls_domain_started', table_name='calls')
        op.create_index('ix_calls_domain_started', 'calls', ['domain_id', 'started_at', 'id'])
    # a plain DROP COLUMN (SQLite 3.35+ has it): a batch copy of calls would cascade-delete every leg
    op.execute("ALTER TABLE calls DROP COLUMN ring_seconds")
    op.execute("ALTER TABLE calls DROP COLUMN transferred")
