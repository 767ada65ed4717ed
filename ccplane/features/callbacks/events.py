"""Live feed events of callbacks (docs/events.md): ``{"type", "at", "data"}``
where ``data`` is the callback as ``GET /callbacks/{id}`` shows it."""
from __future__ import annotations

SCHEDULED = "callback.scheduled"  # created (API or in-queue request)
RESCHEDULED = "callback.rescheduled"
CANCELLED = "callback.cancelled"
STARTED = "callback.started"  # its time came: the agent leg rings (data has delay, routed_to)
AGENT_ANSWERED = "callback.agent_answered"  # the customer is being called
CUSTOMER_ANSWERED = "callback.customer_answered"  # the customer picked up: agent and customer talk
COMPLETED = "callback.completed"  # the customer answered (outcome answered)
FAILED = "callback.failed"  # outcome says why (agent_offline, agent_no_answer, no_answer, busy...)
RETRY = "callback.retry"  # in_queue: the customer did not answer; back in line at ``at`` (attempts so far)
DUPLICATE = "callback.duplicate"  # a second request from a number that already has one: no second call
