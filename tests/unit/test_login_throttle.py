"""Login throttling (pure, on a fake clock) and the bounded hashing pool."""
from __future__ import annotations

import asyncio

import pytest

from ccplane.errors import TooManyRequests
from ccplane.features.auth import passwords
from ccplane.features.auth.domain import configure_hasher, hash_password
from ccplane.features.auth.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_account_backs_off_exponentially_and_the_right_password_waits_too() -> None:
    clock = Clock()
    t = LoginThrottle(account_free=3, address_free=1000, clock=clock)
    for _ in range(3):
        t.check("user:ana", "1.1.1.1")
        t.failed("user:ana", "1.1.1.1")
    t.check("user:ana", "1.1.1.1")  # three free failures
    waits = []
    for _ in range(4):
        t.failed("user:ana", "1.1.1.1")
        with pytest.raises(TooManyRequests) as exc:
            t.check("user:ana", "2.2.2.2")  # from anywhere: it is the account that waits
        waits.append(exc.value.retry_after)
        clock.now += exc.value.retry_after
        t.check("user:ana", "2.2.2.2")  # the wait is over
    assert waits == [1, 2, 4, 8]
    t.check("user:bob", "1.1.1.1")  # other accounts are not held


def test_back_off_is_capped_and_forgotten_after_a_quiet_while() -> None:
    clock = Clock()
    t = LoginThrottle(account_free=0, cap=60, forget_after=900, clock=clock)
    for _ in range(20):
        t.failed("user:ana", "a")
    with pytest.raises(TooManyRequests) as exc:
        t.check("user:ana", "b")
    assert exc.value.retry_after == 60
    clock.now += 901
    t.check("user:ana", "b")
    t.failed("user:ana", "b")  # a fresh count: the first failure beyond 0 free waits 1 s
    with pytest.raises(TooManyRequests) as exc:
        t.check("user:ana", "b")
    assert exc.value.retry_after == 1


def test_address_is_throttled_across_accounts_and_success_does_not_reset_it() -> None:
    clock = Clock()
    t = LoginThrottle(account_free=100, address_free=5, clock=clock)
    for i in range(6):
        t.failed(f"user:u{i}", "6.6.6.6")
    t.succeeded("user:mine", "6.6.6.6")
    with pytest.raises(TooManyRequests):
        t.check("user:someone-else", "6.6.6.6")
    t.check("user:someone-else", "7.7.7.7")


def test_success_clears_the_account() -> None:
    t = LoginThrottle(account_free=2, clock=Clock())
    t.failed("user:ana", "a")
    t.failed("user:ana", "a")
    t.succeeded("user:ana", "a")
    t.failed("user:ana", "a")
    t.check("user:ana", "a")


def test_memory_is_bounded() -> None:
    t = LoginThrottle(max_entries=100, clock=Clock())
    for i in range(1000):
        t.failed(f"user:{i}", f"10.0.{i // 256}.{i % 256}")
    assert len(t._records) == 100


async def test_hashing_runs_off_the_event_loop() -> None:
    configure_hasher()  # the production cost (an app started earlier in the session may have lowered it)
    stored = hash_password("correct horse")
    task = asyncio.ensure_future(passwords.verify_password_async(stored, "wrong horse"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    # On the loop, the whole argon2 verification would have run in the task's
    # first step; off it, the loop is free while the hash runs.
    assert not task.done()
    assert await task is False
    assert await passwords.verify_password_async(stored, "correct horse") is True


async def test_hashing_pool_refuses_beyond_its_bound() -> None:
    jobs = [asyncio.ensure_future(passwords.verify_password_async(None, "x"))
            for _ in range(passwords.MAX_PENDING + 3)]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    refused = [r for r in results if isinstance(r, TooManyRequests)]
    assert len(refused) == 3 and all(r is False for r in results if not isinstance(r, TooManyRequests))
    assert passwords._pending == 0


def test_the_hash_cost_is_configurable_and_older_hashes_still_verify() -> None:
    from ccplane.features.auth import domain
    configure_hasher()
    strong = hash_password("correct horse")
    try:
        configure_hasher(1, 1024, 1)
        cheap = hash_password("correct horse")
        assert cheap.startswith("$argon2id$v=19$m=1024,t=1,p=1$") and "m=65536,t=3,p=4" in strong
        assert domain.verify_password(strong, "correct horse") and domain.verify_password(cheap, "correct horse")
        assert not domain.verify_password(strong, "wrong") and not domain.verify_password(None, "correct horse")
        assert "m=1024,t=1,p=1" in domain._DUMMY_HASH  # an unknown user costs what a known one does
    finally:
        configure_hasher()
    assert "m=65536,t=3,p=4" in domain._DUMMY_HASH
