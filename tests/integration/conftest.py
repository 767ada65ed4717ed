from __future__ import annotations

from typing import Any, AsyncIterator

import pytest

from ccplane.asterisk.sandbox import SandboxState
from tests.support.api import ApiCaller
from tests.support.carrier import carrier_user_events, start_carrier
from tests.support.telephony import Recorder, Scene


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
        if not sc.services.ready:  # the test stopped its app (replicas, restarts): its clean-up
            await sc.services.engine.dispose()  # opened a connection that nothing would close


@pytest.fixture(scope="module")
def carrier() -> Any:
    """A second Asterisk playing the carrier (one per test module)."""
    sandbox, state = start_carrier()
    yield state
    sandbox.down()


@pytest.fixture
async def carrier_events(carrier: SandboxState) -> AsyncIterator[Recorder]:
    async with carrier_user_events(carrier) as recorder:
        yield recorder
