"""The AMI adapter against a real Asterisk: actions, list actions, errors,
half-open link detection, pending actions failed on disconnect, reconnect and
the resync hook. Uses its own sandbox instance, which it freezes and kills."""
from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.events import AmiEvent
from ccplane.asterisk.sandbox import Sandbox, SandboxState
from ccplane.errors import AmiActionFailed, AmiDisconnected, AmiNotConnected
from ccplane.settings import load_settings
from tests.support.sandboxes import instance_env

AMI_SANDBOX = instance_env("amitest", 5238, 8288, 5260, 12500, 12999)


@pytest.fixture(scope="module")
def ami_sandbox() -> Any:
    sandbox = Sandbox(load_settings(env=AMI_SANDBOX).sandbox, progress=print)
    sandbox.up()
    yield sandbox
    sandbox.down()


@pytest.fixture
async def ami(ami_sandbox: Sandbox) -> AsyncIterator[tuple[AmiClient, SandboxState]]:
    state = ami_sandbox.up()
    client = AmiClient("127.0.0.1", state.ami_port, state.ami_username, state.ami_secret,
                       action_timeout=2, ping_interval=0.5, reconnect_max_delay=0.5)
    await client.start()
    await client.wait_connected(10)
    yield client, state
    await client.stop()


async def test_actions_and_list_actions(ami: tuple[AmiClient, SandboxState]) -> None:
    client, _ = ami
    assert client.asterisk_version and client.asterisk_version.startswith("22")
    pong = await client.action({"Action": "Ping"})
    assert pong["Response"] == "Success"
    channels = await client.action({"Action": "CoreShowChannels"})
    assert isinstance(channels, list)
    out = await client.command("core show version")
    assert "Asterisk 22" in out
    with pytest.raises(AmiActionFailed):
        await client.action({"Action": "QueueRemove", "Queue": "no-such-queue", "Interface": "Local/x"})


async def test_events_are_typed(ami: tuple[AmiClient, SandboxState]) -> None:
    client, _ = ami
    got: asyncio.Queue[AmiEvent] = asyncio.Queue()
    client.on_event(got.put_nowait, names=("UserEvent",))
    await client.action({"Action": "UserEvent", "UserEvent": "ccplane-test", "Note": "hello"})
    event = await asyncio.wait_for(got.get(), 5)
    assert isinstance(event, AmiEvent) and event.name == "UserEvent"
    assert event.fields["Note"] == "hello"


async def test_half_open_link_fails_pending_and_recovers(ami: tuple[AmiClient, SandboxState]) -> None:
    client, state = ami
    resyncs = asyncio.Event()

    async def resync() -> None:
        resyncs.set()

    client.on_connect(resync)
    assert state.pid
    os.kill(state.pid, signal.SIGSTOP)  # the TCP link stays open but nobody answers
    try:
        for _ in range(50):  # the stop lands on every thread, then we ask
            if Path(f"/proc/{state.pid}/stat").read_text().split(") ", 1)[1][0] == "T":
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        pending = asyncio.create_task(client.action({"Action": "CoreShowChannels"}, timeout=30))
        with pytest.raises(AmiDisconnected):
            await asyncio.wait_for(pending, 10)  # the watchdog noticed well before 30 s
        assert client.connected is False
        with pytest.raises(AmiNotConnected):
            await client.action({"Action": "Ping"})
    finally:
        os.kill(state.pid, signal.SIGCONT)
    await client.wait_connected(10)
    await asyncio.wait_for(resyncs.wait(), 5)
    assert (await client.action({"Action": "Ping"}))["Response"] == "Success"


async def test_reconnects_after_asterisk_restart(ami: tuple[AmiClient, SandboxState],
                                                 ami_sandbox: Sandbox) -> None:
    client, state = ami
    down = asyncio.Event()

    async def on_down() -> None:
        down.set()

    client.on_disconnect(on_down)
    assert state.pid
    os.kill(state.pid, signal.SIGKILL)
    await asyncio.wait_for(down.wait(), 5)
    await asyncio.to_thread(ami_sandbox.up)
    await client.wait_connected(10)
    assert "Asterisk 22" in await client.command("core show version")


async def test_wrong_secret_never_connects(ami_sandbox: Sandbox) -> None:
    state = ami_sandbox.up()
    client = AmiClient("127.0.0.1", state.ami_port, state.ami_username, "wrong",
                       action_timeout=2, reconnect_max_delay=0.3)
    await client.start()
    try:
        with pytest.raises(asyncio.TimeoutError):
            await client.wait_connected(2)
        assert client.connected is False
    finally:
        await client.stop()


async def test_asterisk_sends_only_the_events_someone_listens_to(ami: tuple[AmiClient, SandboxState]) -> None:
    client, state = ami
    everything = AmiClient("127.0.0.1", state.ami_port, state.ami_username, state.ami_secret, action_timeout=2)
    seen_all: list[AmiEvent] = []
    everything.on_event(seen_all.append)  # "*": no filter, every event
    await everything.start()
    try:
        await everything.wait_connected(10)
        mine: list[AmiEvent] = []
        client.on_event(mine.append, names=("Hangup",))  # added while connected: a filter is sent
        await asyncio.sleep(0.3)
        before = client.frames_received

        async def emit(count: int, tag: str) -> None:
            for i in range(count):
                await client.action({"Action": "UserEvent", "UserEvent": "CcplaneProbe", "Tag": tag, "N": str(i)})

        def probes(events: list[AmiEvent], tag: str) -> int:
            return sum(1 for e in events if e.name == "UserEvent" and e.fields.get("Tag") == tag)

        await emit(20, "unwanted")
        for _ in range(50):
            if probes(seen_all, "unwanted") == 20:
                break
            await asyncio.sleep(0.05)
        assert probes(seen_all, "unwanted") == 20  # Asterisk did emit them
        assert client.frames_received == before, "events nobody listens to reached the filtered session"

        client.on_event(mine.append, names=("UserEvent",))  # now someone listens
        await asyncio.sleep(0.3)
        await emit(5, "wanted")
        for _ in range(50):
            if probes(mine, "wanted") == 5:
                break
            await asyncio.sleep(0.05)
        assert probes(mine, "wanted") == 5
        assert probes(mine, "unwanted") == 0
    finally:
        await everything.stop()
