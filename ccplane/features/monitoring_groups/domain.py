"""What a supervisor sees of the live feed: the queues their monitoring groups
cover and the agents logged into one of them (no I/O).

- ``queue.*``: the queue is covered.
- ``call.*`` / ``attendance.*``: the call's queue is covered; a call without a
  queue (internal, outbound) when its agent is seen.
- ``agent.state``: the agent is logged into a covered queue, or was shown to
  this client before (so it also learns that the agent left).
- anything else (alerts...) is not a queue matter: passed on.

Example::

    >>> scope = SupervisorScope("acme", frozenset({"sales"}), lambda u: {"acme_sales"} if u == "ana" else set())
    >>> scope.allows("agent.state", {"username": "ana"}), scope.allows("agent.state", {"username": "bob"})
    (True, False)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class SupervisorScope:
    def __init__(self, slug: str, queues: frozenset[str], agent_queues: Callable[[str], set[str]]) -> None:
        self.queues = queues
        self.keys = frozenset(f"{slug}_{q}" for q in queues)  # Asterisk's queue names
        self.agent_queues = agent_queues  # username -> Asterisk queue names the agent is logged into
        self.shown: set[str] = set()

    def agent_visible(self, username: object) -> bool:
        if not isinstance(username, str) or not username:
            return False
        if username in self.shown:
            return True
        if self.agent_queues(username) & self.keys:
            self.shown.add(username)
            return True
        return False

    def call_visible(self, call: dict[str, Any]) -> bool:
        queue = call.get("queue")
        if queue:
            return queue in self.queues
        return self.agent_visible(call.get("agent"))

    def snapshot(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**data,
                "agents": [a for a in data.get("agents", ()) if self.agent_visible(a.get("username"))],
                "queues": [q for q in data.get("queues", ()) if q.get("queue") in self.queues],
                "calls": [c for c in data.get("calls", ()) if self.call_visible(c)],
                "service_levels": [f for f in data.get("service_levels", ()) if f.get("queue") in self.queues]}

    def allows(self, type_: str, data: dict[str, Any]) -> bool:
        kind = type_.split(".", 1)[0]
        if kind == "agent":
            return self.agent_visible(data.get("username"))
        if kind in ("call", "attendance"):
            return self.call_visible(data)
        if kind == "queue":
            return data.get("queue") in self.queues
        return True
