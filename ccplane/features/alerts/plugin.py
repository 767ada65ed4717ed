from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...plugin import Feature, Wiring
from .calls import AlertCaller
from .http import api
from .models import AlertAppConfig
from .notes import AlertNotes
from .services import AlertService


def setup(w: Wiring) -> None:
    core = w.core
    caller = AlertCaller(core.ami, w.sounds_dir)
    # a ring ccplane takes back for a higher alert is nobody's miss (the call tracker classifies offers)
    caller.preemptor.withdrawn = lambda member: core.calls.tracker.withdraw_offer(member)
    caller.preemptor.subscribe(core.bus)  # it follows the call tracker's events, not raw AMI
    alerts = w.provide("alerts", AlertService(core.sessions, core.auth.signer, core.live.publish, caller, w.changed,
                                              core.scheduler, throttle=core.auth.throttle))
    w.provide("alert_notes", AlertNotes(core.sessions, core.live.publish))
    core.persons.on_change.append(alerts.forget_person)
    core.persons.on_saved.append(alerts.person_saved)
    core.persons.on_removed.append(alerts.person_removed)
    w.on_start(alerts.start)
    w.on_stop("alerts", alerts.stop)


async def contribute(s: AsyncSession, model: dict[str, Any]) -> None:
    """The monitoring queues: alert calls and the persons' own calls wait there with their priority."""
    monitoring = set((await s.execute(select(AlertAppConfig.domain_id, AlertAppConfig.monitoring_queue)
                                      .where(AlertAppConfig.monitoring_queue.is_not(None)))).all())
    for q in model["queues"]:
        q["monitoring"] = (q["domain_id"], q["name"]) in monitoring


FEATURE = Feature("alerts", setup, api=api, render=contribute)
