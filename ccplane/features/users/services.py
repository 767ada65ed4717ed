"""The team of a domain: users, roles, active flag, memberships."""
from __future__ import annotations

from typing import Awaitable, Callable, Protocol, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, Forbidden, NotFound, ValidationFailed
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..auth.passwords import hash_password_async
from ..common import changes_of
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..extensions.models import Extension
from .models import Membership, User
from .schemas import UserCreate, UserOut, UserUpdate


class GroupMemberships(Protocol):
    """Users' ``monitoring_groups``, kept by features/monitoring_groups (set at its setup)."""

    async def names(self, s: AsyncSession, domain_id: int, user_ids: Sequence[int]) -> dict[int, list[str]]: ...

    async def assign(self, s: AsyncSession, domain_id: int, user_id: int, names: Sequence[str]) -> None: ...


def user_view(user: User, webrtc_numbers: dict[int, str] | None = None,
              groups: dict[int, list[str]] | None = None) -> UserOut:
    """``webrtc_numbers``: extension id -> number for the domain being read;
    ``groups``: user id -> monitoring group names in that domain."""
    webrtc = (webrtc_numbers or {}).get(user.webrtc_extension_id) if user.webrtc_extension_id else None
    return UserOut(username=user.username, name=user.name, role=user.role, active=user.active,
                   domains=[d.slug for d in user.domains], wrapup_time=user.wrapup_time,
                   webrtc_extension=webrtc, monitoring_groups=(groups or {}).get(user.id, []),
                   created_at=user.created_at)


async def _webrtc_numbers(s: AsyncSession, domain: Domain, users: list[User]) -> dict[int, str]:
    ids = {u.webrtc_extension_id for u in users if u.webrtc_extension_id}
    if not ids:
        return {}
    rows = await s.execute(select(Extension.id, Extension.number).where(
        Extension.domain_id == domain.id, Extension.id.in_(ids)))
    return {i: n for i, n in rows}


async def _webrtc_extension(s: AsyncSession, domain: Domain, number: str) -> Extension:
    ext = await s.scalar(select(Extension).where(Extension.domain_id == domain.id, Extension.number == number))
    if ext is None:
        raise ValidationFailed(f"webrtc_extension: extension {number} does not exist in this domain",
                               field="webrtc_extension")
    if ext.kind != "webrtc":
        raise ValidationFailed(f"webrtc_extension: extension {number} is a {ext.kind} extension, "
                               "not a WebRTC one", field="webrtc_extension")
    return ext


def _check_can_grant(me: Principal, role: str | None) -> None:
    if role == "superuser" and not me.is_root:
        raise Forbidden("only root may grant the superuser role", field="role")


class UserService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 agent_policy_changed: Callable[[], Awaitable[None]] | None = None) -> None:
        self.sessions = sessions
        # a logged-in agent's new wrap-up time applies from the next call on
        self.agent_policy_changed = agent_policy_changed
        self.groups: GroupMemberships | None = None

    async def _groups(self, s: AsyncSession, domain: Domain, users: list[User]) -> dict[int, list[str]]:
        return await self.groups.names(s, domain.id, [u.id for u in users]) if self.groups else {}

    async def _assign_groups(self, s: AsyncSession, domain: Domain, user: User, names: list[str]) -> None:
        if self.groups is None:
            if names:
                raise ValidationFailed("monitoring_groups: monitoring groups are not available",
                                       field="monitoring_groups")
            return
        await s.flush()  # the user's id
        await self.groups.assign(s, domain.id, user.id, names)

    async def list(self, me: Principal, slug: str, limit: int, offset: int) -> tuple[list[UserOut], int]:
        me.require(READ_ROLES, "list users")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            q = select(User).join(Membership).where(Membership.domain_id == domain.id)
            total = await s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = list(await s.scalars(q.order_by(User.username).limit(limit).offset(offset)))
            numbers = await _webrtc_numbers(s, domain, rows)
            groups = await self._groups(s, domain, rows)
            return [user_view(u, numbers, groups) for u in rows], total

    async def get(self, me: Principal, slug: str, username: str) -> UserOut:
        me.require(READ_ROLES, "read users")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            user = await self._find(s, domain, username)
            return user_view(user, await _webrtc_numbers(s, domain, [user]), await self._groups(s, domain, [user]))

    async def create(self, me: Principal, slug: str, body: UserCreate) -> UserOut:
        me.require(ADMIN_ROLES, "create users")
        _check_can_grant(me, body.role)
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if await s.scalar(select(User.id).where(User.username == body.username)) is not None:
                raise Conflict(f"username {body.username} is taken", field="username")
            webrtc = await _webrtc_extension(s, domain, body.webrtc_extension) if body.webrtc_extension else None
            user = User(username=body.username, name=body.name, role=body.role, active=body.active,
                        password_hash=await hash_password_async(body.password), token_version=0,
                        wrapup_time=body.wrapup_time, webrtc_extension_id=webrtc.id if webrtc else None)
            user.domains = [domain]
            s.add(user)
            try:
                await self._assign_groups(s, domain, user, list(body.monitoring_groups))
                await s.commit()
            except IntegrityError:
                raise Conflict(f"username {body.username} is taken", field="username") from None
            return user_view(user, {webrtc.id: webrtc.number} if webrtc else None, await self._groups(s, domain, [user]))

    async def update(self, me: Principal, slug: str, username: str, body: UserUpdate) -> UserOut:
        me.require(ADMIN_ROLES, "change users")
        changes = changes_of(body, nullable=("wrapup_time", "webrtc_extension"))
        _check_can_grant(me, changes.get("role"))
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            user = await self._find(s, domain, username)
            self._check_may_manage(me, user)
            if user.id == me.user_id and (changes.get("active") is False or "role" in changes):
                raise Conflict("you may not deactivate yourself or change your own role", field="active")
            if "password" in changes:
                user.password_hash = await hash_password_async(str(changes.pop("password")))
                user.token_version += 1
            if changes.get("active") is False and user.active:
                user.token_version += 1
            if "webrtc_extension" in changes:
                number = changes.pop("webrtc_extension")
                user.webrtc_extension_id = (await _webrtc_extension(s, domain, str(number))).id if number else None
            if "monitoring_groups" in changes:
                await self._assign_groups(s, domain, user, list(changes.pop("monitoring_groups")))  # type: ignore[call-overload]
            for key, value in changes.items():
                setattr(user, key, value)
            await s.commit()
            view = user_view(user, await _webrtc_numbers(s, domain, [user]), await self._groups(s, domain, [user]))
        if "wrapup_time" in changes and self.agent_policy_changed is not None:
            await self.agent_policy_changed()
        return view

    async def manageable(self, me: Principal, slug: str, username: str) -> User:
        """The user, if ``me`` may manage them (admin roles, not a superuser unless root)."""
        me.require(ADMIN_ROLES, "manage users")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            user = await self._find(s, domain, username)
            self._check_may_manage(me, user)
            return user

    async def delete(self, me: Principal, slug: str, username: str) -> None:
        me.require(ADMIN_ROLES, "delete users")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            user = await self._find(s, domain, username)
            self._check_may_manage(me, user)
            if user.id == me.user_id:
                raise Conflict("you may not delete yourself", field="username")
            if len(user.domains) > 1:
                user.domains = [d for d in user.domains if d.id != domain.id]
            else:
                await s.delete(user)
            await s.commit()

    @staticmethod
    def _check_may_manage(me: Principal, user: User) -> None:
        if user.role == "superuser" and not me.is_root and user.id != me.user_id:
            raise Forbidden("only root may change a superuser")

    @staticmethod
    async def _find(s: AsyncSession, domain: Domain, username: str) -> User:
        user = await s.scalar(select(User).join(Membership).where(
            Membership.domain_id == domain.id, User.username == username))
        if user is None:
            raise NotFound(f"user {username} not found", field="username")
        return user
