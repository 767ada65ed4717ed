"""Agent login to queues on an extension, logout, pause, and what supervisors see."""
from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Protocol

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, Forbidden, NotFound, ValidationFailed
from ...web.context import ADMIN_ROLES, Principal
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..extensions.domain import endpoint_name
from ..extensions.models import Extension
from ..queues.domain import asterisk_queue_name
from ..queues.models import Queue, QueueExtension
from ..users.models import Membership, User
from ..calls.models import CallLeg, CallRecord
from .models import AgentSession, AgentSessionQueue
from .runtime import AgentRuntime
from .schemas import AgentOut, AvailableExtension, LoginRequest, QueueCallOut

SUPERVISING = ADMIN_ROLES | {"supervisor"}


class Registrations(Protocol):
    def registered(self, endpoint: str) -> bool: ...


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class AgentService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], runtime: AgentRuntime,
                 registrations: Registrations,
                 confirm: Callable[[str], Awaitable[bool]] | None = None) -> None:
        self.sessions = sessions
        self.runtime = runtime
        self.registrations = registrations
        self.confirm = confirm  # asks Asterisk whether an endpoint is registered (and updates the view)

    # -- reading ---------------------------------------------------------------------
    async def list(self, me: Principal, slug: str, limit: int = 50,
                   offset: int = 0) -> tuple[builtins.list[AgentOut], int]:
        """A page of the domain's agents (agent users and anyone logged in), by username,
        and their total. Live state comes from the board in memory; the stored rows are
        read in four queries whatever the number of agents."""
        me.require(SUPERVISING, "see agents")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            logged_in = select(AgentSession.user_id).where(AgentSession.domain_id == domain.id)
            who = select(User).join(Membership).where(Membership.domain_id == domain.id,
                                                      or_(User.role == "agent", User.id.in_(logged_in)))
            total = int(await s.scalar(select(func.count()).select_from(who.subquery())) or 0)
            users = list(await s.scalars(who.order_by(User.username).limit(limit).offset(offset)))
            sessions = {x.user_id: x for x in await s.scalars(select(AgentSession).where(
                AgentSession.domain_id == domain.id, AgentSession.user_id.in_([u.id for u in users])))}
            exts = {e.id: e for e in await s.scalars(select(Extension).where(
                Extension.id.in_([x.extension_id for x in sessions.values()])))}
            queues: dict[int, builtins.list[str]] = {}
            for session_id, name in await s.execute(
                    select(AgentSessionQueue.session_id, Queue.name).join(Queue, AgentSessionQueue.queue_id == Queue.id)
                    .where(AgentSessionQueue.session_id.in_([x.id for x in sessions.values()]))
                    .order_by(Queue.name)):
                queues.setdefault(session_id, []).append(name)
        items = []
        for u in users:
            session = sessions.get(u.id)
            ext = exts.get(session.extension_id) if session else None
            items.append(self._make(domain, u, session, ext, queues.get(session.id, []) if session else []))
        return items, total

    async def get(self, me: Principal, slug: str, username: str) -> AgentOut:
        async with self.sessions() as s:
            domain, user = await self._target(s, me, slug, username)
            session = await s.scalar(select(AgentSession).where(AgentSession.user_id == user.id))
            return await self._view(s, domain, user, session)

    async def _view(self, s: AsyncSession, domain: Domain, user: User, session: AgentSession | None) -> AgentOut:
        if session is None:
            return self._make(domain, user, None, None, [])
        ext = await s.get(Extension, session.extension_id)
        queues = list(await s.scalars(select(Queue.name).join(AgentSessionQueue, AgentSessionQueue.queue_id
                                                              == Queue.id).where(
            AgentSessionQueue.session_id == session.id).order_by(Queue.name)))
        return self._make(domain, user, session, ext, queues)

    def _make(self, domain: Domain, user: User, session: AgentSession | None, ext: Extension | None,
              queues: builtins.list[str]) -> AgentOut:
        """One agent's view from its stored rows and the board's live state (no I/O)."""
        if session is None:
            return AgentOut(username=user.username, name=user.name, state="offline", pause_reason=None,
                            paused_since=None, wrapup_left=None, queues=[], extension=None, missed_in_a_row=0,
                            logged_in_at=None)
        interface = f"PJSIP/{endpoint_name(domain.slug, ext.number)}" if ext else ""
        agent = self.runtime.board.agents.get(interface)
        if agent is not None:
            view = agent.view(self.runtime.clock())
        else:  # stored but not applied yet (Asterisk unreachable): report what is stored
            view = {"state": "paused" if session.paused else "inactive", "pause_reason": session.pause_reason,
                    "since": session.paused_at.timestamp() if session.paused_at else None,
                    "wrapup_left": None, "missed_in_a_row": 0}
        since = view.get("since")
        return AgentOut(username=user.username, name=user.name, state=view["state"],
                        pause_reason=view["pause_reason"],
                        paused_since=datetime.fromtimestamp(since, timezone.utc) if since else None,
                        wrapup_left=round(view["wrapup_left"], 1) if view["wrapup_left"] is not None else None,
                        queues=queues, extension=ext.number if ext else None,
                        missed_in_a_row=view["missed_in_a_row"], logged_in_at=_utc(session.logged_in_at))

    async def available_extensions(self, me: Principal, slug: str, username: str,
                                   queue_names: builtins.list[str]) -> builtins.list[AvailableExtension]:
        async with self.sessions() as s:
            domain, user = await self._target(s, me, slug, username)
            queues = await self._queues(s, domain, queue_names)
            return await self._offered(s, domain, user, queues)

    async def _offered(self, s: AsyncSession, domain: Domain, user: User,
                       queues: builtins.list[Queue]) -> builtins.list[AvailableExtension]:
        """Extensions linked to every chosen queue, registered right now, and not
        used by another logged-in agent. A WebRTC agent (one with a WebRTC
        extension of this domain configured) is offered that extension only."""
        linked: set[int] | None = None
        webrtc = await self._webrtc_extension(s, domain, user)
        if webrtc is not None:
            linked = {webrtc.id}
        for q in queues if webrtc is None else []:
            ids = set(await s.scalars(select(QueueExtension.extension_id).where(QueueExtension.queue_id == q.id)))
            linked = ids if linked is None else linked & ids
        taken = set(await s.scalars(select(AgentSession.extension_id).where(AgentSession.user_id != user.id)))
        exts = await s.scalars(select(Extension).where(Extension.id.in_(linked or {-1}))
                               .order_by(Extension.number))
        out = []
        for e in exts:
            name = endpoint_name(domain.slug, e.number)
            if e.id not in taken and self.registrations.registered(name):
                out.append(AvailableExtension(number=e.number, name=e.name, sip_username=name))
        return out

    # -- writing ---------------------------------------------------------------------
    async def login(self, me: Principal, slug: str, username: str, body: LoginRequest) -> AgentOut:
        async with self.sessions() as s:
            domain, user = await self._target(s, me, slug, username)
            if not user.active:
                raise Conflict(f"user {username} is inactive", field="username")
            queues = await self._queues(s, domain, body.queues)
            if await s.scalar(select(AgentSession.id).where(AgentSession.user_id == user.id)):
                raise Conflict(f"{username} is already logged in; log out first", field="username")
            offered = {e.number for e in await self._offered(s, domain, user, queues)}
            if body.extension not in offered and self.confirm is not None and \
                    await self.confirm(endpoint_name(domain.slug, body.extension)):
                # registered an instant ago (a WebRTC page that just connected): Asterisk knew first
                offered = {e.number for e in await self._offered(s, domain, user, queues)}
            if body.extension not in offered:
                raise Conflict(await self._why_not(s, domain, user, queues, body.extension), field="extension")
            ext = await s.scalar(select(Extension).where(Extension.domain_id == domain.id,
                                                         Extension.number == body.extension))
            assert ext is not None
            session = AgentSession(domain_id=domain.id, user_id=user.id, extension_id=ext.id,
                                   logged_in_at=datetime.now(timezone.utc), paused=False)
            s.add(session)
            try:
                await s.flush()
                s.add_all(AgentSessionQueue(session_id=session.id, queue_id=q.id) for q in queues)
                await s.commit()
            except IntegrityError:
                raise Conflict(f"extension {body.extension} was just taken by another agent",
                               field="extension") from None
            session_id = session.id
        await self.runtime.apply_login(session_id)
        return await self.get(me, slug, username)

    async def _why_not(self, s: AsyncSession, domain: Domain, user: User, queues: builtins.list[Queue], number: str) -> str:
        ext = await s.scalar(select(Extension).where(Extension.domain_id == domain.id, Extension.number == number))
        if ext is None:
            return f"extension {number} does not exist"
        webrtc = await self._webrtc_extension(s, domain, user)
        if webrtc is not None and webrtc.id != ext.id:
            return f"{user.username} is a WebRTC agent and logs in on extension {webrtc.number} only"
        for q in queues if webrtc is None else []:
            if not await s.scalar(select(QueueExtension.extension_id).where(
                    QueueExtension.queue_id == q.id, QueueExtension.extension_id == ext.id)):
                return f"extension {number} is not linked to queue {q.name}"
        other = await s.scalar(select(User.username).join(AgentSession, AgentSession.user_id == User.id).where(
            AgentSession.extension_id == ext.id, AgentSession.user_id != user.id))
        if other:
            return f"extension {number} is in use by agent {other}"
        return f"extension {number} is not registered on the server"

    @staticmethod
    async def _webrtc_extension(s: AsyncSession, domain: Domain, user: User) -> Extension | None:
        if user.webrtc_extension_id is None:
            return None
        return await s.scalar(select(Extension).where(Extension.id == user.webrtc_extension_id,
                                                      Extension.domain_id == domain.id))

    async def logout(self, me: Principal, slug: str, username: str) -> None:
        async with self.sessions() as s:
            domain, user = await self._target(s, me, slug, username)
            session = await self._session(s, user)
            interface, queues = await self._interface_and_queues(s, domain, session)
            if self.runtime.board.in_call(interface):
                raise Conflict(f"{username} has a call in progress; log out after it ends", field="username")
            await s.execute(delete(AgentSession).where(AgentSession.id == session.id))
            await s.commit()
        await self.runtime.apply_logout(interface, queues)

    async def pause(self, me: Principal, slug: str, username: str, reason: str) -> AgentOut:
        now = datetime.now(timezone.utc)
        async with self.sessions() as s:
            domain, user = await self._target(s, me, slug, username)
            session = await self._session(s, user)
            session.paused, session.pause_reason, session.paused_at = True, reason, now
            interface, _ = await self._interface_and_queues(s, domain, session)
            await s.commit()
        self.runtime.apply(self.runtime.board.pause(interface, reason, now.timestamp()))
        return await self.get(me, slug, username)

    async def unpause(self, me: Principal, slug: str, username: str) -> AgentOut:
        async with self.sessions() as s:
            domain, user = await self._target(s, me, slug, username)
            session = await self._session(s, user)
            session.paused, session.pause_reason, session.paused_at = False, None, None
            interface, _ = await self._interface_and_queues(s, domain, session)
            await s.commit()
        self.runtime.apply(self.runtime.board.unpause(interface))
        return await self.get(me, slug, username)

    async def queue_calls(self, me: Principal, slug: str, limit: int,
                          offset: int) -> tuple[builtins.list[QueueCallOut], int]:
        """Answered queue calls, newest first: a view of the journeys' agent legs
        (the old queue_calls rows were copied into journeys by migration 0011)."""
        me.require(SUPERVISING, "see call records")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            where = (CallRecord.domain_id == domain.id, CallLeg.kind == "agent", CallLeg.answered_at.is_not(None),
                     CallLeg.ended_at.is_not(None))
            joined = select(CallLeg, CallRecord).join(CallRecord, CallRecord.id == CallLeg.call_pk).where(*where)
            total = int(await s.scalar(select(func.count()).select_from(CallLeg)
                                       .join(CallRecord, CallRecord.id == CallLeg.call_pk).where(*where)) or 0)
            rows = (await s.execute(joined.order_by(CallLeg.ended_at.desc(), CallLeg.id.desc())
                                    .limit(limit).offset(offset))).all()
            out = []
            for leg, call in rows:
                answered, ended = _utc(leg.answered_at), _utc(leg.ended_at)
                reason = "call_timeout" if call.end_reason == "call_timeout" and leg.result != "transfer" \
                    else (leg.result or "unknown")
                out.append(QueueCallOut(caller_number=call.caller, agent=leg.agent, queue=leg.queue,
                                        answered_at=answered, ended_at=ended,  # type: ignore[arg-type]
                                        talk_seconds=round((ended - answered).total_seconds(), 3),  # type: ignore[operator]
                                        end_reason=reason))
            return out, total

    # -- helpers ---------------------------------------------------------------------
    async def _target(self, s: AsyncSession, me: Principal, slug: str, username: str) -> tuple[Domain, User]:
        domain = await resolve_domain(s, me, slug)
        user = await s.scalar(select(User).join(Membership).where(
            Membership.domain_id == domain.id, User.username == username))
        if user is None:
            raise NotFound(f"agent {username} not found", field="username")
        if user.id != me.user_id and me.role not in SUPERVISING:
            raise Forbidden("agents may only act on their own session")
        return domain, user

    @staticmethod
    async def _session(s: AsyncSession, user: User) -> AgentSession:
        session = await s.scalar(select(AgentSession).where(AgentSession.user_id == user.id))
        if session is None:
            raise Conflict(f"{user.username} is not logged in", field="username")
        return session

    @staticmethod
    async def _queues(s: AsyncSession, domain: Domain, names: builtins.list[str]) -> builtins.list[Queue]:
        if not names:
            raise ValidationFailed("choose at least one queue", field="queues")
        if len(set(names)) != len(names):
            raise ValidationFailed("queues lists a queue twice", field="queues")
        rows = {q.name: q for q in await s.scalars(select(Queue).where(Queue.domain_id == domain.id,
                                                                       Queue.name.in_(names)))}
        missing = [n for n in names if n not in rows]
        if missing:
            raise ValidationFailed(f"no such queue(s): {', '.join(missing)}", field="queues")
        return [rows[n] for n in names]

    @staticmethod
    async def _interface_and_queues(s: AsyncSession, domain: Domain, session: AgentSession) -> tuple[str, builtins.list[str]]:
        ext = await s.get(Extension, session.extension_id)
        assert ext is not None
        names = await s.scalars(select(Queue.name).join(AgentSessionQueue, AgentSessionQueue.queue_id == Queue.id)
                                .where(AgentSessionQueue.session_id == session.id))
        return (f"PJSIP/{endpoint_name(domain.slug, ext.number)}",
                sorted(asterisk_queue_name(domain.slug, n) for n in names))
