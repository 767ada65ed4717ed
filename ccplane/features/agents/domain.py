"""Agent availability as pure logic: events in, effects out, no I/O.

An agent is a queue member (``PJSIP/<domain>-<number>``) with *holds*: reasons
to keep it out of offers. Asterisk only knows one pause flag per member, so
ccplane keeps the holds and pauses the member while any hold exists:

- ``manual``          the agent or a supervisor paused (until unpaused)
- ``max-no-answer``   N consecutive offers timed out ringing (until unpaused)
- ``wrapup``          after a queue call, for the wrap-up seconds
- ``delay``           after a rejected / busy / unanswered offer, for the queue's delay

A delay that expires removes only its own hold, so a manual pause set
meanwhile survives it. Wrap-up starts as a hold *while the call is still up*
(a member in a call is not offered anyway), so there is no window at hangup in
which Asterisk could offer the next call before ccplane pauses the member.

The board reads no AMI: it follows the call tracker's domain events
(``features/calls/events.py``: OfferStarted, OfferFailed with its cause,
LegAnswered and LegEnded of agent legs). Offer failures are classified by the
tracker from what Asterisk says about the member's channel; only an offer that
timed out ringing counts toward max-no-answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..calls.domain import Outcome, classify_offer  # noqa: F401 - re-exported: the board's vocabulary
from ..calls.events import CallEvent, LegAnswered, LegEnded, OfferFailed as OfferFailedEvent, OfferStarted


@dataclass(frozen=True)
class QueuePolicy:
    wrapup_time: int = 0
    max_no_answer: int = 0
    call_timeout: int = 0
    reject_delay: int = 0
    busy_delay: int | None = None
    noanswer_delay: int = 0

    def delay_for(self, outcome: Outcome) -> int:
        if outcome is Outcome.REJECTED:
            return self.reject_delay
        if outcome is Outcome.BUSY:
            return self.reject_delay if self.busy_delay is None else self.busy_delay
        if outcome is Outcome.NO_ANSWER:
            return self.noanswer_delay
        return 0


@dataclass
class Hold:
    kind: str
    reason: str
    since: float
    until: float | None = None


@dataclass
class Offer:
    queue: str
    caller_uniqueid: str | None
    started: float


@dataclass
class ActiveCall:
    queue: str
    caller_uniqueid: str | None
    caller_channel: str | None
    caller_number: str | None
    member_uniqueid: str | None
    member_channel: str | None
    answered_at: float
    end_reason: str | None = None


# -- effects -------------------------------------------------------------------
@dataclass(frozen=True)
class SetPaused:
    interface: str
    paused: bool
    reason: str


@dataclass(frozen=True)
class ExpireAt:
    interface: str
    kind: str
    at: float


@dataclass(frozen=True)
class HangupAt:
    interface: str
    caller_uniqueid: str | None
    channel: str
    at: float
    reason: str


@dataclass(frozen=True)
class QueueLog:
    queue: str
    event: str
    interface: str
    message: str
    uniqueid: str = "NONE"


@dataclass(frozen=True)
class StateChanged:
    interface: str


@dataclass(frozen=True)
class OfferFailed:
    interface: str
    queue: str
    outcome: Outcome


@dataclass(frozen=True)
class CallEnded:
    interface: str
    username: str
    queue: str
    caller_uniqueid: str | None
    caller_number: str | None
    answered_at: float
    ended_at: float
    reason: str


Effect = SetPaused | ExpireAt | HangupAt | QueueLog | StateChanged | OfferFailed | CallEnded

# Order in which a hold names the pause Asterisk shows.
_HOLD_ORDER = ("manual", "max-no-answer", "delay", "wrapup")


@dataclass
class Agent:
    username: str
    interface: str
    queues: dict[str, QueuePolicy]
    wrapup_override: int | None = None
    registered: bool = True
    holds: dict[str, Hold] = field(default_factory=dict)
    offers: dict[str, Offer] = field(default_factory=dict)
    calls: dict[str, ActiveCall] = field(default_factory=dict)
    missed_in_a_row: int = 0

    @property
    def paused(self) -> bool:
        return bool(self.holds)

    @property
    def pause_reason(self) -> str:
        for kind in _HOLD_ORDER:
            if kind in self.holds:
                return self.holds[kind].reason
        return ""

    def wrapup_for(self, queue: str) -> int:
        if self.wrapup_override is not None:
            return self.wrapup_override
        return self.queues.get(queue, QueuePolicy()).wrapup_time

    def view(self, now: float) -> dict[str, Any]:
        """What supervisors see: state, reason, since, seconds of wrap-up left."""
        out: dict[str, Any] = {"state": "available", "pause_reason": None, "since": None,
                               "wrapup_left": None, "missed_in_a_row": self.missed_in_a_row}
        if not self.queues:
            out["state"] = "offline"
        elif self.calls:
            out["state"] = "in_call"
        elif self.offers:
            out["state"] = "ringing"
        elif not self.registered:
            out["state"] = "inactive"
        elif "manual" in self.holds or "max-no-answer" in self.holds:
            hold = self.holds.get("manual") or self.holds["max-no-answer"]
            out.update(state="paused", pause_reason=hold.reason, since=hold.since)
        elif "wrapup" in self.holds and self.holds["wrapup"].until is not None:
            hold = self.holds["wrapup"]
            out.update(state="wrapup", since=hold.since, wrapup_left=max(0.0, (hold.until or now) - now))
        elif "delay" in self.holds:
            hold = self.holds["delay"]
            out.update(state="paused", pause_reason=hold.reason, since=hold.since)
        return out


class AgentBoard:
    """Every logged-in agent of one Asterisk, keyed by member interface."""

    def __init__(self) -> None:
        self.agents: dict[str, Agent] = {}

    # -- membership ----------------------------------------------------------------
    def put(self, agent: Agent) -> None:
        old = self.agents.get(agent.interface)
        if old is not None:  # keep live state across a re-login / resync
            agent.offers, agent.calls = old.offers, old.calls
        self.agents[agent.interface] = agent

    def remove(self, interface: str) -> None:
        self.agents.pop(interface, None)

    def set_registered(self, interface: str, registered: bool) -> list[Effect]:
        agent = self.agents.get(interface)
        if agent is None or agent.registered == registered:
            return []
        agent.registered = registered
        return [StateChanged(interface)]

    # -- holds -------------------------------------------------------------------
    def _change_holds(self, agent: Agent, change: Any) -> list[Effect]:
        before = (agent.paused, agent.pause_reason)
        change()
        after = (agent.paused, agent.pause_reason)
        effects: list[Effect] = [StateChanged(agent.interface)]
        if after != before:
            effects.insert(0, SetPaused(agent.interface, agent.paused, agent.pause_reason))
        return effects

    def add_hold(self, interface: str, hold: Hold) -> list[Effect]:
        agent = self.agents.get(interface)
        if agent is None:
            return []
        effects = self._change_holds(agent, lambda: agent.holds.__setitem__(hold.kind, hold))
        if hold.until is not None:
            effects.append(ExpireAt(interface, hold.kind, hold.until))
        return effects

    def remove_hold(self, interface: str, kind: str) -> list[Effect]:
        agent = self.agents.get(interface)
        if agent is None or kind not in agent.holds:
            return []
        return self._change_holds(agent, lambda: agent.holds.pop(kind, None))

    def expire(self, interface: str, kind: str, now: float) -> list[Effect]:
        """A timer fired: drop the hold only if it is the one that was due."""
        agent = self.agents.get(interface)
        hold = agent.holds.get(kind) if agent else None
        if agent is None or hold is None or hold.until is None or hold.until > now + 0.05:
            return []
        effects = self.remove_hold(interface, kind)
        if kind == "wrapup":
            effects += [QueueLog(q, "WRAPUPEND", interface, agent.username) for q in sorted(agent.queues)]
        return effects

    def pause(self, interface: str, reason: str, now: float) -> list[Effect]:
        return self.add_hold(interface, Hold("manual", reason, now))

    def unpause(self, interface: str) -> list[Effect]:
        agent = self.agents.get(interface)
        if agent is None:
            return []
        agent.missed_in_a_row = 0
        return self.remove_hold(interface, "max-no-answer") + self.remove_hold(interface, "manual")

    def in_call(self, interface: str) -> bool:
        agent = self.agents.get(interface)
        return bool(agent and agent.calls)

    # -- events ------------------------------------------------------------------
    def handle(self, event: CallEvent, now: float) -> list[Effect]:
        """One of the call tracker's domain events; the others are not the board's business."""
        handler = _HANDLERS.get(type(event))
        return handler(self, event, now) if handler else []

    def _on_offer(self, e: OfferStarted, now: float) -> list[Effect]:
        agent = self.agents.get(e.interface)
        if agent is None:
            return []
        agent.offers[e.member_uniqueid] = Offer(e.queue_key, e.caller_uniqueid, now)
        return [StateChanged(agent.interface)]

    def _on_offer_failed(self, e: OfferFailedEvent, now: float) -> list[Effect]:
        agent = self.agents.get(e.interface)
        offer = agent.offers.pop(e.member_uniqueid, None) if agent else None
        if agent is None or offer is None:
            return []
        return self._offer_failed(agent, offer, Outcome(e.cause), now)

    def _on_answered(self, e: LegAnswered, now: float) -> list[Effect]:
        agent = self.agents.get(e.interface or "")
        if e.kind != "agent" or agent is None:
            return []
        offer = agent.offers.pop(e.uniqueid, None)
        queue = e.queue_key or (offer.queue if offer else "")
        call = ActiveCall(queue, e.caller_uniqueid, e.caller_channel, e.caller_number, e.uniqueid, e.channel, now)
        agent.calls[e.uniqueid] = call
        agent.missed_in_a_row = 0
        effects: list[Effect] = [StateChanged(agent.interface)]
        if agent.wrapup_for(queue) > 0:
            effects = self.add_hold(agent.interface, Hold("wrapup", "wrapup", now))
        policy = agent.queues.get(queue, QueuePolicy())
        # An alert call (a person in danger on the line) is never cut by the
        # queue's call timeout: that limit is for the queue's ordinary calls.
        if policy.call_timeout > 0 and call.caller_channel and not e.alert:
            effects.append(HangupAt(agent.interface, call.caller_uniqueid, call.caller_channel,
                                    now + policy.call_timeout, "call_timeout"))
        return effects

    def _on_leg_ended(self, e: LegEnded, now: float) -> list[Effect]:
        agent = self.agents.get(e.interface or "")
        if e.kind != "agent" or agent is None:
            return []
        key = e.uniqueid if e.uniqueid in agent.calls else next(
            (k for k, c in agent.calls.items() if e.caller_uniqueid and c.caller_uniqueid == e.caller_uniqueid), None)
        if key is None:
            return []
        return self._end_call(agent, key, e.reason, now)

    def _end_call(self, agent: Agent, key: str, reason: str, now: float) -> list[Effect]:
        call = agent.calls.pop(key)
        effects: list[Effect] = [CallEnded(agent.interface, agent.username, call.queue, call.caller_uniqueid,
                                           call.caller_number, call.answered_at, now,
                                           call.end_reason or reason)]
        # a consultation that did not become a transfer was no attendance: no wrap-up after it
        wrapup = 0 if reason == "consultation" else agent.wrapup_for(call.queue)
        if wrapup > 0:
            effects += self.add_hold(agent.interface, Hold("wrapup", "wrapup", now, now + wrapup))
            effects.append(QueueLog(call.queue, "WRAPUPSTART", agent.interface, f"{agent.username}|{wrapup}",
                                    call.caller_uniqueid or "NONE"))
        elif not agent.calls and "wrapup" in agent.holds and agent.holds["wrapup"].until is None:
            # wrap-up went to 0 during the call: release the hold taken at AgentConnect
            effects += self.remove_hold(agent.interface, "wrapup")
        else:
            effects.append(StateChanged(agent.interface))
        return effects

    def mark_end_reason(self, interface: str, caller_uniqueid: str | None, reason: str) -> None:
        agent = self.agents.get(interface)
        for call in (agent.calls.values() if agent else ()):
            if call.caller_uniqueid == caller_uniqueid:
                call.end_reason = reason

    def _offer_failed(self, agent: Agent, offer: Offer, outcome: Outcome, now: float) -> list[Effect]:
        effects: list[Effect] = [OfferFailed(agent.interface, offer.queue, outcome), StateChanged(agent.interface)]
        policy = agent.queues.get(offer.queue, QueuePolicy())
        if outcome is Outcome.NO_ANSWER:
            agent.missed_in_a_row += 1
            if policy.max_no_answer and agent.missed_in_a_row >= policy.max_no_answer \
                    and "max-no-answer" not in agent.holds:
                # queue_log: Asterisk's own PAUSEALL (reason max-no-answer) for the member pause; no second line
                effects += self.add_hold(agent.interface, Hold("max-no-answer", "max-no-answer", now))
        delay = policy.delay_for(outcome)
        if delay > 0:
            effects += self.add_hold(agent.interface, Hold("delay", outcome.value, now, now + delay))
            effects.append(QueueLog(offer.queue, "REJECTDELAY", agent.interface, f"{outcome.value}|{delay}",
                                    offer.caller_uniqueid or "NONE"))
        return effects


_HANDLERS: dict[type, Any] = {
    OfferStarted: AgentBoard._on_offer,
    OfferFailedEvent: AgentBoard._on_offer_failed,
    LegAnswered: AgentBoard._on_answered,
    LegEnded: AgentBoard._on_leg_ended,
}
