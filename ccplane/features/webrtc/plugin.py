"""WebRTC (issue 15): the agent screen is the phone. Extensions of kind ``webrtc``
are rendered by the extensions feature; this feature gives the agent's page its
phone's credentials and keeps the call-quality figures the page reports."""
from __future__ import annotations

from ...plugin import Feature, Wiring
from .http import api
from .services import WebRtcService


def setup(w: Wiring) -> None:
    w.provide("webrtc", WebRtcService(w.core.sessions, w.core.calls, w.settings.webrtc, w.target.wss_url))


FEATURE = Feature("webrtc", setup, api=api)
