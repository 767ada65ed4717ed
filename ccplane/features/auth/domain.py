"""Password hashing and API tokens — pure functions, no I/O.

Tokens are ``base64url(json payload) + "." + base64url(HMAC-SHA256)``. The
payload carries the user id, the token type (access/refresh), the user's
``token_version`` (bumped on password change or deactivation, which revokes
every earlier token at once) and the expiry.

    >>> signer = TokenSigner(b"k" * 32)
    >>> tok = signer.issue(7, "access", 0, ttl=60, now=1000)
    >>> signer.verify(tok, "access", now=1010)["sub"]
    7
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id with argon2-cffi's default cost (RFC 9106's low-memory recommendation:
# 3 passes over 64 MiB, 4 lanes); settings auth.password_* may change it.
_hasher = PasswordHasher()
# A hash of a random password, verified when the username is unknown so that
# response time does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def configure_hasher(time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4) -> None:
    """The cost of the hashes made from now on (a process-wide choice, made at start).
    Hashes made with another cost still verify: argon2 keeps its parameters in the hash.

    >>> configure_hasher(1, 1024, 1); hash_password("x").startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    True
    >>> configure_hasher()
    """
    global _hasher, _DUMMY_HASH
    if (time_cost, memory_kib, parallelism) == (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    _DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))  # an unknown user costs what a known one does


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class InvalidToken(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _small_int(value: Any, *, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= 2**63 - 1


@dataclass(frozen=True)
class TokenSigner:
    key: bytes

    def issue(self, user_id: int, typ: str, version: int, *, ttl: int, now: float | None = None,
              claims: dict[str, Any] | None = None) -> str:
        """``claims`` adds fields (e.g. a refresh family) to the signed payload."""
        now = time.time() if now is None else now
        payload = {**(claims or {}), "sub": user_id, "typ": typ, "ver": version, "exp": int(now) + ttl,
                   "jti": secrets.token_hex(8)}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return body + "." + _b64(self._mac(body))

    def verify(self, token: str, typ: str, *, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        try:
            body, mac = token.split(".")
            if not hmac.compare_digest(_unb64(mac), self._mac(body)):
                raise InvalidToken("bad signature")
            payload = json.loads(_unb64(body))
        except (ValueError, TypeError) as exc:
            raise InvalidToken("malformed token") from exc
        if not isinstance(payload, dict) or payload.get("typ") != typ:
            raise InvalidToken("wrong token type")
        if not isinstance(payload.get("exp"), int) or payload["exp"] < now:
            raise InvalidToken("token expired")
        # Only this signer makes tokens, but a leaked key or an old format must
        # not reach the database with an id it cannot hold (a huge sub was a 500).
        if not _small_int(payload.get("sub"), minimum=1) or not _small_int(payload.get("ver"), minimum=0):
            raise InvalidToken("malformed token")
        return payload

    def _mac(self, body: str) -> bytes:
        return hmac.new(self.key, body.encode(), hashlib.sha256).digest()
