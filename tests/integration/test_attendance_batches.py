"""Attendances written in batches: answers and ends that queue up together are
stored in one transaction with the protocols and ends one at a time would give,
published in the events' order (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from ccplane.features.attendances.models import Attendance
from ccplane.features.attendances.services import AttendanceService
from ccplane.features.calls.events import LegAnswered, LegEnded
from ccplane.features.domains.models import Domain

DAY = datetime(2026, 1, 2, 12, 0, 0, tzinfo=timezone.utc).timestamp()  # a day no other test allocates


def _answered(domain: str, n: int, at: float) -> LegAnswered:
    return LegAnswered(call_id=f"batch-call-{n}", domain=domain, at=at, kind="agent", uniqueid=f"batch-leg-{n}",
                       channel=None, queue="q", queue_key=f"{domain}_q", interface=None, agent=f"agent{n}",
                       caller_uniqueid=None, caller_channel=None, caller_number=None)


def _ended(domain: str, n: int, answered: float, at: float, reason: str) -> LegEnded:
    return LegEnded(call_id=f"batch-call-{n}", domain=domain, at=at, kind="agent", uniqueid=f"batch-leg-{n}",
                    queue="q", queue_key=f"{domain}_q", interface=None, agent=f"agent{n}", caller_uniqueid=None,
                    answered_at=answered, reason=reason)


async def test_events_queued_together_are_stored_as_one_at_a_time_would(services: Any, domain: str) -> None:
    published: list[tuple[str, str, str | None]] = []
    attendances = AttendanceService(services.sessions,
                                    lambda _slug, kind, data: published.append((kind, data["call"], data["protocol"])))
    await attendances.start()
    try:
        for event in (_answered(domain, 1, DAY), _answered(domain, 2, DAY + 1), _answered(domain, 2, DAY + 1),
                      _ended(domain, 1, DAY, DAY + 5, "caller"), _answered(domain, 3, DAY + 6),
                      _ended(domain, 3, DAY + 6, DAY + 8, "agent")):
            attendances.on_event(event)  # all queued before the writer runs: one batch
        await attendances.idle()
        attendances.on_event(_ended(domain, 2, DAY + 1, DAY + 20, "transfer"))  # a later batch closes it
        await attendances.idle()
    finally:
        await attendances.stop()
    async with services.sessions() as s:
        domain_id = await s.scalar(select(Domain.id).where(Domain.slug == domain))
        rows = list(await s.scalars(select(Attendance).where(Attendance.domain_id == domain_id,
                                                             Attendance.call_id.like("batch-call-%"))
                                    .order_by(Attendance.protocol)))
    got = [(r.protocol, r.call_id, r.leg_uniqueid, r.talk_time, r.end_reason) for r in rows]
    assert got == [
        ("20260102000001", "batch-call-1", "batch-leg-1", 5.0, "caller"),
        ("20260102000002", "batch-call-2", "batch-leg-2", 19.0, "transfer"),  # answered twice: stored once
        ("20260102000003", "batch-call-3", "batch-leg-3", 2.0, "agent"),
    ], got
    assert published == [
        ("attendance.started", "batch-call-1", "20260102000001"),
        ("attendance.started", "batch-call-2", "20260102000002"),
        ("attendance.started", "batch-call-2", "20260102000002"),
        ("attendance.ended", "batch-call-1", "20260102000001"),
        ("attendance.started", "batch-call-3", "20260102000003"),
        ("attendance.ended", "batch-call-3", "20260102000003"),
        ("attendance.ended", "batch-call-2", "20260102000002"),
    ], published
    assert attendances.protocol_of("batch-call-1") is None and attendances.failures == 0
