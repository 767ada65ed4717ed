"""Listen / whisper / barge (ChanSpy from the supervisor's extension) and the
panel's colour thresholds."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...asterisk.ami import AmiClient
from ...errors import AsteriskError, Conflict, Forbidden, NotFound, ValidationFailed
from ...web.context import READ_ROLES, Principal
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..extensions.domain import endpoint_name
from ..extensions.models import Extension
from ..monitoring_groups.services import covered_queues
from ..queues.models import Queue
from .domain import SPY_OPTIONS, ordered, spy_data
from .models import PanelThreshold
from .schemas import SpyIn, SpyOut, ThresholdIn, ThresholdOut

log = logging.getLogger("ccplane.supervision")

RING_MS = 30000  # how long the supervisor's extension rings before ccplane gives up


class SpyService:
    """``POST /calls/{id}/spy``: ccplane rings the supervisor's extension and, once it
    answers, runs ChanSpy on the agent's channel with the mode's options."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ami: AmiClient, tracker: Any,
                 registered: Callable[[str], bool]) -> None:
        self.sessions = sessions
        self.ami = ami
        self.tracker = tracker
        self.registered = registered  # PJSIP endpoint -> has a registered contact

    async def spy(self, me: Principal, slug: str, call_id: str, body: SpyIn) -> SpyOut:
        me.require(READ_ROLES, "listen to calls")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            call = self.tracker.calls.get(call_id)
            if call is None or call.domain != domain.slug or call.ended_at is not None:
                raise NotFound(f"no active call {call_id} in domain {domain.slug}", field="call")
            legs = [leg for leg in call.legs if leg.kind == "agent" and leg.answered_at and leg.ended_at is None]
            if not legs:
                raise Conflict(f"call {call_id} is not in talk with an agent", field="call")
            leg = legs[-1]
            if me.role == "supervisor":
                covered = await covered_queues(s, domain.id, me.user_id)
                if leg.queue is None or leg.queue not in covered:
                    raise Forbidden(f"queue {leg.queue or '(none)'} is not in your monitoring groups")
            ext = await s.scalar(select(Extension).where(Extension.domain_id == domain.id,
                                                         Extension.number == body.extension))
            if ext is None:
                raise NotFound(f"no extension {body.extension} in domain {domain.slug}", field="extension")
            if leg.interface == f"PJSIP/{endpoint_name(domain.slug, ext.number)}":
                raise ValidationFailed("the extension is the agent's own: use another one", field="extension")
            if not self.registered(endpoint_name(domain.slug, ext.number)):
                raise Conflict(f"extension {ext.number} is not registered: no phone would ring", field="extension")
        agent_chan = self.tracker.channel_name(leg.uniqueid)
        if agent_chan is None:
            raise Conflict(f"call {call_id} has no agent channel to listen to", field="call")
        spy_id = f"spy-{secrets.token_hex(6)}"
        label = {"listen": "Escuta", "whisper": "Sussurro", "barge": "Conferência"}[body.mode]
        try:
            await self.ami.action({
                "Action": "Originate", "Channel": f"PJSIP/{endpoint_name(domain.slug, ext.number)}",
                "Application": "ChanSpy", "Data": spy_data(agent_chan, body.mode),
                "CallerID": f"{label} {leg.agent or ''} <{ext.number}>", "Timeout": str(RING_MS), "Async": "true",
                "ChannelId": spy_id, "Variable": f"CCPLANE_SPY={body.mode}"})
        except AsteriskError as exc:
            raise Conflict(f"Asterisk refused to ring extension {ext.number}: {exc}", field="extension") from None
        log.info("supervision.spy call=%s mode=%s extension=%s by=%s", call_id, body.mode, ext.number, me.username,
                 extra={"call": call_id, "domain": domain.slug})
        return SpyOut(call=call_id, mode=body.mode, extension=ext.number, agent=leg.agent or "", spy_channel=spy_id,
                      options=SPY_OPTIONS[body.mode])


class ThresholdService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def list(self, me: Principal, slug: str) -> list[ThresholdOut]:
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            me.require(READ_ROLES, "read the panel's thresholds")
            return await self._list(s, domain)

    @staticmethod
    async def _list(s: AsyncSession, domain: Domain) -> list[ThresholdOut]:
        rows = await s.scalars(select(PanelThreshold).where(PanelThreshold.domain_id == domain.id)
                               .order_by(PanelThreshold.queue, PanelThreshold.figure))
        return [ThresholdOut(queue=r.queue, figure=r.figure, yellow=r.yellow, red=r.red) for r in rows]

    async def replace(self, me: Principal, slug: str, items: list[ThresholdIn]) -> list[ThresholdOut]:
        """Replace the thresholds (all checked first: a refusal changes nothing). An administrator
        replaces every row of the domain; a supervisor only the rows of their monitoring groups'
        queues (the domain's default, ``queue: ""``, and other queues' rows are the administrators'
        and stay as they are): a row for any other queue is 403 naming ``items[i].queue``."""
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            me.require(READ_ROLES, "change the panel's thresholds")
            queues = set(await s.scalars(select(Queue.name).where(Queue.domain_id == domain.id)))
            mine = await covered_queues(s, domain.id, me.user_id) if me.role == "supervisor" else None
            seen: set[tuple[str, str]] = set()
            for i, item in enumerate(items):
                if item.queue and item.queue not in queues:
                    raise ValidationFailed(f"items[{i}].queue: no queue {item.queue} in this domain",
                                           field=f"items[{i}].queue")
                if mine is not None and item.queue not in mine:
                    raise Forbidden(f"items[{i}].queue: queue {item.queue or '(every queue)'} is not in your "
                                    "monitoring groups", field=f"items[{i}].queue")
                if item.figure == "service_level" and (item.yellow > 100 or item.red > 100):
                    raise ValidationFailed(f"items[{i}]: a service level is a percentage (0 to 100)",
                                           field=f"items[{i}].yellow")
                if not ordered(item.figure, item.yellow, item.red):
                    worse = "below" if item.figure == "service_level" else "above"
                    raise ValidationFailed(f"items[{i}].red: must be at or {worse} yellow for {item.figure}",
                                           field=f"items[{i}].red")
                if (item.queue, item.figure) in seen:
                    raise ValidationFailed(f"items[{i}]: {item.figure} of {item.queue or 'every queue'} given twice",
                                           field=f"items[{i}].figure")
                seen.add((item.queue, item.figure))
            replaced = delete(PanelThreshold).where(PanelThreshold.domain_id == domain.id)
            if mine is not None:
                replaced = replaced.where(PanelThreshold.queue.in_(sorted(mine)))
            await s.execute(replaced)
            for item in items:
                s.add(PanelThreshold(domain_id=domain.id, queue=item.queue, figure=item.figure,
                                     yellow=item.yellow, red=item.red))
            await s.commit()
            return await self._list(s, domain)
