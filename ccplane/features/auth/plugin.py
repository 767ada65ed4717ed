from __future__ import annotations

from ...plugin import Feature, Wiring
from .domain import configure_hasher
from .http import api
from .services import AuthService


def setup(w: Wiring) -> None:
    a = w.settings.auth
    configure_hasher(a.password_time_cost, a.password_memory_kib, a.password_parallelism)
    w.provide("auth", AuthService(w.core.sessions, w.settings.auth))


FEATURE = Feature("auth", setup, api=api)
