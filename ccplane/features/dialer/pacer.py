"""The dialer: places the calls of running campaigns, progressively.

One task on the leader looks at every running campaign when woken (an agent's
state changed, a report came back, a campaign started or got contacts) and at
least every ``TICK`` seconds. For each campaign inside its calling hours it
places ``calls_to_place(free agents, calls not yet with an agent, ratio)`` new
calls: never more calls waiting for an agent than free agents of the queue.
Each number is checked against the campaign's blacklist and the domain's
do-not-call list right before it is dialled (a number added while the campaign
runs is honoured); a skip is recorded on the contact and on the live feed.

The state is the database (contact statuses), moved by the dialplan's reports
(UserEvent CcplaneCampaign, replayed from the outbox after an outage), so a
restart loses nothing and never dials a contact twice at once.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...aio import cancel_and_wait
from ...asterisk.ami import AmiClient
from ..callbacks.engine import CallbackDialer
from ..domains.models import Domain
from ..queues.domain import asterisk_queue_name
from . import domain as rules
from . import events
from .models import Campaign, CampaignBlacklistEntry, CampaignContact, DoNotCallEntry
from .services import CampaignService, contact_view

log = logging.getLogger("ccplane.dialer")
TICK = 1.0  # seconds between looks when nothing wakes the pacer
CUSTOMER_RING = 30  # seconds a contact's phone rings
QUEUE_WAIT = 120  # seconds an answered contact waits for an agent
REAP_EVERY = 30.0  # seconds between looks for calls that vanished without their reports

Publish = Callable[[str, str, dict[str, Any]], None]


class Pacer:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ami: AmiClient, seats: CallbackDialer,
                 campaigns: CampaignService, publish: Publish, ready: Callable[[], bool]) -> None:
        self.sessions = sessions
        self.ami = ami
        self.seats = seats
        self.campaigns = campaigns
        self.publish = publish
        self.ready = ready
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.placed = 0  # calls placed since start (the bench reads it)
        self._suspects: set[int] = set()  # contacts in flight with no channel at the last look
        self._reaped_at = 0.0
        # the last look found a running campaign: until one does, an agent's state change
        # (several per call of every queue) wakes nothing; a campaign started or given
        # contacts wakes the pacer itself (wake), and TICK looks anyway
        self.campaigns_running = True

    def wake(self) -> None:
        self._wake.set()

    def agent_changed(self) -> None:
        """An agent's state changed: look again if some campaign may use that agent."""
        if self.campaigns_running:
            self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="dialer-pacer")

    async def stop(self) -> None:
        await cancel_and_wait([self._task], "dialer pacer")
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), TICK)
            except TimeoutError:
                pass
            self._wake.clear()
            if not self.ready():
                continue
            try:
                loop = asyncio.get_running_loop()
                if loop.time() - self._reaped_at >= REAP_EVERY:
                    self._reaped_at = loop.time()
                    await self.reap()
                await self.pace()
            except Exception:  # noqa: BLE001 - the next look tries again
                log.exception("dialer.pace_failed")

    async def reap(self, now: datetime | None = None) -> list[int]:
        """Contacts in flight whose call Asterisk no longer lists (an Asterisk
        restarted mid-call, a leader that died between the claim and the
        Originate), seen so at two looks in a row: a call still being dialled
        counts as a failed attempt (``lost``, retried by the campaign's rules),
        one that had reached the customer ends ``done``. Without this they would
        count as in flight forever and stall the campaign's pacing. Returns the
        contact ids settled."""
        now = now or datetime.now(UTC)
        async with self.sessions() as s:
            rows = (await s.execute(select(CampaignContact.id, CampaignContact.campaign_id, CampaignContact.call_id,
                                           CampaignContact.updated_at)
                                    .where(CampaignContact.status.in_((*rules.IN_FLIGHT, "connected"))))).all()
        candidates = [(i, c, call) for i, c, call, at in rows
                      if at is None or now - (at if at.tzinfo else at.replace(tzinfo=UTC)) >= rules.LOST_AFTER]
        if not candidates:
            self._suspects.clear()
            return []
        live = await self.seats.live_ids()
        missing = {i for i, c, call in candidates if not rules.call_alive(c, i, call, live)}
        confirmed = sorted(missing & self._suspects)
        self._suspects = missing - set(confirmed)
        campaign_of = {i: c for i, c, _ in candidates}
        for contact_id in confirmed:
            async with self.sessions() as s:
                status = await s.scalar(select(CampaignContact.status).where(CampaignContact.id == contact_id))
            log.warning("campaign.call_lost", extra={"campaign": campaign_of[contact_id], "contact": contact_id})
            fields = {"Campaign": str(campaign_of[contact_id]), "Contact": str(contact_id)}
            if status == "dialing":
                await self.report(fields | {"Stage": "failed", "Status": "LOST"})
            else:
                await self.report(fields | {"Stage": "gone", "Status": "LOST"})
        return confirmed

    async def pace(self) -> None:
        now = datetime.now(UTC)
        async with self.sessions() as s:
            running = (await s.execute(select(Campaign, Domain.slug).join(Domain, Domain.id == Campaign.domain_id)
                                       .where(Campaign.status == "running").order_by(Campaign.id))).all()
        self.campaigns_running = bool(running)
        for campaign, slug in running:
            in_hours = rules.within_hours(campaign.calling_hours or {}, campaign.timezone, now)
            self.campaigns.evaluated[campaign.id] = (now, in_hours)
            await self._pace_one(campaign, slug, now, in_hours)

    async def _pace_one(self, c: Campaign, slug: str, now: datetime, in_hours: bool) -> None:
        async with self.sessions() as s:
            waiting = len(list(await s.scalars(select(CampaignContact.id).where(
                CampaignContact.campaign_id == c.id, CampaignContact.status.in_(rules.IN_FLIGHT)))))
            left = await s.scalar(select(CampaignContact.id).where(
                CampaignContact.campaign_id == c.id,
                CampaignContact.status.in_(("pending", "retry", "dialing", "answered", "connected", "ending")))
                .limit(1))
            if left is None:
                await s.execute(update(Campaign).where(Campaign.id == c.id, Campaign.status == "running")
                                .values(status="finished"))
                await s.commit()
                log.info("campaign.finished", extra={"campaign": c.id, "domain": slug})
                self.publish(slug, events.STATUS, {"id": c.id, "name": c.name, "status": "finished"})
                return
            if not in_hours:
                return
            budget = rules.calls_to_place(free_agents=self.seats.free_agents(slug, c.queue), waiting=waiting,
                                          ratio=c.ratio)
            if budget <= 0:
                return
            due = list(await s.scalars(select(CampaignContact).where(
                CampaignContact.campaign_id == c.id,
                or_(CampaignContact.status == "pending",
                    (CampaignContact.status == "retry") & (CampaignContact.next_attempt_at <= now)))
                .order_by(CampaignContact.next_attempt_at.is_not(None), CampaignContact.id).limit(budget)))
            for contact in due:
                await self._dial(s, c, slug, contact, now)

    async def _dial(self, s: AsyncSession, c: Campaign, slug: str, contact: CampaignContact, now: datetime) -> None:
        # read before the claim: its UPDATE also moves the loaded object's count (synchronized session)
        before = contact.attempts
        claimed = await s.execute(update(CampaignContact).where(
            CampaignContact.id == contact.id, CampaignContact.status.in_(("pending", "retry")))
            .values(status="dialing", attempts=CampaignContact.attempts + 1, updated_at=now))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            await s.rollback()
            return
        blocked = await self._blocked(s, c, contact.number)
        if blocked:
            await s.execute(update(CampaignContact).where(CampaignContact.id == contact.id)
                            .values(status="skipped", last_result=blocked, attempts=before, updated_at=now))
            await s.commit()
            log.info("campaign.skipped %s", blocked, extra={"campaign": c.id, "contact": contact.id})
            self.publish(slug, events.SKIPPED, {"campaign": c.id, "contact": contact.id, "number": contact.number,
                                                "reason": blocked})
            return
        base = f"cp{c.id}x{contact.id}-{secrets.token_hex(3)}"
        await s.execute(update(CampaignContact).where(CampaignContact.id == contact.id).values(call_id=f"{base}-a"))
        await s.commit()  # dialing is stored before the call exists: it is counted at once
        try:
            await self.ami.action({
                "Action": "Originate", "Channel": "Local/s@ccplane-campaign-dial/n",
                "Context": "ccplane-campaign-connect", "Exten": "s", "Priority": "1",
                "Timeout": str((CUSTOMER_RING + 10) * 1000), "CallerID": f'"{contact.name[:40]}" <{contact.number}>',
                "Async": "true", "ChannelId": f"{base}-a", "OtherChannelId": f"{base}-b",
                "Variable": [f"__CCPLANE_CAMPAIGN={c.id}", f"__CCPLANE_CP_CONTACT={contact.id}",
                             f"__CCPLANE_DOMAIN={slug}", f"__CCPLANE_CP_NUMBER={contact.number}",
                             f"__CCPLANE_CP_RING={CUSTOMER_RING}", f"__CCPLANE_CP_WAIT={QUEUE_WAIT}",
                             f"__CCPLANE_CP_QUEUE={asterisk_queue_name(slug, c.queue)}"]})
        except Exception:  # noqa: BLE001 - counted as a failed attempt, retried
            log.exception("campaign.originate_failed", extra={"campaign": c.id, "contact": contact.id})
            await self.report({"Campaign": str(c.id), "Contact": str(contact.id), "Stage": "failed",
                               "Status": "CHANUNAVAIL"})
            return
        self.placed += 1
        self.publish(slug, events.DIALING, {"campaign": c.id, "contact": contact.id, "number": contact.number,
                                            "attempt": before + 1, "call": f"{base}-a"})

    @staticmethod
    async def _blocked(s: AsyncSession, c: Campaign, number: str) -> str | None:
        if await s.scalar(select(CampaignBlacklistEntry.id).where(CampaignBlacklistEntry.campaign_id == c.id,
                                                                  CampaignBlacklistEntry.number == number)):
            return "blacklisted"
        if await s.scalar(select(DoNotCallEntry.id).where(DoNotCallEntry.domain_id == c.domain_id,
                                                          DoNotCallEntry.number == number)):
            return "do_not_call"
        return None

    async def report(self, fields: dict[str, Any]) -> None:
        """A stage of a campaign call, from the dialplan (live or replayed)."""
        cid, contact_id = str(fields.get("Campaign") or ""), str(fields.get("Contact") or "")
        if not (cid.isdigit() and contact_id.isdigit()):
            return
        stage, status = str(fields.get("Stage") or ""), str(fields.get("Status") or "")
        now = datetime.now(UTC)
        async with self.sessions() as s:
            row = await s.execute(select(CampaignContact, Campaign, Domain.slug)
                                  .join(Campaign, Campaign.id == CampaignContact.campaign_id)
                                  .join(Domain, Domain.id == Campaign.domain_id)
                                  .where(CampaignContact.id == int(contact_id), Campaign.id == int(cid)))
            found = row.first()
            if found is None:
                return
            contact, campaign, slug = found
            kind = None
            if stage == "failed" and contact.status == "dialing":
                contact.status, contact.last_result, contact.next_attempt_at = rules.after_attempt(
                    status, contact.attempts, campaign.max_attempts, campaign.retry_interval, now)
                kind = events.ATTEMPT_FAILED
            elif stage == "answered" and contact.status == "dialing":
                contact.status, contact.last_result = "answered", "answered"
                kind = events.ANSWERED
            elif stage == "connected" and contact.status in ("dialing", "answered"):
                contact.status = "connected"
                kind = events.CONNECTED
            elif stage == "ended" and contact.status in ("dialing", "answered", "connected"):
                contact.last_result = "answered" if contact.status == "connected" else "abandoned"
                contact.status = "ending"
                kind = events.ENDED
            elif stage == "gone" and contact.status in ("dialing", "answered", "connected", "ending"):
                if contact.status != "ending":  # the dialling side went first
                    contact.last_result = "answered" if contact.status == "connected" else "abandoned"
                contact.status = "done"
                kind = events.GONE
            if kind is None:
                return  # a replayed or late report: already applied
            contact.updated_at = now
            await s.commit()
            data = {"campaign": campaign.id, "campaign_name": campaign.name, "queue": campaign.queue,
                    "contact": contact_view(contact).model_dump(mode="json")}
        log.info("campaign.%s %s", stage, status, extra={"campaign": cid, "contact": contact_id})
        self.publish(slug, kind, data)
        self.wake()
