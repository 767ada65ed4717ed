"""Escalation of unacknowledged alerts, on the persistent scheduler.

Each open alert stores when it escalates next (``alerts.escalate_at``). One
scheduler job per domain and level (id ``alerts.escalate.<domain>.<level>``)
runs at the earliest of them and escalates, together, every alert of that level
due within ``GROUP_WINDOW`` of it: a storm of 100 reds is one escalation listing
100 alerts, and after it their next deadline is again one. The job is a row in
the scheduler's table, so it survives a restart; one due while ccplane was down
runs once when it is back (scheduler defaults: no misfire grace, coalesce).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...scheduler import Scheduler, service
from ..domains.models import Domain
from . import domain as rules
from .audit import append_audit
from .models import Alert, AlertAppConfig

log = logging.getLogger("ccplane.alerts")
MAX_ESCALATIONS = 5  # an unacknowledged alert escalates this many times, then waits for a human
GROUP_WINDOW = 1.0  # seconds: alerts due this close to the group's first escalate with it
JOB_PREFIX = "alerts.escalate."

Publish = Callable[[str, str, dict[str, Any]], None]
PlaceCall = Callable[[str, Alert, str], object]


async def escalate_due(domain_id: int, level: str) -> None:
    """The scheduler's job (module-level, plain arguments: it is stored by reference)."""
    await service("alerts").escalations.run(domain_id, level)


def job_id(domain_id: int, level: str) -> str:
    return f"{JOB_PREFIX}{domain_id}.{level}"


def first_deadline(level: str, deadlines: dict[str, Any], created: datetime) -> datetime | None:
    seconds = deadlines.get(level)
    return created + timedelta(seconds=float(seconds)) if seconds else None


class Escalations:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], scheduler: Scheduler, publish: Publish,
                 place: PlaceCall, view: Callable[[Alert], dict[str, Any]]) -> None:
        self.sessions = sessions
        self.scheduler = scheduler
        self.publish = publish
        self.place = place
        self.view = view
        self._armed: dict[tuple[int, str], datetime] = {}  # (domain, level) -> the job's run time

    async def start(self) -> None:
        """Learn the stored jobs; give a job to any group of open alerts that has
        none (alerts open before the scheduler existed, or a job write that
        failed). Nothing is re-derived for groups whose job is stored."""
        self._armed.clear()
        for jid, at in (await self.scheduler.jobs(JOB_PREFIX)).items():
            domain, _, level = jid.removeprefix(JOB_PREFIX).partition(".")
            if at is not None and domain.isdigit():
                self._armed[(int(domain), level)] = at
        async with self.sessions() as s:
            groups = (await s.execute(select(Alert.domain_id, Alert.level, func.min(Alert.escalate_at))
                                      .where(Alert.status == "new", Alert.escalate_at.is_not(None))
                                      .group_by(Alert.domain_id, Alert.level))).all()
        for domain_id, level, at in groups:
            if at is not None and (domain_id, level) not in self._armed:
                log.info("alert.escalation_adopted", extra={"domain_id": domain_id, "level": level})
                await self.arm(domain_id, level, _utc(at))

    async def arm(self, domain_id: int, level: str, at: datetime) -> None:
        """Make sure the group's job runs no later than ``at``. The first alert of
        a burst writes the job; the others find it armed and write nothing."""
        key = (domain_id, level)
        armed = self._armed.get(key)
        if armed is not None and armed <= at:
            return
        self._armed[key] = at
        try:
            await self.scheduler.schedule(at, escalate_due, (domain_id, level), id=job_id(domain_id, level))
        except Exception:
            log.exception("alert.escalation_schedule_failed", extra={"domain_id": domain_id, "level": level})
            if self._armed.get(key) == at:
                del self._armed[key]

    async def run(self, domain_id: int, level: str) -> None:
        """Escalate the group's due alerts at once, then arm its next deadline."""
        self._armed.pop((domain_id, level), None)  # this job is spent
        now = datetime.now(UTC)
        async with self.sessions() as s:
            slug = await s.scalar(select(Domain.slug).where(Domain.id == domain_id))
            config = await s.scalar(select(AlertAppConfig).where(AlertAppConfig.domain_id == domain_id))
            deadline = {**rules.DEFAULT_DEADLINES, **(config.ack_deadlines if config else {})}.get(level)
            due = list(await s.scalars(select(Alert).where(
                Alert.domain_id == domain_id, Alert.level == level, Alert.status == "new",
                Alert.escalate_at.is_not(None), Alert.escalate_at <= now + timedelta(seconds=GROUP_WINDOW))
                .order_by(Alert.id)))
            escalated = []
            for alert in due:
                if alert.escalations >= MAX_ESCALATIONS:
                    alert.escalate_at = None
                    continue
                alert.escalations += 1
                more = alert.escalations < MAX_ESCALATIONS and deadline
                alert.escalate_at = now + timedelta(seconds=float(deadline)) if more and deadline else None
                await append_audit(s, domain_id, alert.id, "ccplane", "escalated", {"escalation": alert.escalations})
                escalated.append(alert)
            await s.commit()
            following = await s.scalar(select(func.min(Alert.escalate_at)).where(
                Alert.domain_id == domain_id, Alert.level == level, Alert.status == "new",
                Alert.escalate_at.is_not(None)))
        if escalated and slug is not None:
            views = [self.view(a) for a in escalated]
            log.warning("alert.escalated", extra={"domain": slug, "level": level, "alerts": len(views)})
            # One event per group: the first alert's fields (as for a single alert)
            # and every alert escalated with it.
            self.publish(slug, "alert.escalated", {**views[0], "level": level, "alerts": views})
            queue = config.escalation_queue if config else None
            if queue and level in rules.QUEUE_PRIORITY:
                for alert in escalated:
                    if alert.escalations == 1:
                        self.place(slug, alert, queue)  # the next group is called too
        if following is not None:
            await self.arm(domain_id, level, _utc(following))


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
