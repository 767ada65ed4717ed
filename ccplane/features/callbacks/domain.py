"""Callback rules with no I/O: which numbers may be called, where a callback's
agent leg goes, and what each report of the dialplan means.

    >>> dialable_number("+55 (11) 98765-4321")
    '11987654321'
    >>> choose_route(wants_agent=True, agent_state=None, agent_interface=None, queue="sales",
    ...              offline_to_queue=True)
    Route(kind='queue', target='sales', outcome=None)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..routes.domain import normalize_number

STATUSES = ("scheduled", "calling_agent", "calling_customer", "completed", "failed", "cancelled")
OPEN = ("scheduled",)  # what cancel and reschedule may still change
ACTIVE = ("calling_agent", "calling_customer")
# agent states (features/agents/domain.py Agent.view) in which an agent can take a callback
TAKES_CALLS = ("available", "wrapup")

_DDD = re.compile(r"^[1-9]{2}$")


def dialable_number(raw: str) -> str:
    """A Brazilian number as ccplane dials it: DDD + 8 digits (a landline, first
    digit 2-5) or DDD + 9 digits (a mobile, first digit 9), in any form a person
    writes it (``+55``, ``0``, spaces, dashes); 55 is added by the system (the
    outbound route's prefix). ValueError says what is wrong."""
    try:
        digits = normalize_number(raw)
    except ValueError:
        raise ValueError("a Brazilian number is DDD + 8 digits (landline) or DDD + 9 digits starting "
                         "with 9 (mobile)") from None
    if not digits.isdigit() or len(digits) not in (10, 11):
        raise ValueError(f"{raw.strip()[:30]!r} is not a Brazilian number: DDD + 8 digits (landline) or "
                         "DDD + 9 digits starting with 9 (mobile)")
    if not _DDD.match(digits[:2]):
        raise ValueError(f"{digits[:2]} is not a Brazilian area code (DDD)")
    if len(digits) == 11 and digits[2] != "9":
        raise ValueError("a mobile number (DDD + 9 digits) starts with 9")
    if len(digits) == 10 and digits[2] not in "2345":
        raise ValueError("a landline number (DDD + 8 digits) starts with 2, 3, 4 or 5")
    return digits


@dataclass(frozen=True)
class Route:
    """Where the agent leg goes: ``agent`` (target: the member interface),
    ``queue`` (target: the queue name), or nowhere (``kind`` ``none``, with
    the outcome to record)."""
    kind: str
    target: str | None
    outcome: str | None = None


def choose_route(*, wants_agent: bool, agent_state: str | None, agent_interface: str | None,
                 queue: str | None, offline_to_queue: bool) -> Route:
    """The agent leg for a callback that names an agent (``wants_agent``) or only a queue."""
    if wants_agent:
        if agent_interface is not None and agent_state in TAKES_CALLS:
            return Route("agent", agent_interface)
        if queue and offline_to_queue:
            return Route("queue", queue)
        return Route("none", None, "agent_offline")
    if queue:
        return Route("queue", queue)
    return Route("none", None, "no_target")


# DIALSTATUS of the customer leg -> the callback's outcome
_CUSTOMER = {"ANSWER": "answered", "NOANSWER": "no_answer", "BUSY": "busy", "CANCEL": "agent_hung_up",
             "CONGESTION": "failed", "CHANUNAVAIL": "failed", "DONTCALL": "failed", "TORTURE": "failed",
             "INVALIDARGS": "failed"}
# DIALSTATUS (agent) or QUEUESTATUS (queue) of an agent leg that was not answered
_AGENT = {"NOANSWER": "agent_no_answer", "BUSY": "agent_busy", "CHANUNAVAIL": "agent_unavailable",
          "CONGESTION": "agent_unavailable", "TIMEOUT": "agent_no_answer", "JOINEMPTY": "agent_unavailable",
          "LEAVEEMPTY": "agent_unavailable", "FULL": "agent_unavailable", "CANCEL": "agent_no_answer"}


@dataclass(frozen=True)
class Report:
    """One report of the callback dialplan (UserEvent CcplaneCallback)."""
    stage: str  # agent_answered | agent_failed | customer_done
    status: str  # DIALSTATUS / QUEUESTATUS
    answered_seconds: int = 0


LOST = "lost"  # outcome of a callback whose call vanished with no report (Asterisk restarted mid-call)
LOST_AFTER = timedelta(seconds=30)  # a callback started this long ago with no channel in Asterisk may be lost


def apply_report(current: str, report: Report, outcome: str | None = None) -> tuple[str, str | None]:
    """(new status, outcome) after a report; a report for a finished callback changes nothing,
    except the customer's final report for a callback the reaper had given up as lost
    (the report was still in the outbox): it tells what really happened.

        >>> apply_report("failed", Report("customer_done", "ANSWER"), outcome="lost")
        ('completed', 'answered')
        >>> apply_report("failed", Report("customer_done", "ANSWER"), outcome="busy")
        ('failed', None)
    """
    if current == "failed" and outcome == LOST and report.stage == "customer_done":
        current = "calling_customer"
    if current in ("completed", "failed", "cancelled"):
        return current, None
    if report.stage == "agent_answered":
        return "calling_customer", None
    if report.stage == "agent_failed":
        if current == "calling_customer":
            return current, None  # the agent leg ends after the customer's report: already told
        return "failed", _AGENT.get(report.status, "agent_no_answer")
    outcome = _CUSTOMER.get(report.status, "failed")
    return ("completed" if outcome == "answered" else "failed"), outcome


# customer outcomes after which an in-queue callback goes back in line (until its retries run out)
RETRIED = ("no_answer", "busy", "failed", LOST)


def retry_at(*, attempts: int, retries: int, delay: int, now: datetime,
             expires: datetime | None) -> datetime | None:
    """When an in-queue callback whose customer did not answer is tried again:
    ``delay`` seconds after the first miss, twice that after the second (back-off),
    and so on, for ``retries`` more attempts; None once they are spent or the
    next try would come after the callback expires.

        >>> from datetime import timezone
        >>> t = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
        >>> retry_at(attempts=2, retries=2, delay=60, now=t, expires=None).isoformat()
        '2026-12-01T12:02:00+00:00'
        >>> retry_at(attempts=3, retries=2, delay=60, now=t, expires=None) is None
        True
    """
    if attempts > retries:
        return None
    at = now + timedelta(seconds=delay * (2 ** (attempts - 1)))
    if expires is not None and at >= expires:
        return None
    return at


def may_be_lost(started_at: datetime | None, now: datetime) -> bool:
    """A callback under way is worth checking against Asterisk once its Originate
    has had time to create the call's first channel."""
    return started_at is None or now - started_at >= LOST_AFTER


def alive(callback_id: int, call_id: str | None, live: set[str]) -> bool:
    """Whether any channel of the callback's call is up: its own channels carry
    ``cb<id>-`` in their ids, the agent's and the customer's channels its call id
    as their linkedid (``live`` holds the uniqueids and linkedids Asterisk lists).

        >>> alive(7, "cb7-ab12-a", {"1733.4", "cb7-ab12-a"})
        True
        >>> alive(7, None, {"cb7-ab12-b"})
        True
        >>> alive(7, "cb7-ab12-a", {"cb71-ffff-a"})
        False
    """
    if call_id is not None and call_id in live:
        return True
    prefix = f"cb{callback_id}-"
    return any(i.startswith(prefix) for i in live)


def delay_seconds(at: datetime, started: datetime) -> float:
    """How late a callback started (0 when early or on time to the millisecond)."""
    return max(0.0, round((started - at).total_seconds(), 3))
