from __future__ import annotations

import logging

from ...asterisk.events import CoreShowChannel, frames_to_events
from ...plugin import Feature, Wiring
from .directory import CallDirectory
from .events import CallEvent
from .http import api
from .live import publish_calls
from .services import CallService
from .transfers import TransferService

log = logging.getLogger("ccplane.calls")


def setup(w: Wiring) -> None:
    core = w.core
    runtime = core.agent_runtime

    def agent_of(interface: str) -> str | None:
        agent = runtime.board.agents.get(interface)
        return agent.username if agent else None
    directory = w.provide("directory", CallDirectory(core.sessions, agent_of))
    calls = w.provide("calls", CallService(core.sessions, core.ami, core.bus, directory))
    w.provide("transfers", TransferService(core.sessions, core.ami, calls.tracker))
    runtime.timeout_listeners.append(lambda uniqueid: calls.force_reason(uniqueid, "call_timeout"))
    publish_calls(core.bus, calls, core.live)
    core.bus.subscribe(CallEvent, runtime.on_call_event)  # the agent board follows the calls' domain events
    core.live.snapshot = lambda slug: {"agents": runtime.views(slug), "queues": calls.queue_view(slug),
                                       "calls": calls.active_view(slug)}
    w.followers.append(directory.refresh)  # the tracker's DIDs follow the routes

    async def start() -> None:
        await directory.refresh()
        await calls.start()

    async def resync() -> None:  # after the agents' resync (listed before): members are known
        await directory.refresh()
        channels = await core.ami.action({"Action": "CoreShowChannels"})
        ended = await calls.resync([e for e in frames_to_events(channels) if isinstance(e, CoreShowChannel)])
        if ended:
            log.info("calls.resync ended_unseen=%d", ended)
    w.on_start(start)
    w.on_stop("calls", calls.stop)
    w.on_resync(resync)


FEATURE = Feature("calls", setup, api=api)
