"""The live feed's call events: one more subscriber of the bus."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...bus import EventBus
from . import events as ev

if TYPE_CHECKING:
    from ...web.live import LiveHub
    from .services import CallService

# domain event -> live feed event (API.md names)
LIVE_TYPES: dict[type, str] = {ev.CallStarted: "call.new", ev.LegAnswered: "call.answered",
                               ev.CallTransferred: "call.transferred", ev.CallEnded: "call.ended"}


def publish_calls(bus: EventBus, calls: "CallService", live: "LiveHub") -> None:
    # nobody watching the domain's feed: no view is built (under load these views were
    # a tenth of ccplane's CPU per call)
    def forward(event: ev.CallEvent) -> None:
        if event.domain is None or not live.clients(event.domain):
            return
        view = calls.view(event.call_id)
        if view is None:
            return
        if isinstance(event, ev.CallTransferred):
            view = {**view, "transfer": {"mode": event.mode, "by": event.by, "to": event.to, "result": event.result,
                                     "returned_to": event.returned_to}}
        live.publish(event.domain, LIVE_TYPES[type(event)], view)

    for event_type in LIVE_TYPES:
        bus.subscribe(event_type, forward)

    def queue_event(event: ev.CallQueued | ev.CallLeftQueue) -> None:
        if event.domain is None or not live.clients(event.domain):
            return
        view = calls.view(event.call_id) or {}
        waiting = calls.waiting(event.domain, event.queue)
        data = {"queue": event.queue, "caller": view.get("caller"), "call": event.call_id, "count": waiting}
        if isinstance(event, ev.CallQueued):
            live.publish(event.domain, "queue.caller_joined", {**data, "position": event.position})
        else:
            live.publish(event.domain, "queue.caller_left", {**data, "result": event.result, "wait": event.wait})
    bus.subscribe(ev.CallQueued, queue_event)
    bus.subscribe(ev.CallLeftQueue, queue_event)
