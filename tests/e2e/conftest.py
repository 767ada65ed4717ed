from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _watched(event_loop_watch: None) -> None:
    """Every browser test's event loop is visible to the hang watchdog (its asyncio
    tasks are dumped beside the threads if the test hangs)."""
