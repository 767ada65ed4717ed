"""The in-process event bus: features publish domain events, others subscribe.

Events are plain frozen dataclasses declared in each feature's ``events.py``.
Delivery is synchronous and in publish order (a subscriber sees the events of
a call in the order the tracker emitted them); a subscriber that raises is
logged and does not stop the others. Subscribers that do I/O hand the event
to their own queue or task.

Example::

    bus = EventBus()
    bus.subscribe(CallEnded, lambda ev: print(ev.call_id))
    bus.publish(CallEnded(call_id="1.2", ...))
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger("ccplane.bus")

E = TypeVar("E")
Handler = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = {}
        self._cache: dict[type, list[Handler]] = {}
        self.published = 0

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        """``handler(event)`` for every published event of ``event_type`` or a subclass."""
        self._handlers.setdefault(event_type, []).append(handler)
        self._cache.clear()

    def publish(self, event: object) -> None:
        self.published += 1
        cls = type(event)
        handlers = self._cache.get(cls)
        if handlers is None:
            handlers = [h for base in cls.__mro__ for h in self._handlers.get(base, ())]
            self._cache[cls] = handlers
        for handler in handlers:
            try:
                handler(event)
            except Exception:  # noqa: BLE001 - one subscriber must not break the others
                log.exception("bus.handler_failed event=%s", cls.__name__)

    def publish_all(self, events: list[Any]) -> None:
        for event in events:
            self.publish(event)
