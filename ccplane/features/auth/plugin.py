from __future__ import annotations

from ...plugin import Feature, Wiring
from .http import api
from .services import AuthService


def setup(w: Wiring) -> None:
    w.provide("auth", AuthService(w.core.sessions, w.settings.auth))


FEATURE = Feature("auth", setup, api=api)
