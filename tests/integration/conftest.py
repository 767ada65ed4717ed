from __future__ import annotations

from typing import Any, AsyncIterator

import pytest

from ccplane.asterisk.sandbox import SandboxState
from tests.support.api import ApiCaller
from tests.support.telephony import Scene


@pytest.fixture(autouse=True)
def _watched(event_loop_watch: None) -> None:
    """Every integration test's event loop is visible to the hang watchdog."""


@pytest.fixture
async def scene(root: ApiCaller, services: Any, domain: str, sandbox: SandboxState) -> AsyncIterator[Scene]:
    sc = Scene(root, services, domain, sandbox.sip_port)
    try:
        yield sc
    finally:
        await sc.close()
