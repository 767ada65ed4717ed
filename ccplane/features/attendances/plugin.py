from __future__ import annotations

from ...plugin import Feature, Wiring
from ..calls.events import LegAnswered, LegEnded
from .http import api
from .services import AttendanceService


def setup(w: Wiring) -> None:
    core = w.core
    attendances = w.provide("attendances", AttendanceService(core.sessions, core.live.publish))
    core.bus.subscribe(LegAnswered, attendances.on_event)
    core.bus.subscribe(LegEnded, attendances.on_event)
    calls = core.calls
    calls.protocol_of = attendances.protocol_of  # the calls' views show the attendance in progress
    calls.protocols_of = attendances.protocols
    w.on_start(attendances.start)
    w.on_stop("attendances", attendances.stop)


FEATURE = Feature("attendances", setup, api=api)
