"""Login, refresh, and turning a bearer token into a principal."""
from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, Unauthorized
from ...settings import AuthSettings
from ...web.context import Principal
from ..users.models import User
from .domain import InvalidToken, TokenSigner
from .models import RefreshFamily
from .passwords import hash_password_async, verify_password_async
from .throttle import LoginThrottle
from .schemas import TokenOut

log = logging.getLogger("ccplane.auth")

# A verified access token's principal is reused for this long (in this process) instead
# of reading the user, their domains and the token's family again (3 queries a request).
# Any write to the tables it comes from, by this process, forgets every cached one at
# once (logout, refresh, password or role change, deactivation, domains); a change made
# through another replica shows within this time.
PRINCIPAL_TTL = 5.0
PRINCIPAL_CACHE_MAX = 10_000
_WRITE = ("INSERT", "UPDATE", "DELETE", "insert", "update", "delete")
_AUTH_TABLES = re.compile(r"\b(users|memberships|refresh_families|domains)\b", re.IGNORECASE)


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
        self._principals: dict[str, tuple[float, Principal]] = {}  # access token -> (until, principal)
        self._generation = 0  # bumped by every forget(): a principal read across one is not cached
        self._caching = self._watch_writes(sessions)

    # -- the verified-token cache ------------------------------------------------------
    def _watch_writes(self, sessions: async_sessionmaker[AsyncSession]) -> bool:
        """Forget the cached principals on every write to their tables (when it is
        executed and again when it commits, so a principal read in between is not kept).
        False (no caching) when the sessions' engine cannot be watched."""
        engine = getattr(sessions.kw.get("bind"), "sync_engine", None)
        if engine is None:
            return False

        def on_statement(conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            if statement.lstrip().startswith(_WRITE) and _AUTH_TABLES.search(statement):
                conn.info["ccplane_auth_write"] = True
                self.forget()

        def on_end(conn: Any) -> None:
            if conn.info.pop("ccplane_auth_write", False):
                self.forget()
        event.listen(engine, "before_cursor_execute", on_statement)
        event.listen(engine, "commit", on_end)
        event.listen(engine, "rollback", on_end)
        return True

    def forget(self) -> None:
        """Every cached principal is read again at its next request."""
        self._generation += 1
        self._principals.clear()

    def _pair(self, user: User, family: str, generation: int) -> TokenOut:
        ttl = self.settings.access_token_ttl
        claims = {"fam": family, "gen": generation}
        return TokenOut(
            access_token=self.signer.issue(user.id, "access", user.token_version, ttl=ttl, claims=claims),
            expires_in=ttl,
            refresh_token=self.signer.issue(user.id, "refresh", user.token_version,
                                            ttl=self.settings.refresh_token_ttl, claims=claims),
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
        return await self._new_family(user)

    async def _new_family(self, user: User) -> TokenOut:
        family = secrets.token_hex(16)
        now = datetime.now(timezone.utc)
        async with self.sessions() as s:
            # Housekeeping on the way: families whose last refresh token has expired.
            await s.execute(delete(RefreshFamily).where(RefreshFamily.expires_at < now))
            s.add(RefreshFamily(id=family, user_id=user.id, generation=0, revoked=False,
                                expires_at=now + timedelta(seconds=self.settings.refresh_token_ttl)))
            await s.commit()
        return self._pair(user, family, 0)

    async def refresh(self, refresh_token: str) -> TokenOut:
        """Rotate: the token's family moves to the next generation and only
        the new pair works. A refresh token of an earlier generation — used
        twice, so copied — revokes its family (every token of that login)."""
        try:
            payload = self.signer.verify(refresh_token, "refresh")
        except InvalidToken as exc:
            raise Unauthorized(f"invalid refresh token: {exc}") from None
        family, generation = payload.get("fam"), payload.get("gen")
        if not isinstance(family, str) or not isinstance(generation, int) or isinstance(generation, bool):
            raise Unauthorized("refresh token from before rotation; log in again")
        now = datetime.now(timezone.utc)
        async with self.sessions() as s:
            user = await s.get(User, payload["sub"])
            if user is None or not user.active or user.token_version != payload.get("ver"):
                raise Unauthorized("refresh token revoked")
            # One conditional UPDATE: of two concurrent refreshes with one token, one wins.
            moved = await s.execute(
                update(RefreshFamily)
                .where(RefreshFamily.id == family, RefreshFamily.user_id == user.id,
                       RefreshFamily.generation == generation, RefreshFamily.revoked.is_(False))
                .values(generation=generation + 1,
                        expires_at=now + timedelta(seconds=self.settings.refresh_token_ttl)))
            if getattr(moved, "rowcount", 0) != 1:
                await s.execute(update(RefreshFamily).where(RefreshFamily.id == family).values(revoked=True))
                await s.commit()
                log.warning("auth.refresh_reused", extra={"username": user.username, "family": family})
                raise Unauthorized("refresh token already used: this login is revoked everywhere; log in again")
            await s.commit()
            return self._pair(user, family, generation + 1)

    async def principal(self, access_token: str) -> Principal:
        now = time.monotonic()
        cached = self._principals.get(access_token)
        if cached is not None and cached[0] > now:
            return cached[1]
        generation = self._generation
        user = await self._user_for(access_token, "access")
        principal = Principal(user.id, user.username, user.role, frozenset(d.id for d in user.domains))
        if self._caching and generation == self._generation:
            expires = self.signer.verify(access_token, "access").get("exp")
            left = float(expires) - time.time() if isinstance(expires, (int, float)) else 0.0
            if left > 0:
                if len(self._principals) >= PRINCIPAL_CACHE_MAX:
                    self._principals.clear()
                self._principals[access_token] = (now + min(PRINCIPAL_TTL, left), principal)
        return principal

    async def _user_for(self, token: str, typ: str) -> User:
        try:
            payload = self.signer.verify(token, typ)
        except InvalidToken as exc:
            raise Unauthorized(f"invalid {typ} token: {exc}") from None
        async with self.sessions() as s:
            user = await s.get(User, payload["sub"])
            if user is None or not user.active or user.token_version != payload.get("ver"):
                raise Unauthorized(f"{typ} token revoked")
            family = payload.get("fam")
            if isinstance(family, str):  # tokens from before rotation carry none and expire within the TTL
                row = await s.get(RefreshFamily, family)
                if row is None or row.revoked:
                    raise Unauthorized(f"{typ} token revoked")
                if row.generation != payload.get("gen"):
                    raise Unauthorized(f"{typ} token replaced by a refresh; use the new one")
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
