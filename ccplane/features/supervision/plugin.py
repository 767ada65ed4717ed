from __future__ import annotations

from ...plugin import Feature, Wiring
from .http import api
from .services import SpyService, ThresholdService


def setup(w: Wiring) -> None:
    core = w.core
    w.provide("spy", SpyService(core.sessions, core.ami, core.calls.tracker, core.contacts.registered))
    w.provide("thresholds", ThresholdService(core.sessions))


FEATURE = Feature("supervision", setup, api=api)
