from __future__ import annotations

from ...plugin import Feature, Wiring
from ..callbacks.engine import CallbackDialer
from .http import api
from .pacer import Pacer
from .services import CampaignService


def setup(w: Wiring) -> None:
    core = w.core
    campaigns = w.provide("campaigns", CampaignService(core.sessions, core.live.publish))
    pacer = w.provide("dialer", Pacer(core.sessions, core.ami, CallbackDialer(core.ami, core.agent_runtime),
                                      campaigns, core.live.publish, ready=lambda: bool(core.resynced)))
    campaigns.wake = pacer.wake
    core.steps.handle("CcplaneCampaign", pacer.report)
    core.agent_runtime.listeners.append(lambda _slug, _view: pacer.agent_changed())  # an agent freed up: look again
    w.on_start(pacer.start)
    w.on_stop("dialer", pacer.stop)


FEATURE = Feature("dialer", setup, api=api)
