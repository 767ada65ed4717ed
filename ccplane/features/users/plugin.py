from __future__ import annotations

from ...plugin import Feature, Wiring
from .http import api
from .services import UserService


def setup(w: Wiring) -> None:
    w.provide("users", UserService(w.core.sessions, w.core.agent_runtime.policies_changed))


FEATURE = Feature("users", setup, api=api)
