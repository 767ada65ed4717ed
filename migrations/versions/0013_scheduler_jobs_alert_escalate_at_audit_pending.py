"""scheduler jobs, alert escalation time, audit rows chained after commit

- ``apscheduler_jobs``: APScheduler 3.11's SQLAlchemy job store (ccplane/scheduler.py),
  created here so the schema has one owner; the store's own create is then a no-op.
- ``alerts.escalate_at``: when an open alert escalates next. The scheduler's
  group jobs run at the earliest of a domain's level; alerts open before this
  revision get theirs from their level's deadline after their last escalation
  (or creation), so none is left without one.
- ``alert_audit.seq/prev_hash/hash`` nullable: a row is committed with its
  alert at once and linked into the domain's hash chain right after, by one
  chain writer, so no lock serialises the alerts of a domain.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

DEFAULT_DEADLINES = {"red": 15, "yellow": 60}  # features/alerts/domain.py at this revision
MAX_ESCALATIONS = 5


def _utc(value: object) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def upgrade() -> None:
    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apscheduler_jobs'))
    )
    op.create_index('ix_apscheduler_jobs_next_run_time', 'apscheduler_jobs', ['next_run_time'], unique=False)
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalate_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_alerts_escalate_at'), ['escalate_at'], unique=False)
    with op.batch_alter_table('alert_audit', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=True)

    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT a.id, a.level, a.created_at, a.escalations, c.ack_deadlines FROM alerts a "
        "LEFT JOIN alert_app_configs c ON c.domain_id = a.domain_id WHERE a.status = 'new'")).all()
    for alert_id, level, created_at, escalations, custom in rows:
        if isinstance(custom, str):
            custom = json.loads(custom)
        deadline = {**DEFAULT_DEADLINES, **(custom or {})}.get(level)
        if not deadline or (escalations or 0) >= MAX_ESCALATIONS:
            continue
        last = conn.execute(sa.text("SELECT max(at) FROM alert_audit WHERE alert_id = :id AND action = 'escalated'"),
                            {"id": alert_id}).scalar()
        since = _utc(last) if last else _utc(created_at)
        conn.execute(sa.text("UPDATE alerts SET escalate_at = :at WHERE id = :id"),
                     {"at": since + timedelta(seconds=float(deadline)), "id": alert_id})


def downgrade() -> None:
    with op.batch_alter_table('alert_audit', schema=None) as batch_op:
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_escalate_at'))
        batch_op.drop_column('escalate_at')
    op.drop_index('ix_apscheduler_jobs_next_run_time', table_name='apscheduler_jobs')
    op.drop_table('apscheduler_jobs')
