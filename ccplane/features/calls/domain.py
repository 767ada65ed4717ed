"""The call tracker: the one place that maps Asterisk channels to calls.

Pure logic: typed AMI events in (``ccplane.asterisk.events``), domain events
out (``.events``), no I/O, an injected clock (``now``). A call is every
channel sharing the first channel's linkedid, plus what transfers join to it.
Its journey (legs, times, why it ended) is kept on :class:`Call` while it is up
and handed over with :class:`~.events.CallEnded`.

What Asterisk 22 does, as recorded in ``tests/unit/transcripts``:

- a queue call: QueueCallerJoin; per offer AgentCalled (the member's channel is
  ``dest_uniqueid``), DialEnd, AgentRingNoAnswer / AgentDump, the member's
  Hangup; the answer is DialEnd ANSWER, QueueCallerLeave, *then*
  AgentConnect; AgentComplete may come after every Hangup;
- who hung up a conversation: AgentComplete's ``Reason`` (and the order of the
  Hangups) is a race when both sides go at once (app_queue looks at which
  channel's hangup it sees first); the side that asked first gets the first
  HangupRequest / SoftHangupRequest, before it leaves the bridge and before the
  bridge hangs the other side up, so that request decides;
- QueueCallerAbandon is sent both when the caller hangs up and when Queue()
  times out: the dialplan reports the exit (UserEvent ``CcplaneQueueExit``
  with QUEUESTATUS) when Queue() returns, so a call that leaves the queue
  without it and then hangs up is an abandon;
- a blind transfer by the agent: BlindTransfer, the agent's channel leaves, the
  caller is sent to the target (new channels with the same linkedid);
- an attended transfer joins the consultation call (its own linkedid) to the
  caller's call (AttendedTransfer names both).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from ...asterisk.events import (AgentEvent, AmiEvent, AttendedTransfer, BlindTransfer, ChannelEvent,
                                ChannelSnapshot, CoreShowChannel, DestChannelEvent, DialEnd, Hangup,
                                HangupRequest, QueueCallerEvent, UserEvent)
from . import events as ev


class Outcome(str, Enum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"      # rang until the ring timeout
    BUSY = "busy"                # 486 / cause 17
    REJECTED = "rejected"        # 603 Decline / cause 21
    UNAVAILABLE = "unavailable"  # not registered, congestion, unreachable
    LOST = "lost"                # another agent answered, or the caller left


# Q.850 causes Asterisk reports on the member's channel.
_BUSY_CAUSES = {17}
_REJECT_CAUSES = {21}
_UNAVAILABLE_CAUSES = {1, 3, 20, 27, 31, 34, 38, 41, 42, 44, 47, 58, 65, 66, 88, 127}


def classify_offer(*, dial_status: str | None, hangup_cause: int | None, rang_out: bool,
                   dumped: bool = False) -> Outcome:
    """Why an offer to an agent did not become a conversation. ``dumped``: the
    agent answered and hung up before the bridge (AgentDump), a refusal.

    >>> classify_offer(dial_status="NOANSWER", hangup_cause=0, rang_out=True)
    <Outcome.NO_ANSWER: 'no_answer'>
    >>> classify_offer(dial_status="BUSY", hangup_cause=21, rang_out=True)
    <Outcome.REJECTED: 'rejected'>
    >>> classify_offer(dial_status="CANCEL", hangup_cause=26, rang_out=False)
    <Outcome.LOST: 'lost'>
    >>> classify_offer(dial_status="ANSWER", hangup_cause=16, rang_out=False, dumped=True)
    <Outcome.REJECTED: 'rejected'>
    """
    status = (dial_status or "").upper()
    if dumped or hangup_cause in _REJECT_CAUSES:
        return Outcome.REJECTED
    if hangup_cause in _BUSY_CAUSES or status == "BUSY":
        return Outcome.BUSY
    if status in ("CHANUNAVAIL", "CONGESTION") or hangup_cause in _UNAVAILABLE_CAUSES:
        return Outcome.UNAVAILABLE
    if status == "NOANSWER" or (rang_out and status != "CANCEL"):
        return Outcome.NO_ANSWER
    return Outcome.LOST  # cancelled, or answered while the caller was already gone


class Directory(Protocol):
    """What the tracker may look up (in memory, no I/O)."""

    def queue(self, queue_key: str) -> tuple[str, str] | None:
        """(domain, queue) of an Asterisk queue name."""

    def did(self, did: str) -> str | None:
        """The domain a DID is routed for."""

    def agent(self, interface: str) -> str | None:
        """The username logged in on a member interface."""

    def endpoint(self, endpoint: str) -> tuple[str, str] | None:
        """(domain, extension number) of a PJSIP endpoint, or None (a trunk...)."""

    def context(self, context: str) -> str | None:
        """The domain whose extensions place calls from this dialplan context."""


ALERT_UNIQUEID = re.compile(r"^alert(\d+)-")
ALERT_CALLER = "Local/s@ccplane-alert-queue-"  # the caller side of ccplane's alert calls
# ccplane's own outbound calls start in these contexts (an agent or a queue first, then the customer)
OUTBOUND_CONTEXTS = frozenset({"ccplane-callback-agent", "ccplane-campaign-dial"})
_PJSIP = re.compile(r"^PJSIP/(.+)-[0-9a-f]{8}$")


@dataclass
class Leg:
    kind: str  # ivr | queue | offer | agent | transfer | extension | external | callgroup
    started_at: float
    uniqueid: str | None = None
    queue: str | None = None
    queue_key: str | None = None
    agent: str | None = None
    interface: str | None = None
    extension: str | None = None
    number: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    result: str | None = None
    detail: str | None = None
    # working state, not part of the record
    dial_status: str | None = None
    rang_out: bool = False
    dumped: bool = False
    withdrawn: bool = False  # ccplane took the ring back (a higher alert): nobody's miss
    exit_reported: bool = False
    dialled: bool = False  # an agent leg that a Dial made (a transfer to an agent's extension), not a queue
    consult: bool = False  # dialled during an attended transfer's consultation
    position: int | None = None  # a queue leg: the caller's place in line when it joined (1 = first)
    hangup_by: str | None = None  # caller | callee: whose hangup request came first while this leg talked

    def record(self) -> dict[str, object]:
        return {"kind": self.kind, "started_at": self.started_at, "answered_at": self.answered_at,
                "ended_at": self.ended_at, "result": self.result, "queue": self.queue, "agent": self.agent,
                "extension": self.extension, "number": self.number, "uniqueid": self.uniqueid,
                "detail": self.detail}


@dataclass
class Call:
    id: str
    started_at: float
    direction: str = "internal"
    domain: str | None = None
    caller: str | None = None
    caller_name: str | None = None
    did: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    end_reason: str | None = None
    alert_id: int | None = None
    state: str = "ringing"  # ringing | ivr | queued | offering | talking | ended
    legs: list[Leg] = field(default_factory=list)
    channels: set[str] = field(default_factory=set)
    caller_uniqueid: str | None = None
    caller_gone: bool = False  # the caller's channel hung up first
    forced_reason: str | None = None  # set from outside (call_timeout) or by a dialplan report
    merged_into: str | None = None
    source: str = "live"  # live | resync (taken back from the database after a restart)
    held: list[ev.CallEvent] = field(default_factory=list)  # emitted once the domain is known
    version: int = 0  # bumped on every change (the store writes changed calls)
    transfer: "Transfer | None" = None  # a transfer ccplane was asked for, while it is under way

    @property
    def queue(self) -> str | None:
        legs = [leg for leg in self.legs if leg.kind == "queue"]
        return legs[-1].queue if legs else None

    @property
    def agent(self) -> str | None:
        legs = [leg for leg in self.legs if leg.kind == "agent"]
        return legs[-1].agent if legs else None

    def open_leg(self, kind: str, uniqueid: str | None = None) -> Leg | None:
        for leg in reversed(self.legs):
            if leg.kind == kind and leg.ended_at is None and (uniqueid is None or leg.uniqueid == uniqueid):
                return leg
        return None

    def leg_of(self, uniqueid: str, *kinds: str) -> Leg | None:
        for leg in reversed(self.legs):
            if leg.uniqueid == uniqueid and (not kinds or leg.kind in kinds):
                return leg
        return None


@dataclass
class Transfer:
    """A transfer requested through the API (the tracker follows phones' own
    transfers without one): who asked, to what, and where a failed blind
    transfer gives the caller back."""
    mode: str  # blind | attended
    by: str | None  # the transferring agent
    to: str
    back: str = "queue"  # queue | agent
    state: str = "requested"  # requested | consulting | done | cancelling


@dataclass
class _Chan:
    uniqueid: str
    name: str
    call_id: str
    up: bool = False


def _t(value: str | None) -> str | None:
    return None if value in (None, "", "<unknown>") else value


class CallTracker:
    """Every call of one Asterisk. ``handle(event, now)`` returns domain events."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.calls: dict[str, Call] = {}
        self._chans: dict[str, _Chan] = {}
        self._gone: set[str] = set()  # answering channels that hung up while their leg is open
        self.touched: list[Call] = []  # calls changed since the owner last looked (it clears this)
        self._handlers: dict[str, Callable[[AmiEvent, float], list[ev.CallEvent]]] = {
            "Newchannel": self._on_newchannel, "Hangup": self._on_hangup,
            "DialBegin": self._on_dial_begin, "DialEnd": self._on_dial_end,
            "QueueCallerJoin": self._on_queue_join, "QueueCallerLeave": self._on_queue_leave,
            "QueueCallerAbandon": self._on_queue_abandon,
            "AgentCalled": self._on_agent_called, "AgentRingNoAnswer": self._on_ring_no_answer,
            "AgentDump": self._on_dump, "AgentConnect": self._on_connect, "AgentComplete": self._on_complete,
            "BlindTransfer": self._on_blind_transfer, "AttendedTransfer": self._on_attended_transfer,
            "UserEvent": self._on_user_event, "NewCallerid": self._on_new_callerid,
            "HangupRequest": self._on_hangup_request, "SoftHangupRequest": self._on_hangup_request,
        }

    EVENTS = ("Newchannel", "Hangup", "DialBegin", "DialEnd", "QueueCallerJoin", "QueueCallerLeave",
              "QueueCallerAbandon", "AgentCalled", "AgentRingNoAnswer", "AgentDump", "AgentConnect",
              "AgentComplete", "BlindTransfer", "AttendedTransfer", "UserEvent", "NewCallerid",
              "HangupRequest", "SoftHangupRequest")

    # -- queries -------------------------------------------------------------------
    def call_of(self, uniqueid: str | None) -> Call | None:
        chan = self._chans.get(uniqueid or "")
        return self.calls.get(chan.call_id) if chan else None

    def channel_name(self, uniqueid: str | None) -> str | None:
        chan = self._chans.get(uniqueid or "")
        return chan.name if chan else None

    def caller_uniqueid(self, call: Call) -> str | None:
        """The caller's channel as bridged to the agent (the one in the queue)."""
        return _queue_caller(call)

    def active(self, domain: str) -> list[Call]:
        return [c for c in self.calls.values() if c.domain == domain and c.ended_at is None]

    # -- input ---------------------------------------------------------------------
    def handle(self, event: AmiEvent, now: float) -> list[ev.CallEvent]:
        handler = self._handlers.get(event.name)
        return handler(event, now) if handler else []

    def withdraw_offer(self, member_uniqueid: str) -> None:
        """ccplane is hanging up this ringing leg (alert preemption): it ends as
        LOST for the agent (no miss, no delay) and ``withdrawn`` in the journey."""
        call = self.call_of(member_uniqueid)
        offer = call.leg_of(member_uniqueid, "offer") if call else None
        if offer is not None and offer.ended_at is None:
            offer.withdrawn = True

    def force_reason(self, uniqueid: str | None, reason: str) -> None:
        """Why the call will end, known before Asterisk says so (ccplane hangs it up
        for its call timeout)."""
        call = self.call_of(uniqueid)
        if call is not None:
            call.forced_reason = reason

    # -- the domain of a call ------------------------------------------------------
    def _set_domain(self, call: Call, domain: str | None) -> list[ev.CallEvent]:
        if domain is None or call.domain is not None:
            return []
        call.domain = domain
        started: list[ev.CallEvent] = [ev.CallStarted(call.id, domain, call.started_at, call.direction,
                                                      call.caller, call.caller_name, call.did)]
        held, call.held = call.held, []
        return started + [_with_domain(e, domain) for e in held]

    def _touch(self, call: Call) -> None:
        call.version += 1
        if not self.touched or self.touched[-1] is not call:
            self.touched.append(call)

    def _emit(self, call: Call, *events: ev.CallEvent) -> list[ev.CallEvent]:
        self._touch(call)
        if call.domain is None:
            call.held.extend(events)
            return []
        return list(events)

    # -- channels ------------------------------------------------------------------
    def _on_newchannel(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, ChannelEvent)
        uid, name = e.uniqueid, e.channel
        if not uid or not name or uid in self._chans:
            return []
        linked = e.linkedid or uid
        call = self.calls.get(self._chans[linked].call_id) if linked in self._chans else None
        if call is None and linked != uid:
            call = self.calls.get(linked)
        out: list[ev.CallEvent] = []
        if call is None:
            call = Call(id=linked, started_at=now, caller=_t(e.caller_id_num), caller_name=_t(e.caller_id_name),
                        caller_uniqueid=uid)
            self.calls[call.id] = call
            alert = ALERT_UNIQUEID.match(uid)
            if alert:
                call.alert_id, call.direction = int(alert.group(1)), "outbound"
            domain = None
            if e.context == "ccplane-inbound":
                call.direction, call.did = "inbound", _t(e.exten)
                domain = self.directory.did(call.did) if call.did else None
            elif e.context in OUTBOUND_CONTEXTS:  # a callback or a campaign call
                call.direction = "outbound"
            elif e.context:
                domain = self.directory.context(e.context)
            self._chans[uid] = _Chan(uid, name, call.id)
            call.channels.add(uid)
            out += self._set_domain(call, domain)
            return out
        self._chans[uid] = _Chan(uid, name, call.id)
        call.channels.add(uid)
        if call.caller is None and not call.legs:  # a Local channel's ;2 carries the caller id
            call.caller, call.caller_name = _t(e.caller_id_num), _t(e.caller_id_name)
        if call.domain is None and e.context and e.context not in OUTBOUND_CONTEXTS \
                and e.context != "ccplane-inbound":
            # a callback or campaign call that never reached a queue (the number did not
            # answer): the domain's outbound route it dialled through names the domain
            out += self._set_domain(call, self.directory.context(e.context))
        return out

    def _on_new_callerid(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, ChannelEvent)
        call = self.call_of(e.uniqueid)
        if call is not None and call.caller is None and not call.legs:
            call.caller, call.caller_name = _t(e.caller_id_num), _t(e.caller_id_name)
            self._touch(call)
        return []

    def _on_hangup_request(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        """The first hangup request of either side of a conversation says who ended it."""
        assert isinstance(e, HangupRequest)
        uid = e.uniqueid or ""
        call = self.call_of(uid)
        if call is None:
            return []
        caller = uid in (call.caller_uniqueid, _queue_caller(call))
        for leg in reversed(call.legs):
            if leg.kind in ("agent", "extension", "external") and leg.answered_at is not None \
                    and leg.ended_at is None and leg.result is None and leg.hangup_by is None \
                    and (caller or leg.uniqueid == uid):
                leg.hangup_by = "caller" if caller else "callee"
        return []

    def _on_hangup(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, Hangup)
        uid = e.uniqueid or ""
        chan = self._chans.pop(uid, None)
        if chan is None:
            return []
        call = self.calls.get(chan.call_id)
        if call is None:
            return []
        call.channels.discard(uid)
        out: list[ev.CallEvent] = []
        if uid in (call.caller_uniqueid, _queue_caller(call)) and not call.caller_gone:
            # the caller hung up first unless the answering side already went
            talking = [leg for leg in call.legs if leg.kind in ("agent", "extension", "external")
                       and leg.answered_at and leg.result not in _HANDED_OVER]
            asked = [leg.hangup_by for leg in talking if leg.hangup_by]
            call.caller_gone = asked[-1] == "caller" if asked else not any(
                leg.uniqueid in self._gone or leg.ended_at for leg in talking)
        offer = call.leg_of(uid, "offer")
        if offer is not None and offer.ended_at is None:
            outcome = Outcome.LOST if offer.withdrawn else classify_offer(
                dial_status=offer.dial_status, hangup_cause=e.cause, rang_out=offer.rang_out, dumped=offer.dumped)
            out += self._fail_offer(call, offer, outcome, now)
            if offer.withdrawn:
                offer.result = "withdrawn"
        if call.transfer is not None and call.transfer.mode == "attended" and any(
                leg.consult and leg.uniqueid == uid for leg in call.legs):
            out += self._consultation_over(call, e.cause, now)
        agent_leg = call.leg_of(uid, "agent")
        if agent_leg is not None:
            self._gone.add(uid)  # AgentComplete (who hung up) may still follow
        for leg in call.legs:
            dialled = leg.kind in ("extension", "external") or (leg.kind == "agent" and leg.dialled)
            if dialled and leg.uniqueid == uid:
                self._gone.add(uid)
            if dialled and leg.uniqueid == uid and leg.ended_at is None:
                leg.ended_at = now
                if leg.kind == "agent" and leg.answered_at:
                    leg.result = leg.result or _who_hung_up(leg, call.caller_gone)
                else:
                    leg.result = leg.result or ("answered" if leg.answered_at
                                                else _dial_result(leg.dial_status, e.cause))
                out += self._emit(call, _leg_ended(call, leg, now, leg.result))
        queue = call.open_leg("queue")
        if queue is not None and queue.uniqueid == uid:
            out += self._close_queue(call, queue, "abandon", now)
        for leg in call.legs:
            if leg.kind == "queue" and leg.uniqueid == uid and leg.result == "abandon?":
                out += self._close_queue(call, leg, "abandon", leg.ended_at or now)  # no exit report: abandoned
        if not call.channels:
            out += self._end_call(call, now)
        return out

    def _end_call(self, call: Call, now: float) -> list[ev.CallEvent]:
        out: list[ev.CallEvent] = []
        for leg in call.legs:
            if leg.ended_at is None:
                leg.ended_at = now
                if leg.kind == "agent":
                    leg.result = leg.result or _who_hung_up(leg, call.caller_gone)
                    out += self._emit(call, _leg_ended(call, leg, now, leg.result))
                elif leg.kind == "offer":
                    leg.result = leg.result or Outcome.LOST.value
                elif leg.kind == "ivr":
                    leg.result = leg.result or "hangup"
                else:
                    leg.result = leg.result or ("answered" if leg.answered_at else "hangup")
            if leg.result == "abandon?":
                leg.result = "abandon"
            self._gone.discard(leg.uniqueid or "")
        call.ended_at = now
        call.state = "ended"
        call.end_reason = _end_reason(call)
        self.calls.pop(call.id, None)
        for uid in list(call.channels):
            self._chans.pop(uid, None)
        return out + self._emit(call, ev.CallEnded(call.id, call.domain, now, call.end_reason))

    # -- dials (extensions, trunks) ------------------------------------------------
    def _on_dial_begin(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, DestChannelEvent)
        dest_uid, dest = e.dest_uniqueid or "", e.dest_channel or ""
        call = self.call_of(dest_uid) or self.call_of(e.uniqueid)
        if call is None or not dest_uid or call.leg_of(dest_uid, "offer", "agent"):
            return []  # queue offers are legs of their own (AgentCalled came first)
        match = _PJSIP.match(dest)
        if match is None or not e.channel:
            return []  # Local channels are plumbing; an Originate has no caller side
        endpoint = self.directory.endpoint(match.group(1))
        if endpoint is not None:
            interface = f"PJSIP/{match.group(1)}"
            # an agent's extension dialled for a call an agent handed over (a transfer, or the caller
            # coming back to the transferring agent) is that agent's attendance; any other dial is not
            handed = any(leg.kind in ("agent", "transfer") for leg in call.legs)
            agent = self.directory.agent(interface) if handed else None
            if agent is not None:  # a transfer to an agent's extension: that agent's attendance
                queue = next((q for q in reversed(call.legs) if q.kind == "queue"), None)
                leg = Leg("agent", now, uniqueid=dest_uid, extension=endpoint[1], agent=agent, interface=interface,
                          queue=queue.queue if queue else None, queue_key=queue.queue_key if queue else None,
                          dialled=True)
            else:
                leg = Leg("extension", now, uniqueid=dest_uid, extension=endpoint[1])
            leg.consult = call.transfer is not None and call.transfer.state == "consulting"
            out = self._set_domain(call, endpoint[0])
        else:
            leg = Leg("external", now, uniqueid=dest_uid, number=_t(e.dest_exten) or _t(e.dest_caller_id_num))
            out = []
            if call.direction == "internal" and call.legs == [] and call.did is None:
                call.direction = "outbound"
        call.legs.append(leg)
        self._touch(call)
        return out

    def _on_dial_end(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, DialEnd)
        call = self.call_of(e.dest_uniqueid)
        if call is None:
            return []
        leg = call.leg_of(e.dest_uniqueid or "", "offer", "extension", "external", "agent")
        if leg is None or leg.dial_status is not None or (leg.kind == "agent" and not leg.dialled):
            return []
        leg.dial_status = e.dial_status
        if leg.kind != "offer" and (e.dial_status or "").upper() == "ANSWER" and leg.answered_at is None:
            leg.answered_at = now
            group = call.open_leg("callgroup")
            if group is not None and leg.kind == "extension":  # the group's work ends at the answer
                group.answered_at = group.ended_at = now
                group.result, group.extension = "answered", leg.extension
            if call.answered_at is None:
                call.answered_at = now
            call.state = "talking"
            if call.transfer is not None and call.transfer.mode == "blind" and not leg.consult:
                call.transfer = None  # the target answered: the blind transfer is over
            return self._emit(call, ev.LegAnswered(call.id, call.domain, now, leg.kind, leg.uniqueid or "",
                                                   e.dest_channel, leg.queue, leg.queue_key, leg.interface,
                                                   leg.agent, e.uniqueid, e.channel, call.caller,
                                                   call.alert_id is not None))
        return []

    # -- queues ----------------------------------------------------------------------
    def _queue_names(self, key: str | None) -> tuple[str | None, str]:
        names = self.directory.queue(key or "")
        return (names[0], names[1]) if names else (None, key or "")

    def _on_queue_join(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, QueueCallerEvent)
        call = self.call_of(e.uniqueid)
        if call is None:
            return []
        domain, queue = self._queue_names(e.queue)
        out = self._set_domain(call, domain)
        ivr = call.open_leg("ivr")
        if ivr is not None:
            ivr.ended_at, ivr.result = now, ivr.result or "queue"
        call.caller = call.caller or _t(e.caller_id_num)
        call.caller_name = call.caller_name or _t(e.caller_id_name)
        consulting = call.transfer is not None and call.transfer.state == "consulting"
        call.legs.append(Leg("queue", now, uniqueid=e.uniqueid, queue=queue, queue_key=e.queue, consult=consulting,
                             position=e.position))
        if not consulting:  # an attended transfer to a queue: the caller is on hold with the agent, not queued
            call.state = "queued"
        return out + self._emit(call, ev.CallQueued(call.id, call.domain, now, queue, e.queue or "",
                                                    e.uniqueid or "", e.position))

    def _on_queue_abandon(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, QueueCallerEvent)
        call = self.call_of(e.uniqueid)
        leg = call.open_leg("queue", e.uniqueid) if call else None
        if leg is not None:
            leg.result = "abandon?"  # or a timeout: CcplaneQueueExit or the Hangup tells
        return []

    def _on_queue_leave(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, QueueCallerEvent)
        call = self.call_of(e.uniqueid)
        leg = call.open_leg("queue", e.uniqueid) if call else None
        if call is None or leg is None:
            return []
        answered = any(o.kind == "offer" and (o.dial_status or "").upper() == "ANSWER" and o.ended_at is None
                       for o in call.legs)
        return self._close_queue(call, leg, "answered" if answered else (leg.result or "left"), now)

    def _close_queue(self, call: Call, leg: Leg, result: str, now: float) -> list[ev.CallEvent]:
        leg.ended_at, leg.result = now, result
        if result == "abandon?":
            return []  # told at the exit report (timeout...) or the caller's Hangup (abandon)
        return self._emit(call, ev.CallLeftQueue(call.id, call.domain, now, leg.queue or "", leg.queue_key or "",
                                                 result, now - leg.started_at, leg.uniqueid or ""))

    def _queue_exit(self, call: Call, queue_key: str, status: str, overflow: str | None,
                    now: float) -> list[ev.CallEvent]:
        for leg in reversed(call.legs):
            if leg.kind == "queue" and (leg.queue_key == queue_key or not queue_key):
                leg.exit_reported = True
                if overflow:
                    leg.detail = overflow
                return self._close_queue(call, leg, status.lower() or "timeout", leg.ended_at or now)
        return []

    def _offer_key(self, e: AgentEvent) -> tuple[Call | None, Leg | None]:
        call = self.call_of(e.dest_uniqueid) or self.call_of(e.uniqueid)
        leg = call.leg_of(e.dest_uniqueid or "", "offer") if call and e.dest_uniqueid else None
        return call, leg

    def _on_agent_called(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, AgentEvent)
        call = self.call_of(e.uniqueid) or self.call_of(e.dest_uniqueid)
        member = e.dest_uniqueid
        if not member or not e.interface:
            return []
        if call is None:
            if not e.uniqueid:
                return []
            call = self._adopt_caller(e, now)  # a caller we never saw start (taken mid-way): follow it from here
        domain, queue = self._queue_names(e.queue)
        out = self._set_domain(call, domain)
        if member not in self._chans:  # the member channel may come from elsewhere
            self._chans[member] = _Chan(member, e.dest_channel or "", call.id)
            call.channels.add(member)
        agent = self.directory.agent(e.interface)
        call.legs.append(Leg("offer", now, uniqueid=member, queue=queue, queue_key=e.queue, agent=agent,
                             interface=e.interface))
        call.state = "offering"
        return out + self._emit(call, ev.OfferStarted(call.id, call.domain, now, queue, e.queue or "",
                                                      e.interface, agent, member, e.uniqueid,
                                                      e.dest_channel or self.channel_name(member)))

    def _adopt_caller(self, e: ChannelEvent, now: float) -> Call:
        uid = e.uniqueid or ""
        call = Call(id=e.linkedid or uid, started_at=now, caller=_t(e.caller_id_num),
                    caller_name=_t(e.caller_id_name), caller_uniqueid=uid)
        if (e.channel or "").startswith(ALERT_CALLER):
            call.direction = "outbound"
        self.calls[call.id] = call
        self._chans[uid] = _Chan(uid, e.channel or "", call.id)
        call.channels.add(uid)
        return call

    def _on_ring_no_answer(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, AgentEvent)
        _, leg = self._offer_key(e)
        if leg is not None:
            leg.rang_out = True
        return []

    def _on_dump(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, AgentEvent)
        _, leg = self._offer_key(e)
        if leg is not None:
            leg.dumped = True
        return []

    def _fail_offer(self, call: Call, offer: Leg, outcome: Outcome, now: float) -> list[ev.CallEvent]:
        offer.ended_at, offer.result = now, outcome.value
        if call.state == "offering" and not any(o.kind == "offer" and o.ended_at is None for o in call.legs):
            call.state = "queued"
        return self._emit(call, ev.OfferFailed(call.id, call.domain, now, offer.queue or "", offer.queue_key or "",
                                               offer.interface or "", offer.agent, offer.uniqueid or "",
                                               _queue_caller(call), outcome.value))

    def _on_connect(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, AgentEvent)
        call, offer = self._offer_key(e)
        member = e.dest_uniqueid
        if call is None or not member:
            return []
        if offer is not None:
            offer.ended_at, offer.result, offer.answered_at = now, Outcome.ANSWERED.value, now
        started = offer.started_at if offer else now
        domain, queue = self._queue_names(e.queue)
        agent = self.directory.agent(e.interface or "") or (offer.agent if offer else None)
        leg = Leg("agent", started, uniqueid=member, queue=queue, queue_key=e.queue, agent=agent,
                  interface=e.interface, answered_at=now,
                  consult=call.transfer is not None and call.transfer.state == "consulting")
        call.legs.append(leg)
        queue_leg = call.open_leg("queue")
        out: list[ev.CallEvent] = []
        if queue_leg is not None:
            out += self._close_queue(call, queue_leg, "answered", now)
        if call.answered_at is None:
            call.answered_at = now
        call.state = "talking"
        return out + self._emit(call, ev.LegAnswered(call.id, call.domain, now, "agent", member, e.dest_channel,
                                                     queue, e.queue, e.interface, agent, e.uniqueid, e.channel,
                                                     _t(e.caller_id_num) or call.caller,
                                                     call.alert_id is not None or (e.channel or "").startswith(ALERT_CALLER)))

    def _on_complete(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, AgentEvent)
        call = self.call_of(e.dest_uniqueid) or self.call_of(e.uniqueid)
        leg = None
        if call is not None and e.dest_uniqueid:
            leg = call.leg_of(e.dest_uniqueid, "agent")
        if leg is None:  # AgentComplete may carry neither uniqueid: find the open leg by interface
            for c in ([call] if call else list(self.calls.values())):
                for candidate in reversed(c.legs):
                    if candidate.kind == "agent" and candidate.interface == e.interface and \
                            candidate.result is None:
                        call, leg = c, candidate
                        break
                if leg is not None:
                    break
        if call is None or leg is None or leg.result is not None:
            return []
        reason = (getattr(e, "reason", None) or "unknown").lower()
        if reason in ("caller", "agent") and leg.hangup_by:
            reason = _who_hung_up(leg, reason == "caller")  # Asterisk's own answer is a race
        if leg.consult and call.transfer is not None and call.transfer.mode == "attended":
            reason = "consultation"  # a queue's agent consulted by an attended transfer that did not happen
        leg.result = reason
        if leg.ended_at is None:
            leg.ended_at = now
        return self._emit(call, _leg_ended(call, leg, leg.ended_at, reason))

    # -- transfers -------------------------------------------------------------------
    def _on_blind_transfer(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, BlindTransfer)
        transferer = e.transferer.uniqueid if e.transferer else None
        call = self.call_of(transferer) or self.call_of(e.transferee.uniqueid if e.transferee else None)
        if call is None:
            return []
        by = self._party(call, transferer)
        asked = call.transfer if call.transfer is not None and call.transfer.mode == "blind" else None
        to = asked.to if asked else e.extension
        result = (e.result or "").lower() or "success"
        out: list[ev.CallEvent] = []
        if result == "success":
            out += self._end_agent_leg(call, transferer, "transfer", now)
            call.legs.append(Leg("transfer", now, uniqueid=transferer, agent=by, number=to,
                                 result="blind", detail=f"{e.extension}@{e.context}" if e.extension else None))
            if asked is not None:
                asked.state = "ringing"  # until the target answers, or the dialplan reports it failed
        elif asked is not None:
            call.transfer = None
        return out + self._emit(call, ev.CallTransferred(call.id, call.domain, now, "blind", by, to, result))

    def _transfer_failed(self, call: Call, headers: Mapping[str, str], now: float) -> list[ev.CallEvent]:
        """Our transfer context reports the target did not answer (busy, unavailable...):
        the caller is on the way back, to the queue or to the agent who transferred."""
        status = headers.get("Status", "")
        result = _dial_result(status, None) if status else "no_answer"
        back = headers.get("Back") or "queue"
        asked, call.transfer = call.transfer, None
        leg = next((t for t in reversed(call.legs) if t.kind == "transfer"), None)
        if leg is not None:  # result stays a short word in call_legs.result: the target's answer goes in detail
            leg.result = f"returned_to_{back}"
            leg.detail = f"{result}|{leg.detail or ''}"
            leg.ended_at = now
        self._touch(call)
        return self._emit(call, ev.CallTransferred(call.id, call.domain, now, "blind", asked.by if asked else
                                                   (leg.agent if leg else None), headers.get("Target") or
                                                   (asked.to if asked else None), result, back))

    def _on_attended_transfer(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, AttendedTransfer)
        first = self.call_of(_uid(e.orig_transferer)) or self.call_of(_uid(e.transferee))
        second = self.call_of(_uid(e.second_transferer)) or self.call_of(_uid(e.transfer_target))
        if first is None:
            return []
        by = self._party(first, _uid(e.orig_transferer))
        result = (e.result or "").lower() or "success"
        target = e.transfer_target.caller_id_num if e.transfer_target else None
        if first.transfer is not None and first.transfer.mode == "attended":
            target = first.transfer.to
            first.transfer = None
        for leg in first.legs:
            if leg.kind != "queue":  # a consultation's queue wait stays the consultation's (_queue_caller)
                leg.consult = False  # the consultation's target now carries the call
        out: list[ev.CallEvent] = []
        if result == "success":
            ended = self._end_agent_leg(first, _uid(e.orig_transferer), "transfer", now)
            if not ended:  # the transferer's hangup (which completed the transfer) was seen first
                _relabel_transferer(first, _uid(e.orig_transferer), now)
            out += ended
            leg = Leg("transfer", now, uniqueid=_uid(e.transfer_target), agent=by, number=_t(target),
                      result="attended")
            first.legs.append(leg)
            if second is not None and second is not first:
                out += self._merge(second, first, now)
        return out + self._emit(first, ev.CallTransferred(first.id, first.domain, now, "attended", by,
                                                          _t(target), result))

    def _consultation_over(self, call: Call, cause: int | None, now: float) -> list[ev.CallEvent]:
        """A channel of an attended transfer's consultation hung up before the transfer:
        cancelled by the agent, or the target declined or never answered (Asterisk
        gives the agent the caller back). Every leg of the consultation ends now."""
        asked, call.transfer = call.transfer, None
        assert asked is not None
        out: list[ev.CallEvent] = []
        answered, unanswered = False, None
        for leg in call.legs:
            if not leg.consult or leg.kind == "queue" or leg.ended_at is not None:
                continue  # a consultation's queue wait is closed by its own hangup
            leg.ended_at = now
            if leg.answered_at:
                answered, leg.result = True, "consultation"
            else:
                leg.result = unanswered = _dial_result(leg.dial_status, cause)
            out += self._emit(call, _leg_ended(call, leg, now, leg.result))
        ended_as = "cancelled" if asked.state == "cancelling" else "declined" if answered else (unanswered or "no_answer")
        return out + self._emit(call, ev.CallTransferred(call.id, call.domain, now, "attended", asked.by, asked.to,
                                                         ended_as))

    def _merge(self, consult: Call, into: Call, now: float) -> list[ev.CallEvent]:
        """The consultation call's channels now carry the transferred call."""
        for uid in consult.channels:
            chan = self._chans.get(uid)
            if chan is not None:
                chan.call_id = into.id
            into.channels.add(uid)
        for leg in consult.legs:
            if leg.ended_at is None and leg.kind in ("extension", "external"):
                into.legs.append(leg)  # the target keeps talking, now to the caller
        consult.channels = set()
        consult.merged_into = into.id
        consult.forced_reason = "transfer"
        for leg in consult.legs:
            if leg.ended_at is None:
                leg.ended_at, leg.result = now, "transfer"
        return self._end_call(consult, now)

    def _end_agent_leg(self, call: Call, uid: str | None, reason: str, now: float) -> list[ev.CallEvent]:
        for leg in reversed(call.legs):
            if leg.kind == "agent" and leg.ended_at is None and (uid is None or leg.uniqueid == uid):
                leg.ended_at, leg.result = now, reason
                return self._emit(call, _leg_ended(call, leg, now, reason))
        for leg in reversed(call.legs):  # a phone's transfer key: the agent leg is the phone's own channel
            if leg.kind == "agent" and leg.ended_at is None:
                leg.ended_at, leg.result = now, reason
                return self._emit(call, _leg_ended(call, leg, now, reason))
        return []

    def _party(self, call: Call, uid: str | None) -> str | None:
        for leg in reversed(call.legs):
            if leg.kind == "agent" and uid and leg.uniqueid == uid:
                return leg.agent
        for leg in reversed(call.legs):
            if leg.kind == "agent" and leg.ended_at is None and not leg.consult:
                return leg.agent
        for leg in reversed(call.legs):
            if leg.uniqueid == uid and leg.extension:
                return leg.extension
        return None

    # -- reports of our dialplan (UserEvents) ------------------------------------------
    def _on_user_event(self, e: AmiEvent, now: float) -> list[ev.CallEvent]:
        assert isinstance(e, UserEvent)
        kind = e.user_event
        call = self.call_of(e.uniqueid)
        if call is None:
            return []
        headers = e.headers
        if kind == "CcplaneIvr":
            out = self._set_domain(call, headers.get("Domain"))
            leg = call.open_leg("ivr")
            step = f"{headers.get('Node', '')}:{headers.get('Step', '')}"
            if headers.get("Digits"):
                step += f":{headers['Digits']}"
            if leg is None or leg.detail != headers.get("Tree"):
                if leg is not None:
                    leg.ended_at, leg.result = now, leg.result or "ivr"
                call.legs.append(Leg("ivr", now, uniqueid=e.uniqueid, detail=headers.get("Tree"), result=step))
                call.state = "ivr"
                return out + self._emit(call, ev.CallEnteredIvr(call.id, call.domain, now, headers.get("Tree", "")))
            leg.result = step
            self._touch(call)
            return out
        if kind == "CcplaneBlacklisted":
            out = self._set_domain(call, headers.get("Domain"))
            call.forced_reason = "blacklist"
            call.caller = call.caller or headers.get("Caller") or None
            self._touch(call)
            return out
        if kind == "CcplaneTransferFailed":
            return self._transfer_failed(call, headers, now)
        if kind == "CcplaneQueueExit":
            return self._queue_exit(call, headers.get("Queue", ""), headers.get("Status", ""),
                                    headers.get("Overflow") or None, now)
        if kind == "CcplaneCallGroup":
            out = self._set_domain(call, headers.get("Domain"))
            call.legs.append(Leg("callgroup", now, uniqueid=e.uniqueid, detail=headers.get("Group")))
            self._touch(call)
            return out
        if kind == "CcplaneCallGroupExit":
            leg = call.open_leg("callgroup")
            if leg is not None:  # nobody answered: the group's no-answer destination follows
                leg.ended_at, leg.result = now, _dial_result(headers.get("Status"), None)
                self._touch(call)
        return []

    # -- resync ------------------------------------------------------------------------
    def channel_names(self, call: Call) -> list[str]:
        return [c.name for c in self._chans.values() if c.call_id == call.id and c.name]

    def end_unseen(self, call: Call, now: float, record: dict[str, str] | None = None) -> list[ev.CallEvent]:
        """The call's channels are gone and Asterisk said nothing we heard (ccplane
        or its AMI link was down): end it at the time its hangup handler recorded
        (``record``, a CcplaneJourney outbox entry) or now, saying so."""
        for uid in list(call.channels):
            self._chans.pop(uid, None)
        call.channels.clear()
        at = now
        if record is not None and str(record.get("At", "")).isdigit():
            at = max(float(record["At"]), call.started_at)
        for leg in call.legs:
            if leg.ended_at is None:
                leg.result = leg.result or "unknown"
        call.forced_reason = call.forced_reason or _record_reason(call, record) or "ended_unseen"
        self.calls.setdefault(call.id, call)
        return self._end_call(call, at)

    def from_record(self, call_id: str, record: dict[str, str]) -> Call | None:
        """A call that began and ended while ccplane was away, from its outbox record."""
        domain = record.get("Domain") or None
        start = record.get("Start", "")
        if domain is None or not start.isdigit():
            return None
        call = Call(id=call_id, started_at=float(start), direction=record.get("Direction") or "internal",
                    caller=record.get("Caller") or None, did=record.get("Did") or None, source="outbox")
        at = float(record["At"]) if record.get("At", "").isdigit() else float(start)
        queue_key = record.get("Queue") or None
        if queue_key:
            names = self.directory.queue(queue_key)
            status = (record.get("QueueStatus") or "").lower()
            member = record.get("Member") or None
            call.legs.append(Leg("queue", float(start), queue=names[1] if names else queue_key, queue_key=queue_key,
                                 ended_at=at, result=status or ("answered" if member else "abandon"),
                                 exit_reported=bool(status)))
            if member:
                call.legs.append(Leg("agent", float(start), interface=member, agent=self.directory.agent(member),
                                     queue=names[1] if names else queue_key, queue_key=queue_key,
                                     ended_at=at, result="unknown"))
        self.calls[call.id] = call
        out = self._set_domain(call, domain)
        self.touched.append(call)
        del out  # its CallStarted is not news any more: the store and the feed see its end
        return call

    def adopt_live(self, call_id: str, channels: list[CoreShowChannel], now: float) -> list[ev.CallEvent]:
        """A call that began while ccplane was away and is still up (CoreShowChannels
        at the resync): follow it from here with what Asterisk tells of it — its
        start, caller and domain, its wait in a queue, an agent's leg in talk."""
        first = next((c for c in channels if c.uniqueid == call_id), channels[0])
        call = Call(id=call_id, started_at=now - _seconds(first.duration), caller=_t(first.caller_id_num),
                    caller_name=_t(first.caller_id_name), caller_uniqueid=first.uniqueid, source="resync")
        self.calls[call_id] = call
        domain: str | None = None
        for ch in channels:
            uid = ch.uniqueid or ""
            self._chans[uid] = _Chan(uid, ch.channel or "", call_id, up=True)
            call.channels.add(uid)
            if ch.context == "ccplane-inbound" and ch.exten:
                call.direction, call.did = "inbound", ch.exten
                domain = domain or self.directory.did(ch.exten)
            elif ch.context:
                domain = domain or self.directory.context(ch.context)
            app = (ch.application or "").lower()
            if app == "queue" and ch.application_data:
                key = ch.application_data.split(",")[0]
                names = self.directory.queue(key)
                domain = domain or (names[0] if names else None)
                call.legs.append(Leg("queue", now - _seconds(ch.duration), uniqueid=uid,
                                     queue=names[1] if names else key, queue_key=key))
                call.state = "queued"
            elif app == "appqueue":  # a queue member's channel: an agent in talk (who is told at AgentComplete)
                call.legs.append(Leg("agent", now - _seconds(ch.duration), uniqueid=uid,
                                     answered_at=now - _seconds(ch.duration)))
                call.answered_at = call.answered_at or now - _seconds(ch.duration)
                call.state = "talking"
        if ALERT_UNIQUEID.match(call_id):
            call.alert_id, call.direction = int(ALERT_UNIQUEID.match(call_id).group(1)), "outbound"  # type: ignore[union-attr]
        self._touch(call)
        return self._set_domain(call, domain)

    def adopt(self, call: Call, channels: Iterable[tuple[str, str]]) -> None:
        """Take back a call known before a restart with the channels Asterisk still has."""
        self.calls[call.id] = call
        for uid, name in channels:
            self._chans[uid] = _Chan(uid, name, call.id, up=True)
            call.channels.add(uid)


def _record_reason(call: Call, record: dict[str, str] | None) -> str | None:
    """Why a call that ended unseen ended, as far as its outbox record tells."""
    if record is None:
        return None
    status = (record.get("QueueStatus") or "").upper()
    if status == "TIMEOUT":
        return "max_wait"
    if status:
        return status.lower()
    if record.get("Member") or (record.get("DialStatus") or "").upper() == "ANSWER":
        return "answered"  # answered; who hung up is not known
    if record.get("Queue"):
        return "abandon"
    return None


def _seconds(duration: str | None) -> float:
    """CoreShowChannel's "HH:MM:SS"."""
    try:
        h, m, sec = (int(x) for x in (duration or "").split(":"))
    except ValueError:
        return 0.0
    return float(h * 3600 + m * 60 + sec)


def _uid(snapshot: ChannelSnapshot | None) -> str | None:
    return snapshot.uniqueid if snapshot else None


def _who_hung_up(leg: Leg, caller_gone: bool) -> str:
    """``caller`` or ``agent``: the first hangup request of the conversation, else what was seen."""
    if leg.hangup_by:
        return "caller" if leg.hangup_by == "caller" else "agent"
    return "caller" if caller_gone else "agent"


def _queue_caller(call: Call) -> str | None:
    queue = [leg for leg in call.legs if leg.kind == "queue" and not leg.consult]
    return queue[-1].uniqueid if queue else call.caller_uniqueid


def _relabel_transferer(call: Call, uid: str | None, now: float) -> None:
    """An attended transfer completed by the agent hanging up can reach us after that
    hangup: the agent leg it ended (as ``agent``) ended by the transfer."""
    for leg in reversed(call.legs):
        if leg.kind == "agent" and leg.ended_at is not None and leg.result in ("agent", "caller") \
                and (leg.uniqueid == uid or now - leg.ended_at <= 2.0):
            leg.result = "transfer"
            return


def _dial_result(status: str | None, cause: int | None) -> str:
    s = (status or "").upper()
    if s in ("BUSY",) or cause in _BUSY_CAUSES:
        return "busy"
    if s in ("NOANSWER",):
        return "no_answer"
    if s in ("CHANUNAVAIL", "CONGESTION"):
        return "unavailable"
    if cause in _REJECT_CAUSES:
        return "rejected"
    return "cancel" if s == "CANCEL" else "no_answer"


def _leg_ended(call: Call, leg: Leg, now: float, reason: str) -> ev.LegEnded:
    return ev.LegEnded(call.id, call.domain, now, leg.kind, leg.uniqueid or "", leg.queue, leg.queue_key,
                       leg.interface, leg.agent, _queue_caller(call), leg.answered_at, reason)


# results of answered legs that did not end the conversation: the agent handed the caller over
_HANDED_OVER = ("transfer", "consultation")


def _end_reason(call: Call) -> str:
    """Why a call ended, from its legs (the first rule that applies)."""
    if call.forced_reason:
        return call.forced_reason
    legs = call.legs
    if any(leg.kind == "transfer" for leg in legs) and not any(
            leg.kind in ("agent", "extension", "external") and leg.answered_at and leg.result not in _HANDED_OVER
            and (leg.ended_at or float("inf")) > max(t.started_at for t in legs if t.kind == "transfer")
            for leg in legs):
        return "transfer"
    answered = [leg for leg in legs if leg.kind in ("agent", "extension", "external") and leg.answered_at
                and leg.result not in _HANDED_OVER]
    if answered:
        last = answered[-1]
        if last.kind == "agent":
            return "agent_hangup" if last.result == "agent" else "caller_hangup"
        if last.hangup_by:
            return "caller_hangup" if last.hangup_by == "caller" else "callee_hangup"
        return "caller_hangup" if call.caller_gone else "callee_hangup"
    queues = [leg for leg in legs if leg.kind == "queue"]
    if queues:
        last_q = queues[-1]
        if last_q.result in ("abandon", "abandon?", "left"):
            return "abandon"
        if last_q.exit_reported:
            if last_q.detail:
                return "overflow"
            return "max_wait" if last_q.result == "timeout" else (last_q.result or "max_wait")
    dialled = [leg for leg in legs if leg.kind in ("extension", "external")]
    if dialled:
        return dialled[-1].result or "no_answer"
    if any(leg.kind == "ivr" for leg in legs):
        return "caller_hangup"
    return "caller_hangup"


def _with_domain(event: ev.CallEvent, domain: str) -> ev.CallEvent:
    from dataclasses import replace
    return replace(event, domain=domain)
