from __future__ import annotations

from ...asterisk.tracker import confirm_registration
from ...plugin import Feature, Wiring
from .http import api
from .runtime import AgentRuntime
from .services import AgentService


def setup(w: Wiring) -> None:
    core = w.core
    runtime = w.provide("agent_runtime", AgentRuntime(core.sessions, core.ami, core.contacts.registered))
    core.contacts.on_change(runtime.on_registration)
    runtime.listeners.append(lambda slug, view: core.live.publish(slug, "agent.state", view))
    w.provide("agents", AgentService(core.sessions, runtime, core.contacts,
                                     lambda endpoint: confirm_registration(core.ami.action, core.contacts, endpoint)))
    w.on_start(runtime.start)
    w.on_stop("agent runtime", runtime.stop)
    w.on_resync(runtime.resync)  # after rendering: the queues must exist first


FEATURE = Feature("agents", setup, api=api)
