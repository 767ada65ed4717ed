import asyncio
import logging
import time

import pytest

from ccplane.aio import cancel_and_wait


async def test_cancel_and_wait_stops_well_behaved_tasks() -> None:
    task = asyncio.ensure_future(asyncio.sleep(100))
    await cancel_and_wait([task, None], "test")
    assert task.cancelled()


async def test_a_task_that_ignores_its_cancel_does_not_hang_the_stop(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(100)
            except asyncio.CancelledError:
                continue  # what 3.11's wait_for race amounts to

    task = asyncio.ensure_future(stubborn())
    await asyncio.sleep(0)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="ccplane.aio"):
        await cancel_and_wait([task], "stubborn worker", grace=0.3)
    assert 0.25 <= time.monotonic() - started < 2
    assert "stubborn worker" in caplog.text and "did not stop" in caplog.text
    release.set()
    task.cancel()
    await asyncio.wait([task], timeout=1)
