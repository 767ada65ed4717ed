"""Attendants' notes on an alert. A note is a row of the alert's audit log
(action ``note``): hash-chained like every other thing done to an alert, so a
note cannot be edited or removed afterwards without the chain showing it."""
from __future__ import annotations

import json
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import NotFound
from ...web.context import ADMIN_ROLES, Principal
from ..domains.services import resolve_domain
from .audit import append_audit
from .models import Alert, AlertAudit
from .schemas import AlertNoteOut

TEAM = ADMIN_ROLES | {"supervisor", "agent"}
NOTE = "note"
Publish = Callable[[str, str, dict[str, Any]], None]


def _author(actor: str) -> str:
    return actor.split(":", 1)[1] if actor.startswith("user:") else actor


def note_view(row: AlertAudit) -> AlertNoteOut:
    data = json.loads(row.data) if row.data else {}
    return AlertNoteOut(alert=row.alert_id or 0, author=_author(row.actor), text=str(data.get("text", "")),
                        at=row.at)


class AlertNotes:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], publish: Publish) -> None:
        self.sessions, self.publish = sessions, publish

    async def _alert(self, s: AsyncSession, me: Principal, slug: str, alert_id: int) -> Alert:
        domain = await resolve_domain(s, me, slug)
        alert = await s.scalar(select(Alert).where(Alert.domain_id == domain.id, Alert.id == alert_id))
        if alert is None:
            raise NotFound(f"alert {alert_id} not found", field="id")
        return alert

    async def add(self, me: Principal, slug: str, alert_id: int, text: str) -> AlertNoteOut:
        me.require(TEAM, "write notes on alerts")
        async with self.sessions() as s:
            alert = await self._alert(s, me, slug, alert_id)
            await append_audit(s, alert.domain_id, alert.id, f"user:{me.username}", NOTE, {"text": text})
            await s.commit()
            row = await s.scalar(select(AlertAudit).where(AlertAudit.alert_id == alert.id, AlertAudit.action == NOTE)
                                 .order_by(AlertAudit.id.desc()).limit(1))
        assert row is not None
        view = note_view(row)
        self.publish(slug, "alert.note", view.model_dump())
        return view

    async def list(self, me: Principal, slug: str, alert_id: int) -> list[AlertNoteOut]:
        me.require(TEAM, "read notes on alerts")
        async with self.sessions() as s:
            alert = await self._alert(s, me, slug, alert_id)
            rows = await s.scalars(select(AlertAudit).where(AlertAudit.domain_id == alert.domain_id,
                                                            AlertAudit.alert_id == alert.id,
                                                            AlertAudit.action == NOTE).order_by(AlertAudit.id))
            return [note_view(r) for r in rows]
