"""Domain events of calls, emitted by the call tracker (``domain.CallTracker``).

Every event names its call (``call_id``: the Asterisk linkedid of the call's
first channel), its domain (slug) and when it happened (``at``, epoch seconds).
Queue names are ccplane's (``queue``) with Asterisk's beside them
(``queue_key``, ``<domain>_<queue>``); agents are usernames with their member
interface. The catalogue, with when each is emitted, is in docs/events.md.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallEvent:
    call_id: str
    domain: str | None
    at: float


@dataclass(frozen=True)
class CallStarted(CallEvent):
    """The call's domain became known (its first channel appeared earlier)."""
    direction: str  # inbound | outbound | internal
    caller: str | None
    caller_name: str | None
    did: str | None


@dataclass(frozen=True)
class CallEnteredIvr(CallEvent):
    tree: str


@dataclass(frozen=True)
class CallQueued(CallEvent):
    queue: str
    queue_key: str
    uniqueid: str  # the caller's channel in the queue
    position: int | None


@dataclass(frozen=True)
class CallLeftQueue(CallEvent):
    queue: str
    queue_key: str
    result: str  # answered | abandon | timeout | full | joinempty | leaveempty | ... | transfer
    wait: float
    uniqueid: str = ""  # the caller's channel that left the queue


@dataclass(frozen=True)
class OfferStarted(CallEvent):
    queue: str
    queue_key: str
    interface: str
    agent: str | None
    member_uniqueid: str
    caller_uniqueid: str | None
    member_channel: str | None = None  # the ringing member leg (what ccplane hangs up to withdraw the offer)


@dataclass(frozen=True)
class OfferFailed(CallEvent):
    queue: str
    queue_key: str
    interface: str
    agent: str | None
    member_uniqueid: str
    caller_uniqueid: str | None
    cause: str  # Outcome value: no_answer | busy | rejected | unavailable | lost


@dataclass(frozen=True)
class LegAnswered(CallEvent):
    kind: str  # agent | extension | external
    uniqueid: str  # the answering side's channel
    channel: str | None
    queue: str | None
    queue_key: str | None
    interface: str | None
    agent: str | None
    caller_uniqueid: str | None
    caller_channel: str | None
    caller_number: str | None
    alert: bool = False  # the caller is one of ccplane's alert calls


@dataclass(frozen=True)
class CallTransferred(CallEvent):
    mode: str  # blind | attended
    by: str | None  # the transferring agent (username) or extension
    to: str | None  # the target (extension/number dialled, or the target channel)
    result: str  # success | fail | no_answer | busy | unavailable | cancelled
    returned_to: str | None = None  # a failed blind transfer gave the caller back to: queue | agent


@dataclass(frozen=True)
class LegEnded(CallEvent):
    kind: str
    uniqueid: str
    queue: str | None
    queue_key: str | None
    interface: str | None
    agent: str | None
    caller_uniqueid: str | None
    answered_at: float | None
    reason: str  # caller | agent | transfer | no_answer | busy | ...


@dataclass(frozen=True)
class CallEnded(CallEvent):
    reason: str
