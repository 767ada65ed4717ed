"""Indexes the reports need on the journey tables (owned by features/calls; declared
here so the models and migration 0015 agree): a domain's period in start order
(filters and the detailed keyset), and a call's legs by kind (the EXISTS/ring subqueries)."""
from __future__ import annotations

from sqlalchemy import Index

from ..calls.models import CallLeg, CallRecord

CALLS_PERIOD = Index("ix_calls_domain_started", CallRecord.domain_id, CallRecord.started_at, CallRecord.id)
LEGS_BY_KIND = Index("ix_call_legs_call_kind", CallLeg.call_pk, CallLeg.kind)
