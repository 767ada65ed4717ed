"""AriClient against a real Asterisk 22.

Getting a channel into Stasis: ``POST /channels/create`` builds a Local
channel and puts it straight into our Stasis application without dialing it,
so no dialplan is consulted and the test works on any sandbox (the context in
the endpoint need not exist). Each test registers its own application name,
so it never takes events away from a ccplane instance using the same Asterisk.
"""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from ccplane.asterisk.ari import AriClient, AriEvent
from ccplane.asterisk.sandbox import SandboxState
from ccplane.errors import AriError

pytestmark = pytest.mark.integration


@pytest.fixture
def ari_conn(sandbox: SandboxState) -> dict[str, str]:
    return {"url": sandbox.ari_url, "username": sandbox.ari_username, "password": sandbox.ari_password}


def _app_name() -> str:
    return f"ccplane-test-{uuid.uuid4().hex[:8]}"


def _ari_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("ari-") and not t.done()]


@pytest.fixture
async def ari(ari_conn: dict[str, str]) -> AsyncIterator[AriClient]:
    client = AriClient(ari_conn["url"], ari_conn["username"], ari_conn["password"], _app_name())
    try:
        yield client
    finally:
        await client.stop()
    assert client.connected is False
    assert _ari_tasks() == [], "stop() left ARI tasks running"


async def test_connects_and_reports_asterisk_22(ari: AriClient) -> None:
    await ari.start()
    await ari.wait_connected(10)
    assert ari.connected is True
    assert ari.asterisk_version is not None and ari.asterisk_version.startswith("22")


async def test_stasis_start_and_end_reach_handlers(ari: AriClient) -> None:
    channel_id = f"ccplane-test-{uuid.uuid4().hex}"
    started: asyncio.Queue[AriEvent] = asyncio.Queue()
    ended: asyncio.Queue[AriEvent] = asyncio.Queue()
    destroyed = asyncio.Event()

    async def on_start(event: AriEvent) -> None:
        if event.channel_id == channel_id:
            await started.put(event)

    async def on_end(event: AriEvent) -> None:
        if event.channel_id == channel_id:
            await ended.put(event)

    async def on_destroyed(event: AriEvent) -> None:
        if event.channel_id == channel_id:
            destroyed.set()

    ari.on_event("StasisStart", on_start)
    ari.on_event("StasisEnd", on_end)
    ari.on_event("ChannelDestroyed", on_destroyed)
    await ari.start()
    await ari.wait_connected(10)
    app = ari.app  # the unique name the fixture chose

    created = await ari.post(
        "/channels/create", endpoint="Local/s@ccplane-ari-test", app=app, channelId=channel_id
    )
    try:
        assert created["id"] == channel_id
        event = await asyncio.wait_for(started.get(), 5)
        assert event.application == app
        assert event.data["channel"]["name"].startswith("Local/s@ccplane-ari-test-")
        assert channel_id in [c["id"] for c in await ari.get("/channels")]
    finally:
        await ari.delete(f"/channels/{channel_id}")
    event = await asyncio.wait_for(ended.get(), 5)
    assert event.type == "StasisEnd" and event.application == app
    # StasisEnd comes before ChannelDestroyed: the channel may still be listed here.
    await asyncio.wait_for(destroyed.wait(), 5)
    with pytest.raises(AriError) as info:
        await ari.get(f"/channels/{channel_id}")
    assert info.value.status == 404


async def test_unknown_channel_is_404(ari: AriClient) -> None:
    with pytest.raises(AriError) as info:
        await ari.get("/channels/nonexistent")
    assert info.value.status == 404
    assert info.value.retriable is False
    assert str(info.value) == "GET /channels/nonexistent: 404 Channel not found"


async def test_wrong_password_is_401(ari_conn: dict[str, str]) -> None:
    client = AriClient(ari_conn["url"], ari_conn["username"], ari_conn["password"] + "-wrong", _app_name())
    await client.start()
    try:
        with pytest.raises(AriError) as info:
            await client.get("/asterisk/info")
        assert info.value.status == 401 and info.value.retriable is False
        with pytest.raises(asyncio.TimeoutError):
            await client.wait_connected(1)
        assert client.connected is False
    finally:
        await client.stop()
    assert _ari_tasks() == []
