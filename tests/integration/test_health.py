"""/health follows Asterisk going away and coming back, without restarting ccplane.

Runs against its own sandbox instance ("health", other ports) so that killing
its Asterisk does not disturb the other tests."""
from __future__ import annotations

import os
import signal
import time
from typing import Any

from ccplane.app import create_app
from ccplane.asterisk.sandbox import Sandbox
from ccplane.settings import load_settings
from tests.support.sandboxes import instance_env
from tests.support.api import ApiCaller
from tests.support.waiting import eventually

HEALTH_SANDBOX = instance_env("health", 5138, 8188, 5160, 12000, 12499)


async def test_health_tracks_asterisk(aiohttp_client: Any, migrated_url: str, base_env: dict[str, str]) -> None:
    settings = load_settings(env={**base_env, **HEALTH_SANDBOX, "CCPLANE_DATABASE_URL": migrated_url})
    sandbox = Sandbox(settings.sandbox, progress=print)
    state = sandbox.up()
    try:
        client = ApiCaller(await aiohttp_client(create_app(settings)))

        async def health() -> dict[str, Any]:
            status, body = await client.call("GET", "/health")
            assert status == 200
            return body

        async def all_up() -> dict[str, Any] | None:
            body = await health()
            if body["ami"] and body["ari"] and not body["ready"]:
                assert body["status"] == "degraded"  # connected but not resynced yet: not ready
            return body if body["ami"] and body["ari"] and body["ready"] else None

        body = await eventually(all_up, timeout=10, what="ami and ari up")
        assert body["status"] == "ok" and body["database"] is True
        assert body["asterisk_version"].startswith("22")
        assert isinstance(body["background_failures"], int)  # failed background tasks since start

        assert state.pid
        os.kill(state.pid, signal.SIGKILL)
        killed = time.monotonic()

        async def all_down() -> dict[str, Any] | None:
            body = await health()
            return body if not body["ami"] and not body["ari"] else None

        body = await eventually(all_down, timeout=5, what="ami and ari down")
        assert time.monotonic() - killed <= 5
        assert body["status"] == "degraded" and body["asterisk_version"] is None

        sandbox.up()
        restarted = time.monotonic()
        body = await eventually(all_up, timeout=10, what="ami and ari back")
        assert time.monotonic() - restarted <= 10
        assert body["status"] == "ok"
    finally:
        sandbox.down()
