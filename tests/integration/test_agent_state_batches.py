"""Agent state spans written in batches: the same spans as one change at a time
(a span opened and closed within a batch, one left open and closed by the next
batch, an agent going offline in the middle of one), on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from ccplane.features.domains.models import Domain
from ccplane.features.reports.activity import AgentStateLog
from ccplane.features.reports.models import AgentStateSpan


async def test_a_batch_of_changes_is_stored_as_the_spans_one_at_a_time_would_give(services: Any,
                                                                                    domain: str) -> None:
    now = [0.0]
    base = datetime(2026, 12, 7, 10, 0, 0, tzinfo=timezone.utc).timestamp()
    log = AgentStateLog(services.sessions, clock=lambda: base + now[0])

    def change(second: float, user: str, state: str, reason: str | None = None) -> None:
        now[0] = second
        log.on_view(domain, {"username": user, "state": state, "pause_reason": reason})

    change(0, "batch-ana", "available")
    change(0, "batch-bia", "available")
    change(1, "batch-ana", "ringing")
    change(2, "batch-ana", "in_call")
    change(3, "batch-bia", "offline")
    await log.flush()  # ana's in_call span stays open
    change(5, "batch-ana", "paused", "lunch")
    change(7, "batch-bia", "available")
    await log.flush()
    change(9, "batch-ana", "offline")
    await log.flush()
    async with services.sessions() as s:
        domain_id = await s.scalar(select(Domain.id).where(Domain.slug == domain))
        rows = list(await s.scalars(select(AgentStateSpan).where(
            AgentStateSpan.domain_id == domain_id, AgentStateSpan.username.in_(["batch-ana", "batch-bia"]))
            .order_by(AgentStateSpan.username, AgentStateSpan.started_at)))

    def second(value: datetime | None) -> float | None:
        return None if value is None else round(value.timestamp() - base, 3)
    got = [(r.username, r.state, r.reason, second(r.started_at), second(r.ended_at)) for r in rows]
    assert got == [
        ("batch-ana", "available", None, 0, 1),
        ("batch-ana", "ringing", None, 1, 2),
        ("batch-ana", "in_call", None, 2, 5),  # opened in the first batch, closed by the second
        ("batch-ana", "paused", "lunch", 5, 9),
        ("batch-bia", "available", None, 0, 3),  # offline in the middle of the first batch
        ("batch-bia", "available", None, 7, None),  # still open
    ], got
