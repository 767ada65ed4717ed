"""/health's database probe: one query shared by concurrent requests, reused for a second."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ccplane import app as app_module


async def test_concurrent_health_checks_share_one_probe_and_reuse_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    release = asyncio.Event()

    async def probe(_services: Any) -> bool:
        nonlocal calls
        calls += 1
        await release.wait()
        return True
    monkeypatch.setattr(app_module, "_database_ok", probe)
    db = app_module._DatabaseProbe(max_age=0.2)
    waiting = [asyncio.ensure_future(db.ok(None)) for _ in range(50)]  # type: ignore[arg-type]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [True] * 50
    assert calls == 1
    assert await db.ok(None) is True and calls == 1  # type: ignore[arg-type]  # fresh: reused
    await asyncio.sleep(0.25)
    assert await db.ok(None) is True and calls == 2  # type: ignore[arg-type]  # stale: probed again


async def test_a_failed_probe_is_reported_then_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    results = [False, True]

    async def probe(_services: Any) -> bool:
        return results.pop(0)
    monkeypatch.setattr(app_module, "_database_ok", probe)
    db = app_module._DatabaseProbe(max_age=0.05)
    assert await db.ok(None) is False  # type: ignore[arg-type]
    await asyncio.sleep(0.06)
    assert await db.ok(None) is True  # type: ignore[arg-type]


async def test_a_slow_refresh_answers_with_the_last_result_until_it_is_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    release = asyncio.Event()
    calls = 0

    async def probe(_services: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls > 1:
            await release.wait()  # the database is busy: the refresh hangs
        return True
    monkeypatch.setattr(app_module, "_database_ok", probe)
    db = app_module._DatabaseProbe(max_age=0.05, patience=0.01, stale_after=0.3)
    assert await db.ok(None) is True  # type: ignore[arg-type]  # the first probe is awaited
    await asyncio.sleep(0.06)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await db.ok(None) is True  # type: ignore[arg-type]  # last result, not held by the refresh
    assert loop.time() - started < 0.2 and calls == 2
    await asyncio.sleep(0.3)
    assert await db.ok(None) is False  # type: ignore[arg-type]  # too old: reported down
    assert calls == 2  # the one refresh still under way, not a second one
    release.set()
    await asyncio.sleep(0.01)
    assert await db.ok(None) is True  # type: ignore[arg-type]
