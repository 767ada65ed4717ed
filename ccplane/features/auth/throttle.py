"""Login throttling per account and per client address — pure, clock injected.

Every password login (team logins, the alert app's CPF login, the web login
form when it comes) asks :meth:`LoginThrottle.check` before it verifies a
password, and reports the outcome. An account or an address that failed more
than its free allowance waits, doubling at each further failure, up to
``cap`` seconds; the wait is answered 429 with Retry-After *even when the
password is right*, or a guesser would only have to try the right one once.
A quiet ``forget_after`` clears the record. The address allowance is larger
(many people behind one NAT), the account one small; a success clears the
account's record only (one valid account must not reset a guesser's address).

    >>> t = LoginThrottle(account_free=2, clock=lambda: 0.0)
    >>> for _ in range(3): t.failed("user:ana", "10.0.0.1")
    >>> t.check("user:ana", "10.0.0.9")
    Traceback (most recent call last):
    ccplane.errors.TooManyRequests: too many failed logins; try again in 1 s
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from ...errors import TooManyRequests


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0
    blocked_until: float = 0.0


class LoginThrottle:
    def __init__(self, *, account_free: int = 5, address_free: int = 30, base: float = 1.0, cap: float = 300.0,
                 forget_after: float = 900.0, max_entries: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.account_free = account_free
        self.address_free = address_free
        self.base = base
        self.cap = cap
        self.forget_after = forget_after
        self.max_entries = max_entries  # bounded memory under a flood of made-up names
        self.clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def check(self, account: str, address: str) -> None:
        """Raise TooManyRequests while the account or the address must wait."""
        now = self.clock()
        wait = max(self._wait(f"acct:{account}", now), self._wait(f"addr:{address}", now))
        if wait > 0:
            raise TooManyRequests(f"too many failed logins; try again in {max(1, round(wait + 0.499))} s",
                                  retry_after=wait)

    def failed(self, account: str, address: str) -> None:
        now = self.clock()
        self._fail(f"acct:{account}", self.account_free, now)
        self._fail(f"addr:{address}", self.address_free, now)

    def succeeded(self, account: str, address: str) -> None:
        self._records.pop(f"acct:{account}", None)

    def _wait(self, key: str, now: float) -> float:
        rec = self._records.get(key)
        if rec is None:
            return 0.0
        if now - rec.last > self.forget_after:
            del self._records[key]
            return 0.0
        return max(0.0, rec.blocked_until - now)

    def _fail(self, key: str, free: int, now: float) -> None:
        rec = self._records.pop(key, None)
        if rec is None or now - rec.last > self.forget_after:
            rec = _Record()
        rec.failures += 1
        rec.last = now
        beyond = rec.failures - free
        if beyond > 0:
            rec.blocked_until = now + min(self.cap, self.base * 2 ** min(beyond - 1, 30))
        self._records[key] = rec  # most recent last: the oldest go first when full
        while len(self._records) > self.max_entries:
            self._records.popitem(last=False)
