"""Login, refresh, and turning a bearer token into a principal."""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, Unauthorized
from ...settings import AuthSettings
from ...web.context import Principal
from ..users.models import User
from .domain import InvalidToken, TokenSigner
from .passwords import hash_password_async, verify_password_async
from .throttle import LoginThrottle
from .schemas import TokenOut

log = logging.getLogger("ccplane.auth")


def load_signing_key(settings: AuthSettings) -> bytes:
    """The configured key, or one generated once into ``secret_file`` (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.secret_file).expanduser()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


class AuthService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: AuthSettings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.signer = TokenSigner(load_signing_key(settings))
        self.throttle = LoginThrottle()  # shared with the app's CPF login (one count per address)

    def _pair(self, user: User) -> TokenOut:
        ttl = self.settings.access_token_ttl
        return TokenOut(
            access_token=self.signer.issue(user.id, "access", user.token_version, ttl=ttl),
            expires_in=ttl,
            refresh_token=self.signer.issue(user.id, "refresh", user.token_version,
                                            ttl=self.settings.refresh_token_ttl),
        )

    async def login(self, username: str, password: str, client: str = "") -> TokenOut:
        """``client`` is the caller's address, for the per-address throttle."""
        account = f"user:{username}"
        self.throttle.check(account, client)
        async with self.sessions() as s:
            user = await s.scalar(select(User).where(User.username == username))
        if not await verify_password_async(user.password_hash if user else None, password) or user is None:
            self.throttle.failed(account, client)
            log.info("auth.login_failed", extra={"username": username, "client": client})
            raise Unauthorized("invalid username or password")
        self.throttle.succeeded(account, client)
        if not user.active:
            raise Unauthorized("this account is inactive")
        log.info("auth.login", extra={"username": username})
        return self._pair(user)

    async def refresh(self, refresh_token: str) -> TokenOut:
        user = await self._user_for(refresh_token, "refresh")
        return self._pair(user)

    async def principal(self, access_token: str) -> Principal:
        user = await self._user_for(access_token, "access")
        return Principal(user.id, user.username, user.role, frozenset(d.id for d in user.domains))

    async def _user_for(self, token: str, typ: str) -> User:
        try:
            payload = self.signer.verify(token, typ)
        except InvalidToken as exc:
            raise Unauthorized(f"invalid {typ} token: {exc}") from None
        async with self.sessions() as s:
            user = await s.get(User, payload["sub"])
            if user is None or not user.active or user.token_version != payload.get("ver"):
                raise Unauthorized(f"{typ} token revoked")
            return user

    async def issue_reset(self, user: User, *, ttl: int = 24 * 3600) -> tuple[str, datetime]:
        """A one-time reset token an admin hands over (no e-mail here); only its hash is kept."""
        token = secrets.token_urlsafe(24)
        expires = datetime.now(timezone.utc) + timedelta(seconds=ttl)
        async with self.sessions() as s:
            row = await s.get(User, user.id)
            assert row is not None
            row.reset_hash = hashlib.sha256(token.encode()).hexdigest()
            row.reset_expires = expires
            await s.commit()
        return token, expires

    async def reset(self, token: str, new_password: str) -> None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        async with self.sessions() as s:
            user = await s.scalar(select(User).where(User.reset_hash == digest))
            expires = user.reset_expires if user else None
            if expires is not None and expires.tzinfo is None:
                expires = expires.replace(tzinfo=timezone.utc)
            if user is None or expires is None or expires < datetime.now(timezone.utc):
                raise Unauthorized("invalid or expired reset token")
            user.password_hash = await hash_password_async(new_password)
            user.token_version += 1
            user.reset_hash, user.reset_expires = None, None
            await s.commit()
        log.info("auth.password_reset", extra={"username": user.username})

    async def change_password(self, user_id: int, current: str, new_password: str) -> None:
        async with self.sessions() as s:
            user = await s.get(User, user_id)
            if user is None or not await verify_password_async(user.password_hash, current):
                raise Unauthorized("current password is wrong")
            user.password_hash = await hash_password_async(new_password)
            user.token_version += 1
            await s.commit()

    async def create_root(self, username: str, password: str, name: str = "Root") -> None:
        async with self.sessions() as s:
            if await s.scalar(select(User.id).where(User.username == username)) is not None:
                raise Conflict(f"username {username} is taken", field="username")
            s.add(User(username=username, name=name, role="root", active=True,
                       password_hash=await hash_password_async(password), token_version=0))
            await s.commit()
