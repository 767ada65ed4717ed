from __future__ import annotations

from ...plugin import Feature, Wiring
from ...scheduler import provide, withdraw
from .engine import CallbackDialer
from .http import api
from .services import CallbackService


def setup(w: Wiring) -> None:
    core = w.core
    dialer = CallbackDialer(core.ami, core.agent_runtime)
    callbacks = w.provide("callbacks", CallbackService(core.sessions, core.scheduler, dialer, core.live.publish,
                                                              ready=lambda: bool(core.resynced)))
    core.steps.handle("CcplaneCallback", callbacks.on_report)

    async def start() -> None:
        provide("callbacks", callbacks)
        await callbacks.start()

    async def stop() -> None:
        withdraw("callbacks", callbacks)
    w.on_start(start)
    w.on_stop("callbacks", stop)


FEATURE = Feature("callbacks", setup, api=api)
