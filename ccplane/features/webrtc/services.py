"""The agent screen's phone: what the page needs to register, and the call-quality
figures it reports, kept per agent leg (call + agent) and read by supervisors."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...db.base import utcnow
from ...errors import Conflict, Forbidden, NotFound
from ...settings import WebRtcSettings
from ...web.context import READ_ROLES, Principal
from ..common import as_utc
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..extensions.domain import endpoint_name
from ..extensions.models import Extension
from ..users.models import User
from .events import CallQualityReported
from .domain import ice_servers, loss_percent, mos_estimate, sip_domain_of
from .models import CallQuality
from .schemas import QualityOut, QualityReport

log = logging.getLogger("ccplane.webrtc")


@dataclass(frozen=True)
class PhoneConfig:
    """What the agent's own page gets to register its WebRTC extension (never another's)."""
    extension: str
    display_name: str
    uri: str
    authorization_user: str
    password: str
    wss_url: str
    ice_servers: list[dict[str, str]]
    stats_interval: int

    def as_dict(self) -> dict[str, Any]:
        return {"extension": self.extension, "display_name": self.display_name, "uri": self.uri,
                "authorization_user": self.authorization_user, "password": self.password,
                "wss_url": self.wss_url, "ice_servers": self.ice_servers,
                "stats_interval": self.stats_interval}


def quality_view(q: CallQuality) -> QualityOut:
    first, last = as_utc(q.first_at), as_utc(q.last_at)
    assert first is not None and last is not None
    return QualityOut(call=q.call_id, agent=q.agent, extension=q.extension, samples=q.samples,
                      packets_sent=q.packets_sent, packets_received=q.packets_received,
                      packets_lost=q.packets_lost, loss_percent=q.loss_percent, jitter_ms=q.jitter_ms,
                      rtt_ms=q.rtt_ms, mos=q.mos, mos_min=q.mos_min, first_at=first, last_at=last)


class WebRtcService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], calls: Any, settings: WebRtcSettings,
                 wss_url: str, publish: Callable[[object], None] | None = None) -> None:
        self.sessions = sessions
        self.publish = publish  # the bus: each report goes to the supervisors' panels (live feed)
        self.calls = calls
        self.settings = settings
        self.wss_url = wss_url

    async def phone_for(self, user_id: int, slug: str) -> PhoneConfig | None:
        """The phone of user ``user_id`` in domain ``slug``: their WebRTC extension's
        credentials, or None (no WebRTC extension, or no WSS URL configured)."""
        if not self.wss_url:
            return None
        async with self.sessions() as s:
            row = (await s.execute(
                select(Extension, User.name).join(User, User.webrtc_extension_id == Extension.id)
                .join(Domain, Domain.id == Extension.domain_id)
                .where(User.id == user_id, Domain.slug == slug, Extension.kind == "webrtc"))).first()
        if row is None:
            return None
        ext, name = row
        endpoint = endpoint_name(slug, ext.number)
        host = sip_domain_of(self.wss_url, self.settings.sip_domain)
        return PhoneConfig(
            extension=ext.number, display_name=str(name or ext.name), uri=f"sip:{endpoint}@{host}",
            authorization_user=endpoint, password=ext.secret, wss_url=self.wss_url,
            ice_servers=[i.as_dict() for i in ice_servers(self.settings.ice_servers, self.settings.turn_secret,
                                                          endpoint, time.time(), self.settings.turn_ttl)],
            stats_interval=self.settings.stats_interval)

    async def report(self, me: Principal, slug: str, username: str, body: QualityReport) -> QualityOut:
        """Keep what the agent's phone measured on its current call (or ``body.call``)."""
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
        if me.username != username:
            raise Forbidden("only the agent's own phone reports its call quality")
        call_id = body.call or self._current_call(domain.slug, username)
        if body.call:
            live = {v["id"]: v for v in self.calls.active_view(domain.slug)}.get(body.call)
            if live is None or live.get("agent") != username:  # ended: its journey, in this domain
                legs = (await self.calls.get(me, domain.slug, body.call))["legs"]  # 404 when not theirs
                if not any(leg.get("agent") == username for leg in legs):
                    raise NotFound(f"no call {body.call} handled by {username}", field="call")
        mos = mos_estimate(body.rtt_ms, body.jitter_ms, loss_percent(body.packets_lost, body.packets_received))
        now = utcnow()
        for attempt in (1, 2):  # two first reports at once: the loser updates the winner's row
            async with self.sessions() as s:
                row = await s.scalar(select(CallQuality).where(CallQuality.call_id == call_id,
                                                               CallQuality.agent == username))
                if row is None:
                    row = CallQuality(domain_id=domain.id, call_id=call_id, agent=username,
                                      extension=await self._extension_of(s, me.user_id), samples=0,
                                      mos_min=mos, first_at=now)
                    s.add(row)
                row.samples = (row.samples or 0) + 1
                # cumulative counts never go down on one leg: a late report of a torn-down
                # connection (zeros) or one overtaken by a newer one must not erase them
                row.packets_sent = max(row.packets_sent or 0, body.packets_sent)
                row.packets_received = max(row.packets_received or 0, body.packets_received)
                row.packets_lost = max(row.packets_lost or 0, body.packets_lost)
                row.loss_percent = loss_percent(row.packets_lost, row.packets_received)
                row.jitter_ms, row.rtt_ms, row.mos = body.jitter_ms, body.rtt_ms, mos
                row.mos_min = min(row.mos_min, mos)
                row.last_at = now
                try:
                    await s.commit()
                except IntegrityError:
                    if attempt == 2:
                        raise
                    continue
                out = quality_view(row)
                if self.publish is not None:
                    self.publish(CallQualityReported(domain.slug, call_id, username, out.model_dump(mode="json")))
                return out
        raise AssertionError("unreachable")

    def _current_call(self, slug: str, username: str) -> str:
        for view in self.calls.active_view(slug):
            if view.get("agent") == username:
                return str(view["id"])
        raise Conflict(f"agent {username} has no call in progress", field="call")

    @staticmethod
    async def _extension_of(s: AsyncSession, user_id: int) -> str | None:
        return await s.scalar(select(Extension.number).join(User, User.webrtc_extension_id == Extension.id)
                              .where(User.id == user_id))

    async def for_call(self, me: Principal, slug: str, call_id: str) -> list[QualityOut]:
        """The figures of every agent leg of one call (supervisors and administrators)."""
        me.require(READ_ROLES, "read call quality")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            rows = await s.scalars(select(CallQuality).where(CallQuality.domain_id == domain.id,
                                                             CallQuality.call_id == call_id)
                                   .order_by(CallQuality.first_at, CallQuality.id))
            found = [quality_view(r) for r in rows]
        if not found and self.calls.view(call_id) is None:
            await self.calls.get(me, domain.slug, call_id)  # 404 for a call this domain never had
        return found
