"""Campaigns, their contacts and blacklists, and the domain's do-not-call list
(the API's side; the dialling itself is ``pacer.py``)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound, ValidationFailed
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..callbacks.domain import dialable_number
from ..common import as_utc
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..queues.models import Queue
from . import domain as rules
from . import events
from .models import Campaign, CampaignBlacklistEntry, CampaignContact, DoNotCallEntry
from .schemas import (CampaignCreate, CampaignOut, CampaignUpdate, ContactOut, ImportOut, NumberIn,
                      NumberOut)

WRITERS = ADMIN_ROLES | {"supervisor"}
Publish = Callable[[str, str, dict[str, Any]], None]
# (aliases: inside the class, ``list`` is the service's method)
Rows = list[dict[str, Any]]
Contacts = list[ContactOut]
Numbers = list[NumberOut]
STATUSES = ("pending", "dialing", "answered", "connected", "ending", "retry", "done", "failed", "skipped")
# action -> (statuses it applies to, the status it sets)
ACTIONS = {"start": (("draft", "stopped", "finished"), "running"), "pause": (("running",), "paused"),
           "resume": (("paused",), "running"), "stop": (("running", "paused"), "stopped")}


class RowsInvalid(ValidationFailed):
    """Contacts refused as a whole: every bad row is listed in the message, the
    first one names the field (``contacts.<row>.<field>``)."""

    def __init__(self, errors: list[dict[str, Any]], total: int) -> None:
        shown = "; ".join(f"row {e['row']} ({e['field']}): {e['message']}" for e in errors[:50])
        more = f"; and {len(errors) - 50} more" if len(errors) > 50 else ""
        first = errors[0]
        super().__init__(f"{len(errors)} of {total} rows are invalid, nothing was imported: {shown}{more}",
                         field=f"contacts.{first['row']}.{first['field']}")
        self.rows = errors


class CampaignService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], publish: Publish) -> None:
        self.sessions = sessions
        self.publish = publish
        self.evaluated: dict[int, tuple[datetime, bool]] = {}  # campaign -> (last pacer look, in hours)
        self.wake: Callable[[], None] = lambda: None  # the pacer's: a campaign started or got contacts

    # -- campaigns -------------------------------------------------------------------
    async def view(self, s: AsyncSession, c: Campaign) -> CampaignOut:
        counts = dict((await s.execute(select(CampaignContact.status, func.count())
                                       .where(CampaignContact.campaign_id == c.id)
                                       .group_by(CampaignContact.status))).all())
        progress = {k: int(counts.get(k, 0)) for k in STATUSES}
        seen = self.evaluated.get(c.id)
        in_hours = rules.within_hours(c.calling_hours or {}, c.timezone, datetime.now(UTC))
        return CampaignOut(id=c.id, name=c.name, queue=c.queue, status=c.status, calling_hours=c.calling_hours or {},
                           timezone=c.timezone, max_attempts=c.max_attempts, retry_interval=c.retry_interval,
                           ratio=c.ratio, contacts=sum(progress.values()), progress=progress,
                           in_calling_hours=in_hours, evaluated_at=seen[0] if seen else None)

    async def list(self, me: Principal, slug: str, limit: int, offset: int) -> tuple[list[CampaignOut], int]:
        me.require(READ_ROLES, "list campaigns")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            total = await s.scalar(select(func.count()).select_from(Campaign)
                                   .where(Campaign.domain_id == domain.id)) or 0
            rows = await s.scalars(select(Campaign).where(Campaign.domain_id == domain.id)
                                   .order_by(Campaign.id).limit(limit).offset(offset))
            return [await self.view(s, c) for c in rows], total

    async def get(self, me: Principal, slug: str, cid: int) -> CampaignOut:
        me.require(READ_ROLES, "read campaigns")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            return await self.view(s, await self._find(s, domain, cid))

    async def create(self, me: Principal, slug: str, body: CampaignCreate) -> CampaignOut:
        me.require(WRITERS, "create campaigns")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            await self._check_queue(s, domain, body.queue)
            if await s.scalar(select(Campaign.id).where(Campaign.domain_id == domain.id, Campaign.name == body.name)):
                raise Conflict(f"campaign {body.name} exists", field="name")
            items = body.contacts or []
            parsed = rules.parse_contacts(items)
            if parsed.errors:
                raise RowsInvalid(sorted(parsed.errors, key=lambda e: e["row"]), len(items))
            c = Campaign(domain_id=domain.id, name=body.name, queue=body.queue, status="draft",
                         calling_hours=dict(body.calling_hours), timezone=body.timezone,
                         max_attempts=body.max_attempts, retry_interval=body.retry_interval, ratio=body.ratio)
            s.add(c)
            if parsed.rows:
                await s.flush()
                now = datetime.now(UTC)
                s.add_all([CampaignContact(campaign_id=c.id, number=r["number"], name=r["name"], data=r["data"],
                                           status="pending", updated_at=now) for r in parsed.rows])
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"campaign {body.name} exists", field="name") from None
            return await self.view(s, c)

    async def update(self, me: Principal, slug: str, cid: int, body: CampaignUpdate) -> CampaignOut:
        me.require(WRITERS, "change campaigns")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            c = await self._find(s, domain, cid)
            if body.queue is not None:
                await self._check_queue(s, domain, body.queue)
            if body.name is not None and body.name != c.name and await s.scalar(
                    select(Campaign.id).where(Campaign.domain_id == domain.id, Campaign.name == body.name)):
                raise Conflict(f"campaign {body.name} exists", field="name")
            for key, value in body.model_dump(exclude_none=True).items():
                setattr(c, key, value)
            await s.commit()
            out = await self.view(s, c)
        self.wake()
        return out

    async def delete(self, me: Principal, slug: str, cid: int) -> None:
        me.require(WRITERS, "delete campaigns")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            c = await self._find(s, domain, cid)
            if c.status == "running":
                raise Conflict("stop the campaign before deleting it", field="status")
            await s.delete(c)
            await s.commit()

    async def act(self, me: Principal, slug: str, cid: int, action: str) -> CampaignOut:
        me.require(WRITERS, f"{action} campaigns")
        allowed, target = ACTIONS[action]
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            c = await self._find(s, domain, cid)
            if c.status not in allowed:
                raise Conflict(f"campaign {c.name} is {c.status}: cannot {action}", field="status")
            c.status = target
            await s.commit()
            out = await self.view(s, c)
        self.publish(slug, events.STATUS, {**out.model_dump(mode="json"), "action": action})
        self.wake()
        return out

    @staticmethod
    async def _check_queue(s: AsyncSession, domain: Domain, queue: str) -> None:
        if not await s.scalar(select(Queue.id).where(Queue.domain_id == domain.id, Queue.name == queue)):
            raise ValidationFailed(f"no such queue: {queue}", field="queue")

    @staticmethod
    async def _find(s: AsyncSession, domain: Domain, cid: int) -> Campaign:
        c = await s.scalar(select(Campaign).where(Campaign.domain_id == domain.id, Campaign.id == cid))
        if c is None:
            raise NotFound(f"campaign {cid} not found", field="id")
        return c

    # -- contacts --------------------------------------------------------------------
    async def import_contacts(self, me: Principal, slug: str, cid: int, items: Rows,
                              first_row: int = 1) -> ImportOut:
        """All rows or none: any bad row (or a number already in the campaign) refuses the whole list."""
        me.require(WRITERS, "import contacts")
        parsed = rules.parse_contacts(items, first_row)
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            c = await self._find(s, domain, cid)
            existing = set(await s.scalars(select(CampaignContact.number).where(CampaignContact.campaign_id == c.id)))
            errors = list(parsed.errors)
            for row in parsed.rows:
                if row["number"] in existing:
                    errors.append({"row": _row_of(items, row["number"], first_row), "field": "number",
                                   "message": f"{row['number']} is already in the campaign"})
            if errors:
                raise RowsInvalid(sorted(errors, key=lambda e: e["row"]), len(items))
            now = datetime.now(UTC)
            s.add_all([CampaignContact(campaign_id=c.id, number=r["number"], name=r["name"], data=r["data"],
                                       status="pending", updated_at=now) for r in parsed.rows])
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict("contacts changed meanwhile: nothing was imported", field="contacts") from None
            total = await s.scalar(select(func.count()).select_from(CampaignContact)
                                   .where(CampaignContact.campaign_id == c.id)) or 0
        self.wake()
        return ImportOut(imported=len(parsed.rows), total=total)

    async def contacts(self, me: Principal, slug: str, cid: int, limit: int, offset: int,
                       status: str | None) -> tuple[Contacts, int]:
        me.require(READ_ROLES, "read contacts")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            c = await self._find(s, domain, cid)
            where = [CampaignContact.campaign_id == c.id]
            if status:
                where.append(CampaignContact.status == status)
            total = await s.scalar(select(func.count()).select_from(CampaignContact).where(*where)) or 0
            rows = await s.scalars(select(CampaignContact).where(*where).order_by(CampaignContact.id)
                                   .limit(limit).offset(offset))
            return [contact_view(r) for r in rows], total

    # -- blacklists ------------------------------------------------------------------
    async def blacklist(self, me: Principal, slug: str, cid: int | None) -> Numbers:
        me.require(READ_ROLES, "read blacklists")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if cid is None:
                dnc = await s.scalars(select(DoNotCallEntry).where(DoNotCallEntry.domain_id == domain.id)
                                      .order_by(DoNotCallEntry.number))
                return [NumberOut(number=r.number, reason=r.reason) for r in dnc]
            c = await self._find(s, domain, cid)
            rows = await s.scalars(select(CampaignBlacklistEntry.number)
                                   .where(CampaignBlacklistEntry.campaign_id == c.id)
                                   .order_by(CampaignBlacklistEntry.number))
            return [NumberOut(number=n) for n in rows]

    async def block(self, me: Principal, slug: str, cid: int | None, body: NumberIn) -> NumberOut:
        """Checked before every dial, also for a campaign that is running."""
        me.require(WRITERS | {"agent"} if cid is None else WRITERS, "change blacklists")
        try:
            number = dialable_number(body.number)
        except ValueError as exc:
            raise ValidationFailed(f"number: {exc}", field="number") from None
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if cid is None:
                entry: Any = DoNotCallEntry(domain_id=domain.id, number=number, reason=body.reason)
                exists = await s.scalar(select(DoNotCallEntry.id).where(DoNotCallEntry.domain_id == domain.id,
                                                                        DoNotCallEntry.number == number))
            else:
                c = await self._find(s, domain, cid)
                entry = CampaignBlacklistEntry(campaign_id=c.id, number=number)
                exists = await s.scalar(select(CampaignBlacklistEntry.id).where(
                    CampaignBlacklistEntry.campaign_id == c.id, CampaignBlacklistEntry.number == number))
            if exists:
                raise Conflict(f"{number} is already listed", field="number")
            s.add(entry)
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"{number} is already listed", field="number") from None
        return NumberOut(number=number, reason=body.reason if cid is None else "")

    async def unblock(self, me: Principal, slug: str, cid: int | None, raw: str) -> None:
        me.require(WRITERS, "change blacklists")
        try:
            number = dialable_number(raw)
        except ValueError:
            raise NotFound(f"{raw[:30]} is not listed", field="number") from None
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if cid is None:
                done = await s.execute(delete(DoNotCallEntry).where(DoNotCallEntry.domain_id == domain.id,
                                                                    DoNotCallEntry.number == number))
            else:
                c = await self._find(s, domain, cid)
                done = await s.execute(delete(CampaignBlacklistEntry).where(
                    CampaignBlacklistEntry.campaign_id == c.id, CampaignBlacklistEntry.number == number))
            if not done.rowcount:  # type: ignore[attr-defined]
                raise NotFound(f"{number} is not listed", field="number")
            await s.commit()


def _row_of(items: list[dict[str, Any]], number: str, first_row: int) -> int:
    for i, item in enumerate(items):
        try:
            if dialable_number(str(item.get("number", ""))) == number:
                return first_row + i
        except ValueError:
            continue
    return first_row


def contact_view(r: CampaignContact) -> ContactOut:
    return ContactOut(id=r.id, number=r.number, name=r.name, data=r.data or {}, status=r.status,
                      attempts=r.attempts, next_attempt_at=as_utc(r.next_attempt_at), last_result=r.last_result,
                      call=r.call_id)
