"""WebRTC (issue 15): the agent screen is the phone. Extensions of kind ``webrtc``
are rendered by the extensions feature; this feature gives the agent's page its
phone's credentials and keeps the call-quality figures the page reports (each
report also goes out on the live feed as ``call.quality``: the supervisors' panels
are pushed the figures instead of asking for them)."""
from __future__ import annotations

from ...plugin import Feature, Wiring
from .events import CallQualityReported
from .http import api
from .services import WebRtcService


def setup(w: Wiring) -> None:
    core = w.core
    w.provide("webrtc", WebRtcService(core.sessions, core.calls, w.settings.webrtc, w.target.wss_url,
                                      core.bus.publish))

    def forward(event: CallQualityReported) -> None:
        # the call's queue (and agent) scope the event like every call.* one: a supervisor
        # sees the quality of their monitoring groups' calls only
        view = core.calls.view(event.call_id) or {}
        core.live.publish(event.domain, "call.quality", {**event.view, "id": event.call_id,
                                                         "queue": view.get("queue"), "agent": event.agent})
    core.bus.subscribe(CallQualityReported, forward)


FEATURE = Feature("webrtc", setup, api=api)
