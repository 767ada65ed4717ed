from __future__ import annotations

from typing import Any

from ...plugin import Feature, Wiring
from .http import api
from .services import SpyService, ThresholdService
from .window import ServiceLevelWindow


def setup(w: Wiring) -> None:
    core = w.core
    w.provide("spy", SpyService(core.sessions, core.ami, core.calls.tracker, core.contacts.registered))
    w.provide("thresholds", ThresholdService(core.sessions))
    window = w.provide("service_levels", ServiceLevelWindow(core.sessions, core.live))
    window.subscribe(core.bus)
    w.on_start(window.start)
    w.on_stop("service level window", window.stop)
    snapshot = core.live.snapshot

    def with_service_levels(slug: str) -> dict[str, Any]:  # a reconnecting panel gets the figures again
        return {**snapshot(slug), "service_levels": window.snapshot(slug)}
    core.live.snapshot = with_service_levels


FEATURE = Feature("supervision", setup, api=api)
