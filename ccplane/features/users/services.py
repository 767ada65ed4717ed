"""The team of a domain: users, roles, active flag, memberships."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, Forbidden, NotFound
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..auth.domain import hash_password
from ..common import changes_of
from ..domains.models import Domain
from ..domains.services import resolve_domain
from .models import Membership, User
from .schemas import UserCreate, UserOut, UserUpdate


def user_view(user: User) -> UserOut:
    return UserOut(username=user.username, name=user.name, role=user.role, active=user.active,
                   domains=[d.slug for d in user.domains], created_at=user.created_at)


def _check_can_grant(me: Principal, role: str | None) -> None:
    if role == "superuser" and not me.is_root:
        raise Forbidden("only root may grant the superuser role", field="role")


class UserService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def list(self, me: Principal, slug: str, limit: int, offset: int) -> tuple[list[UserOut], int]:
        me.require(READ_ROLES, "list users")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            q = select(User).join(Membership).where(Membership.domain_id == domain.id)
            total = await s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = await s.scalars(q.order_by(User.username).limit(limit).offset(offset))
            return [user_view(u) for u in rows], total

    async def get(self, me: Principal, slug: str, username: str) -> UserOut:
        me.require(READ_ROLES, "read users")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            return user_view(await self._find(s, domain, username))

    async def create(self, me: Principal, slug: str, body: UserCreate) -> UserOut:
        me.require(ADMIN_ROLES, "create users")
        _check_can_grant(me, body.role)
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if await s.scalar(select(User.id).where(User.username == body.username)) is not None:
                raise Conflict(f"username {body.username} is taken", field="username")
            user = User(username=body.username, name=body.name, role=body.role, active=body.active,
                        password_hash=hash_password(body.password), token_version=0)
            user.domains = [domain]
            s.add(user)
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"username {body.username} is taken", field="username") from None
            return user_view(user)

    async def update(self, me: Principal, slug: str, username: str, body: UserUpdate) -> UserOut:
        me.require(ADMIN_ROLES, "change users")
        changes = changes_of(body)
        _check_can_grant(me, changes.get("role"))
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            user = await self._find(s, domain, username)
            self._check_may_manage(me, user)
            if user.id == me.user_id and (changes.get("active") is False or "role" in changes):
                raise Conflict("you may not deactivate yourself or change your own role", field="active")
            if "password" in changes:
                user.password_hash = hash_password(changes.pop("password"))
                user.token_version += 1
            if changes.get("active") is False and user.active:
                user.token_version += 1
            for key, value in changes.items():
                setattr(user, key, value)
            await s.commit()
            return user_view(user)

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
