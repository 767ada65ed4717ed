from __future__ import annotations

from ...plugin import Feature, Wiring
from .http import api
from .services import ReportService


def setup(w: Wiring) -> None:
    w.provide("reports", ReportService(w.core.sessions, w.core.engine.dialect.name))


FEATURE = Feature("reports", setup, api=api)
