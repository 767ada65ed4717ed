from __future__ import annotations

from ...plugin import Feature, Wiring
from .activity import AgentStateLog
from .http import api
from .services import ReportService


def setup(w: Wiring) -> None:
    w.provide("reports", ReportService(w.core.sessions, w.core.engine.dialect.name))
    states = w.provide("agent_states", AgentStateLog(w.core.sessions))
    w.core.agent_runtime.listeners.append(states.on_view)  # every change of an agent's state, as the live feed
    w.on_start(states.start)
    w.on_stop("agent state log", states.stop)


FEATURE = Feature("reports", setup, api=api)
