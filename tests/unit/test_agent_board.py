"""The agent board (``ccplane.features.agents.domain``): the call tracker's
domain events in, effects out. AMI events are fed through a real
:class:`~ccplane.features.calls.domain.CallTracker` first, as in production.

Two kinds of input, both with an injected clock (plain ``now`` floats, never
the wall clock):

- replays of the real Asterisk 22 transcripts in ``transcripts/`` (framed by
  panoramisk's protocol as a live connection is, decoded with decode_event,
  fed in order; event ``i`` happens at
  ``T0 + i``). The agent's interface and the queue names are read from the
  transcript's AgentCalled events, never guessed;
- synthetic sequences built as AMI field dicts and decoded the same way, for
  what the transcripts do not show (rejects, busy, pauses, timers).
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ccplane.asterisk.events import AgentEvent, AmiEvent, Hangup, decode_event
from ccplane.asterisk.framing import replay as frames_of
from ccplane.features.calls.domain import CallTracker
from ccplane.features.agents.domain import (
    ActiveCall, Agent, AgentBoard, CallEnded, Effect, ExpireAt, HangupAt, OfferFailed, Outcome, QueueLog,
    QueuePolicy, SetPaused, StateChanged, classify_offer,
)

TRANSCRIPTS = Path(__file__).parent / "transcripts"
T0 = 1_000.0  # the replay clock: event i of a transcript happens at T0 + i
E = TypeVar("E")


# -- replaying real transcripts -----------------------------------------------------

def transcript_events(name: str) -> list[AmiEvent]:
    data = (TRANSCRIPTS / f"{name}.ami").read_bytes()
    assert data.startswith(b"Asterisk Call Manager/")
    return frames_of(data, chunk=997)  # odd chunks: frames split across reads, as on a socket


class Directory:
    """What the tracker looks up: every queue is domain "t"'s; agents from the board."""

    def __init__(self, board: AgentBoard) -> None:
        self.board = board

    def queue(self, key: str) -> tuple[str, str] | None:
        return ("t", key) if key else None

    def did(self, did: str) -> str | None:
        return None

    def agent(self, interface: str) -> str | None:
        agent = self.board.agents.get(interface)
        return agent.username if agent else None

    def endpoint(self, endpoint: str) -> tuple[str, str] | None:
        return None

    def context(self, context: str) -> str | None:
        return None


_TRACKERS: "weakref.WeakKeyDictionary[AgentBoard, CallTracker]" = weakref.WeakKeyDictionary()


def drive(board: AgentBoard, event: AmiEvent, now: float) -> list[Effect]:
    """One AMI event through the board's tracker, its domain events through the board."""
    tracker = _TRACKERS.setdefault(board, CallTracker(Directory(board)))
    effects: list[Effect] = []
    for domain_event in tracker.handle(event, now):
        effects += board.handle(domain_event, now)
    return effects


def of_name(events: Iterable[AmiEvent], name: str) -> list[AgentEvent]:
    """The queue events (AgentCalled, AgentConnect...) called ``name``, typed."""
    found = [e for e in events if e.name == name]
    assert all(isinstance(e, AgentEvent) for e in found)
    return [e for e in found if isinstance(e, AgentEvent)]


def as_agent_event(event: AmiEvent) -> AgentEvent:
    assert isinstance(event, AgentEvent), event
    return event


def member_interface(events: list[AmiEvent]) -> str:
    """The one queue member the transcript offered calls to."""
    interfaces = {e.interface for e in of_name(events, "AgentCalled")}
    assert len(interfaces) == 1, interfaces
    interface = interfaces.pop()
    assert interface
    return interface


def queue_names(events: list[AmiEvent]) -> set[str]:
    names = {e.queue for e in of_name(events, "AgentCalled")}
    assert names and None not in names
    return {n for n in names if n}


def hangup_uniqueid(step: Step) -> str | None:
    assert isinstance(step.event, Hangup), step.event
    return step.event.uniqueid


@dataclass
class Step:
    at: float
    event: AmiEvent
    effects: list[Effect]


@dataclass
class Replay:
    board: AgentBoard
    agent: Agent
    events: list[AmiEvent]
    steps: list[Step]

    def found(self, kind: type[E]) -> list[tuple[Step, E]]:
        """Every effect of ``kind``, with the step (event, time) that produced it."""
        return [(step, effect) for step in self.steps for effect in step.effects if isinstance(effect, kind)]

    def first_step(self, event_name: str) -> Step:
        return next(step for step in self.steps if step.event.name == event_name)


def replay(name: str, policy: QueuePolicy = QueuePolicy(), *, wrapup_override: int | None = None,
           after: Callable[[AgentBoard, Step], None] | None = None) -> Replay:
    """Feed a transcript to a board holding the transcript's member as an agent."""
    events = transcript_events(name)
    agent = Agent(username="ana", interface=member_interface(events),
                  queues={q: policy for q in queue_names(events)}, wrapup_override=wrapup_override)
    board = AgentBoard()
    board.put(agent)
    steps: list[Step] = []
    for i, event in enumerate(events):
        now = T0 + i
        step = Step(now, event, drive(board, event, now))
        steps.append(step)
        if after is not None:
            after(board, step)
    return Replay(board, agent, events, steps)


def assert_nothing_open(r: Replay) -> None:
    assert r.agent.offers == {}
    assert r.agent.calls == {}
    assert not r.board.in_call(r.agent.interface)
    assert _TRACKERS[r.board].calls == {}  # no call left open (a leak over a day of calls)


# -- synthetic AMI ----------------------------------------------------------------

IFACE = "PJSIP/acme-1001"
QUEUE = "acme-sales"
CALLER_CHANNEL = "PJSIP/trunk-00000001"


def ami(**fields: str) -> AmiEvent:
    return decode_event(fields)


def agent_called(member: str, caller: str = "c.1", *, queue: str = QUEUE, interface: str = IFACE) -> AmiEvent:
    return ami(Event="AgentCalled", Queue=queue, Interface=interface, MemberName="Ana",
               Channel=CALLER_CHANNEL, Uniqueid=caller, CallerIDNum="5551000",
               DestChannel=f"{interface}-{member}", DestUniqueid=member)


def ring_no_answer(member: str, caller: str = "c.1", *, queue: str = QUEUE) -> AmiEvent:
    return ami(Event="AgentRingNoAnswer", Queue=queue, Interface=IFACE, Channel=CALLER_CHANNEL,
               Uniqueid=caller, DestChannel=f"{IFACE}-{member}", DestUniqueid=member, RingTime="15000")


def dial_end(member: str, status: str, caller: str = "c.1") -> AmiEvent:
    return ami(Event="DialEnd", Channel=CALLER_CHANNEL, Uniqueid=caller,
               DestChannel=f"{IFACE}-{member}", DestUniqueid=member, DialStatus=status)


def hangup(uniqueid: str, cause: int, channel: str = "PJSIP/acme-1001-x") -> AmiEvent:
    return ami(Event="Hangup", Channel=channel, Uniqueid=uniqueid, Cause=str(cause), **{"Cause-txt": "x"})


def agent_connect(member: str, caller: str = "c.1", *, queue: str = QUEUE) -> AmiEvent:
    return ami(Event="AgentConnect", Queue=queue, Interface=IFACE, Channel=CALLER_CHANNEL, Uniqueid=caller,
               CallerIDNum="5551000", DestChannel=f"{IFACE}-{member}", DestUniqueid=member,
               HoldTime="3", RingTime="2")


def agent_complete(reason: str, *, member: str | None = None, caller: str | None = None,
                   queue: str = QUEUE) -> AmiEvent:
    fields = {"Event": "AgentComplete", "Queue": queue, "Interface": IFACE, "Reason": reason,
              "HoldTime": "3", "TalkTime": "60"}
    if caller is not None:
        fields.update(Channel=CALLER_CHANNEL, Uniqueid=caller)
    if member is not None:
        fields.update(DestChannel=f"{IFACE}-{member}", DestUniqueid=member)
    return decode_event(fields)


def board_with(policy: QueuePolicy = QueuePolicy(), **agent_args: Any) -> AgentBoard:
    board = AgentBoard()
    board.put(Agent(username="ana", interface=IFACE, queues={QUEUE: policy}, **agent_args))
    return board


def feed(board: AgentBoard, *timed: tuple[float, AmiEvent]) -> list[Effect]:
    effects: list[Effect] = []
    for now, event in timed:
        effects += drive(board, event, now)
    return effects


def no_answer(board: AgentBoard, member: str, at: float) -> list[Effect]:
    """An offer that rang until the ring timeout, as the transcripts show it."""
    return feed(board, (at, agent_called(member)), (at + 15, ring_no_answer(member)),
                (at + 15, dial_end(member, "NOANSWER")), (at + 15, dial_end(member, "CANCEL")),
                (at + 15, hangup(member, 0)))


def rejected(board: AgentBoard, member: str, at: float, cause: int = 21, status: str = "BUSY") -> list[Effect]:
    return feed(board, (at, agent_called(member)), (at + 1, dial_end(member, status)),
                (at + 1, hangup(member, cause)))


def answered(board: AgentBoard, member: str, at: float, talk: float, reason: str = "caller",
             caller: str = "c.1") -> list[Effect]:
    return feed(board, (at, agent_called(member, caller)), (at + 2, dial_end(member, "ANSWER", caller)),
                (at + 2, agent_connect(member, caller)),
                (at + 2 + talk, agent_complete(reason, member=member, caller=caller)),
                (at + 2 + talk, hangup(member, 16)))


def only(effects: Iterable[Effect], kind: type[E]) -> list[E]:
    return [e for e in effects if isinstance(e, kind)]


# -- 1. classify_offer ----------------------------------------------------------------

@pytest.mark.parametrize(("dial_status", "cause", "rang_out", "expected"), [
    # rang until the ring timeout: AgentRingNoAnswer, DialEnd NOANSWER, Hangup cause 0 (transcripts)
    ("NOANSWER", 0, True, Outcome.NO_ANSWER),
    ("noanswer", 0, True, Outcome.NO_ANSWER),      # DialStatus compared case-insensitively
    (None, 0, True, Outcome.NO_ANSWER),            # the Hangup overtook the DialEnd
    ("NOANSWER", 16, True, Outcome.NO_ANSWER),
    # 486 Busy Here
    ("BUSY", 17, False, Outcome.BUSY),
    (None, 17, False, Outcome.BUSY),
    ("BUSY", None, False, Outcome.BUSY),
    ("BUSY", 16, False, Outcome.BUSY),
    # 603 Decline: cause 21 wins over whatever DialStatus said
    (None, 21, False, Outcome.REJECTED),
    ("BUSY", 21, True, Outcome.REJECTED),
    ("CANCEL", 21, False, Outcome.REJECTED),
    # not reachable
    ("CHANUNAVAIL", None, False, Outcome.UNAVAILABLE),
    ("CHANUNAVAIL", 0, False, Outcome.UNAVAILABLE),
    ("CONGESTION", 0, False, Outcome.UNAVAILABLE),
    ("CONGESTION", 34, False, Outcome.UNAVAILABLE),
    (None, 20, False, Outcome.UNAVAILABLE),        # subscriber absent
    (None, 3, False, Outcome.UNAVAILABLE),         # no route to destination
    # cancelled before ringing out: another agent answered (ringall) or the caller left
    ("CANCEL", 0, False, Outcome.LOST),
    ("CANCEL", 16, False, Outcome.LOST),
    ("CANCEL", 26, False, Outcome.LOST),           # answered elsewhere
    ("CANCEL", 19, False, Outcome.LOST),
    (None, 16, False, Outcome.LOST),
    (None, None, False, Outcome.LOST),
    ("ANSWER", 16, False, Outcome.LOST),           # answered, but the caller was gone before the bridge
])
def test_classify_offer(dial_status: str | None, cause: int | None, rang_out: bool, expected: Outcome) -> None:
    assert classify_offer(dial_status=dial_status, hangup_cause=cause, rang_out=rang_out) is expected


@pytest.mark.parametrize(("policy", "outcome", "delay"), [
    (QueuePolicy(reject_delay=4), Outcome.REJECTED, 4),
    (QueuePolicy(reject_delay=4), Outcome.BUSY, 4),                 # busy_delay None: the reject delay
    (QueuePolicy(reject_delay=4, busy_delay=9), Outcome.BUSY, 9),
    (QueuePolicy(reject_delay=4, busy_delay=0), Outcome.BUSY, 0),   # 0 is a value, not "unset"
    (QueuePolicy(reject_delay=4, noanswer_delay=7), Outcome.NO_ANSWER, 7),
    (QueuePolicy(reject_delay=4, busy_delay=9, noanswer_delay=7), Outcome.UNAVAILABLE, 0),
    (QueuePolicy(reject_delay=4, busy_delay=9, noanswer_delay=7), Outcome.LOST, 0),
    (QueuePolicy(reject_delay=4, busy_delay=9, noanswer_delay=7), Outcome.ANSWERED, 0),
])
def test_delay_for_each_outcome(policy: QueuePolicy, outcome: Outcome, delay: int) -> None:
    assert policy.delay_for(outcome) == delay


# -- 2. replays of real Asterisk 22 transcripts ------------------------------------

ANSWERED = [
    ("queue_answered_agent_hangup", "agent"),    # the member's Hangup arrives before AgentComplete
    ("queue_answered_caller_hangup", "caller"),  # AgentComplete carries only the member's Dest* fields
    ("queue_answered_chanvars", "agent"),        # AgentComplete arrives before the member's Hangup
]


@pytest.mark.parametrize(("name", "reason"), ANSWERED)
def test_answered_transcript_ends_the_call_and_frees_the_agent(name: str, reason: str) -> None:
    r = replay(name)
    connect = r.first_step("AgentConnect")
    event = as_agent_event(connect.event)

    assert r.agent.interface.startswith("Local/")  # read from the transcript, not PJSIP/ as in production
    ended = r.found(CallEnded)
    assert len(ended) == 1
    step, call = ended[0]
    assert event.queue and event.uniqueid and event.caller_id_num
    assert call == CallEnded(
        interface=r.agent.interface, username="ana", queue=event.queue, caller_uniqueid=event.uniqueid,
        caller_number=event.caller_id_num, answered_at=connect.at, ended_at=step.at, reason=reason)
    assert step.at > connect.at
    assert step.event.name in ("AgentComplete", "Hangup")
    # no wrap-up configured: nothing is ever paused, nothing is ever failed
    assert r.found(SetPaused) == [] and r.found(ExpireAt) == [] and r.found(OfferFailed) == []
    assert r.found(HangupAt) == []
    assert_nothing_open(r)
    assert r.agent.holds == {} and r.agent.missed_in_a_row == 0
    assert r.agent.view(r.steps[-1].at)["state"] == "available"


@pytest.mark.parametrize(("name", "reason"), ANSWERED)
def test_answered_transcript_states_along_the_way(name: str, reason: str) -> None:
    states: list[str] = []

    def record(board: AgentBoard, step: Step) -> None:
        states.append(next(iter(board.agents.values())).view(step.at)["state"])

    r = replay(name, after=record)
    called = r.steps.index(r.first_step("AgentCalled"))
    connect = r.steps.index(r.first_step("AgentConnect"))
    ended = r.steps.index(r.found(CallEnded)[0][0])
    assert set(states[:called]) == {"available"}
    assert set(states[called:connect]) == {"ringing"}
    assert set(states[connect:ended]) == {"in_call"}
    assert set(states[ended:]) == {"available"}


@pytest.mark.parametrize(("name", "reason"), ANSWERED)
def test_answered_transcript_with_wrapup(name: str, reason: str) -> None:
    r = replay(name, QueuePolicy(wrapup_time=30))
    connect = r.first_step("AgentConnect")
    (end_step, call), = r.found(CallEnded)
    assert call.reason == reason

    # paused while the call is still up, so Asterisk cannot offer a call at hangup
    paused = r.found(SetPaused)
    assert [(s.event.name, e) for s, e in paused] == [
        ("AgentConnect", SetPaused(r.agent.interface, True, "wrapup"))]
    assert paused[0][0].at == connect.at < end_step.at
    # the wrap-up's clock starts when the call ends
    assert [(s, e) for s, e in r.found(ExpireAt)] == [
        (end_step, ExpireAt(r.agent.interface, "wrapup", end_step.at + 30))]
    assert call.caller_uniqueid is not None
    logs = [e for s, e in r.found(QueueLog) if s is end_step]
    assert logs == [QueueLog(call.queue, "WRAPUPSTART", r.agent.interface, "ana|30", call.caller_uniqueid)]
    assert_nothing_open(r)

    last = r.steps[-1].at
    view = r.agent.view(last)
    assert view["state"] == "wrapup" and view["since"] == end_step.at
    assert view["wrapup_left"] == pytest.approx(end_step.at + 30 - last)
    assert r.agent.view(end_step.at + 25)["wrapup_left"] == pytest.approx(5)

    done = r.board.expire(r.agent.interface, "wrapup", end_step.at + 30)
    assert only(done, SetPaused) == [SetPaused(r.agent.interface, False, "")]
    assert only(done, QueueLog) == [QueueLog(call.queue, "WRAPUPEND", r.agent.interface, "ana")]
    assert r.agent.view(end_step.at + 30)["state"] == "available"


def test_answered_transcript_wrapup_override_beats_the_queue() -> None:
    r = replay("queue_answered_agent_hangup", QueuePolicy(wrapup_time=30), wrapup_override=7)
    (end_step, _), = r.found(CallEnded)
    assert [e for _, e in r.found(ExpireAt)] == [ExpireAt(r.agent.interface, "wrapup", end_step.at + 7)]


def test_answered_transcript_call_timeout() -> None:
    def time_out(board: AgentBoard, step: Step) -> None:
        # the runtime's HangupAt timer fires mid-call: it marks the reason, then hangs up the caller
        if step.event.name == "AgentConnect":
            event = as_agent_event(step.event)
            assert event.interface
            board.mark_end_reason(event.interface, event.uniqueid, "call_timeout")

    r = replay("queue_answered_caller_hangup", QueuePolicy(call_timeout=45), after=time_out)
    connect = r.first_step("AgentConnect")
    event = as_agent_event(connect.event)
    assert event.channel and event.channel.startswith("Local/q@evtest")  # the caller's, not the member's
    assert [(s, e) for s, e in r.found(HangupAt)] == [(connect, HangupAt(
        r.agent.interface, event.uniqueid, event.channel, connect.at + 45, "call_timeout"))]
    (_, call), = r.found(CallEnded)
    assert call.reason == "call_timeout"


def test_alert_call_is_not_cut_by_the_call_timeout() -> None:
    board = board_with(QueuePolicy(call_timeout=45))
    ordinary = feed(board, (0, agent_called("m.1")), (2, agent_connect("m.1")))
    assert [type(e) for e in ordinary if isinstance(e, HangupAt)] == [HangupAt]
    feed(board, (60, agent_complete("caller", member="m.1", caller="c.1")), (60, hangup("m.1", 16)))
    alert = ami(Event="AgentConnect", Queue=QUEUE, Interface=IFACE, Channel="Local/s@ccplane-alert-queue-0000002a;1",
                Uniqueid="c.2", CallerIDNum="11987654321", DestChannel=f"{IFACE}-m.2", DestUniqueid="m.2",
                HoldTime="1", RingTime="2")
    effects = feed(board, (70, agent_called("m.2", "c.2")), (72, alert))
    assert not [e for e in effects if isinstance(e, HangupAt)]  # a person in danger is not cut off
    assert board.agents[IFACE].view(73)["state"] == "in_call"


NO_ANSWER = ["queue_noanswer_abandon", "queue_timeout"]


@pytest.mark.parametrize("name", NO_ANSWER)
def test_no_answer_transcript_counts_each_ring_out(name: str) -> None:
    r = replay(name, QueuePolicy(max_no_answer=2))
    rings = of_name(r.events, "AgentRingNoAnswer")
    assert len(rings) == 2

    failed = r.found(OfferFailed)
    assert [e for _, e in failed] == [OfferFailed(r.agent.interface, ring.queue or "", Outcome.NO_ANSWER)
                                      for ring in rings]
    # each offer fails when its member channel hangs up, not on the caller's or the ;2 half's events
    assert [hangup_uniqueid(s) for s, _ in failed] == [ring.dest_uniqueid for ring in rings]

    # max-no-answer=2: paused after the second ring-out, never after the first
    first, second = (s for s, _ in failed)
    assert only(first.effects, SetPaused) == []
    assert only(second.effects, SetPaused) == [SetPaused(r.agent.interface, True, "max-no-answer")]
    assert len(r.found(SetPaused)) == 1
    assert only(second.effects, QueueLog) == []  # Asterisk logs the member pause (PAUSEALL) itself

    assert r.agent.missed_in_a_row == 2
    assert_nothing_open(r)
    view = r.agent.view(r.steps[-1].at)
    assert (view["state"], view["pause_reason"], view["since"], view["missed_in_a_row"]) == (
        "paused", "max-no-answer", second.at, 2)


@pytest.mark.parametrize("name", NO_ANSWER)
def test_no_answer_transcript_counter_after_each_ring(name: str) -> None:
    counts: list[int] = []

    def count(board: AgentBoard, step: Step) -> None:
        if only(step.effects, OfferFailed):
            counts.append(next(iter(board.agents.values())).missed_in_a_row)

    replay(name, QueuePolicy(max_no_answer=2), after=count)
    assert counts == [1, 2]


@pytest.mark.parametrize("name", NO_ANSWER)
def test_no_answer_transcript_without_max_no_answer_never_pauses(name: str) -> None:
    r = replay(name, QueuePolicy(max_no_answer=0))
    assert len(r.found(OfferFailed)) == 2
    assert r.found(SetPaused) == []
    assert r.agent.missed_in_a_row == 2
    assert r.agent.view(r.steps[-1].at)["state"] == "available"


@pytest.mark.parametrize("name", NO_ANSWER)
def test_no_answer_transcript_with_noanswer_delay(name: str) -> None:
    r = replay(name, QueuePolicy(noanswer_delay=3))
    failed = [s for s, _ in r.found(OfferFailed)]
    assert [e for _, e in r.found(ExpireAt)] == [ExpireAt(r.agent.interface, "delay", s.at + 3) for s in failed]
    assert only(failed[0].effects, SetPaused) == [SetPaused(r.agent.interface, True, "no_answer")]
    assert r.agent.holds["delay"].until == failed[-1].at + 3


def test_queue_status_transcript_caller_left_while_ringing_is_lost() -> None:
    # offer 1 rings out; offer 2 is cancelled (DialEnd CANCEL, no AgentRingNoAnswer) when the caller hangs up
    r = replay("queue_status", QueuePolicy(max_no_answer=2))
    assert [e.outcome for _, e in r.found(OfferFailed)] == [Outcome.NO_ANSWER, Outcome.LOST]
    assert r.agent.missed_in_a_row == 1
    assert r.found(SetPaused) == []
    assert_nothing_open(r)
    assert r.agent.view(r.steps[-1].at)["state"] == "available"


def test_agent_dump_transcript_leaves_a_sane_board() -> None:
    # the member answers and hangs up during its announcement, four times, then the caller gives up
    r = replay("queue_agent_dump", QueuePolicy(max_no_answer=1, wrapup_time=30))
    offers = of_name(r.events, "AgentCalled")
    assert len(offers) == len(of_name(r.events, "AgentDump")) == 4
    assert of_name(r.events, "AgentConnect") == []

    failed = r.found(OfferFailed)
    assert [hangup_uniqueid(s) for s, _ in failed] == [offer.dest_uniqueid for offer in offers]
    # the member answered, then hung up before the bridge: a refusal, not a lost offer
    assert {e.outcome for _, e in failed} == {Outcome.REJECTED}
    assert r.found(CallEnded) == [] and r.found(SetPaused) == [] and r.found(ExpireAt) == []
    assert_nothing_open(r)
    assert r.agent.holds == {} and r.agent.missed_in_a_row == 0  # rejections are not missed calls
    assert r.agent.view(r.steps[-1].at)["state"] == "available"


def test_agent_dump_starts_the_reject_delay() -> None:
    r = replay("queue_agent_dump", QueuePolicy(reject_delay=5))
    failed = [s for s, _ in r.found(OfferFailed)]
    assert len(failed) == 4
    assert [e for _, e in r.found(ExpireAt)] == [ExpireAt(r.agent.interface, "delay", s.at + 5) for s in failed]
    assert only(failed[0].effects, SetPaused) == [SetPaused(r.agent.interface, True, "rejected")]


def test_events_for_other_members_are_ignored() -> None:
    events = transcript_events("queue_answered_agent_hangup")
    board = AgentBoard()
    board.put(Agent("bob", "PJSIP/acme-2002", {q: QueuePolicy(wrapup_time=30) for q in queue_names(events)}))
    assert [drive(board, e, T0 + i) for i, e in enumerate(events)] == [[] for _ in events]
    assert board.agents["PJSIP/acme-2002"].view(T0)["state"] == "available"


# -- 3. synthetic sequences -------------------------------------------------------------

def test_rejected_offer_starts_a_delay_that_expires() -> None:
    board = board_with(QueuePolicy(reject_delay=4))
    effects = rejected(board, "m.1", at=100)  # the Hangup (cause 21) is at 101
    assert only(effects, OfferFailed) == [OfferFailed(IFACE, QUEUE, Outcome.REJECTED)]
    assert only(effects, SetPaused) == [SetPaused(IFACE, True, "rejected")]
    assert only(effects, ExpireAt) == [ExpireAt(IFACE, "delay", 105)]
    assert only(effects, QueueLog) == [QueueLog(QUEUE, "REJECTDELAY", IFACE, "rejected|4", "c.1")]
    agent = board.agents[IFACE]
    assert agent.missed_in_a_row == 0  # a reject is not a ring-out
    assert (agent.view(102)["state"], agent.view(102)["pause_reason"], agent.view(102)["since"]) == (
        "paused", "rejected", 101)

    done = board.expire(IFACE, "delay", 105)
    assert done == [SetPaused(IFACE, False, ""), StateChanged(IFACE)]
    assert agent.holds == {} and agent.view(105)["state"] == "available"


def test_expire_before_until_does_nothing() -> None:
    board = board_with(QueuePolicy(reject_delay=4))
    rejected(board, "m.1", at=100)
    assert board.expire(IFACE, "delay", 104) == []
    assert board.expire(IFACE, "delay", 101) == []
    assert board.expire(IFACE, "wrapup", 200) == []      # no such hold
    assert board.expire("PJSIP/acme-9999", "delay", 200) == []
    assert board.agents[IFACE].paused and board.agents[IFACE].holds["delay"].until == 105


def test_expire_of_an_open_ended_hold_does_nothing() -> None:
    board = board_with()
    board.pause(IFACE, "lunch", 100)
    assert board.expire(IFACE, "manual", 10_000) == []
    assert board.agents[IFACE].pause_reason == "lunch"


def test_manual_pause_during_a_delay_survives_its_expiry() -> None:
    board = board_with(QueuePolicy(reject_delay=4))
    rejected(board, "m.1", at=100)
    assert board.pause(IFACE, "lunch", 102) == [SetPaused(IFACE, True, "lunch"), StateChanged(IFACE)]

    done = board.expire(IFACE, "delay", 105)
    assert only(done, SetPaused) == []
    agent = board.agents[IFACE]
    assert "delay" not in agent.holds
    view = agent.view(106)
    assert (view["state"], view["pause_reason"], view["since"]) == ("paused", "lunch", 102)

    assert only(board.unpause(IFACE), SetPaused) == [SetPaused(IFACE, False, "")]
    assert agent.view(107)["state"] == "available"


def test_pause_then_delay_keeps_the_manual_reason() -> None:
    board = board_with(QueuePolicy(reject_delay=4))
    board.pause(IFACE, "lunch", 90)
    effects = rejected(board, "m.1", at=100)  # a ringall race: offered just before the pause landed
    assert only(effects, SetPaused) == []     # Asterisk already shows "lunch"; the delay hides behind it
    assert only(effects, ExpireAt) == [ExpireAt(IFACE, "delay", 105)]
    assert board.agents[IFACE].pause_reason == "lunch"


def test_unpause_resets_the_counter_and_the_max_no_answer_hold() -> None:
    board = board_with(QueuePolicy(max_no_answer=2))
    no_answer(board, "m.1", at=100)
    effects = no_answer(board, "m.2", at=200)
    assert only(effects, SetPaused) == [SetPaused(IFACE, True, "max-no-answer")]
    agent = board.agents[IFACE]
    assert agent.missed_in_a_row == 2 and "max-no-answer" in agent.holds

    assert board.unpause(IFACE) == [SetPaused(IFACE, False, ""), StateChanged(IFACE)]
    assert agent.missed_in_a_row == 0 and agent.holds == {}
    assert agent.view(300)["state"] == "available"

    # counting starts over: one more ring-out does not pause again
    assert only(no_answer(board, "m.3", at=300), SetPaused) == []
    assert agent.missed_in_a_row == 1


def test_unpause_with_manual_and_max_no_answer_holds_sends_one_unpause() -> None:
    board = board_with(QueuePolicy(max_no_answer=1))
    no_answer(board, "m.1", at=100)
    board.pause(IFACE, "lunch", 200)
    effects = board.unpause(IFACE)
    assert only(effects, SetPaused) == [SetPaused(IFACE, False, "")]
    assert board.agents[IFACE].holds == {}


def test_unpause_leaves_a_running_delay() -> None:
    board = board_with(QueuePolicy(max_no_answer=1, noanswer_delay=30))
    no_answer(board, "m.1", at=100)
    effects = board.unpause(IFACE)
    assert only(effects, SetPaused) == [SetPaused(IFACE, True, "no_answer")]  # still paused, for the delay
    assert set(board.agents[IFACE].holds) == {"delay"}


def test_max_no_answer_pauses_after_the_nth_only() -> None:
    board = board_with(QueuePolicy(max_no_answer=3))
    assert only(no_answer(board, "m.1", at=100), SetPaused) == []
    assert only(no_answer(board, "m.2", at=200), SetPaused) == []
    assert only(no_answer(board, "m.3", at=300), SetPaused) == [SetPaused(IFACE, True, "max-no-answer")]
    # a fourth (ringall race) does not pause again nor log again
    effects = no_answer(board, "m.4", at=400)
    assert only(effects, SetPaused) == [] and only(effects, QueueLog) == []
    assert board.agents[IFACE].missed_in_a_row == 4


def test_answered_call_between_no_answers_resets_the_counter() -> None:
    board = board_with(QueuePolicy(max_no_answer=2))
    effects = no_answer(board, "m.1", at=100)
    assert board.agents[IFACE].missed_in_a_row == 1
    effects += answered(board, "m.2", at=200, talk=60, caller="c.2")
    assert board.agents[IFACE].missed_in_a_row == 0
    effects += no_answer(board, "m.3", at=300)
    assert board.agents[IFACE].missed_in_a_row == 1
    assert only(effects, SetPaused) == []
    assert [e.outcome for e in only(effects, OfferFailed)] == [Outcome.NO_ANSWER, Outcome.NO_ANSWER]


@pytest.mark.parametrize(("cause", "status", "outcome"), [
    (17, "BUSY", Outcome.BUSY), (21, "BUSY", Outcome.REJECTED), (0, "CANCEL", Outcome.LOST),
    (34, "CONGESTION", Outcome.UNAVAILABLE),
])
def test_only_ring_outs_count_toward_max_no_answer(cause: int, status: str, outcome: Outcome) -> None:
    board = board_with(QueuePolicy(max_no_answer=1))
    effects = rejected(board, "m.1", at=100, cause=cause, status=status)
    assert only(effects, OfferFailed) == [OfferFailed(IFACE, QUEUE, outcome)]
    assert board.agents[IFACE].missed_in_a_row == 0 and only(effects, SetPaused) == []


def test_busy_without_busy_delay_uses_the_reject_delay() -> None:
    board = board_with(QueuePolicy(reject_delay=4, busy_delay=None))
    effects = rejected(board, "m.1", at=100, cause=17)
    assert only(effects, OfferFailed) == [OfferFailed(IFACE, QUEUE, Outcome.BUSY)]
    assert only(effects, SetPaused) == [SetPaused(IFACE, True, "busy")]
    assert only(effects, ExpireAt) == [ExpireAt(IFACE, "delay", 105)]


def test_busy_with_its_own_delay() -> None:
    board = board_with(QueuePolicy(reject_delay=4, busy_delay=9))
    assert only(rejected(board, "m.1", at=100, cause=17), ExpireAt) == [ExpireAt(IFACE, "delay", 110)]


def test_busy_delay_zero_means_no_hold() -> None:
    board = board_with(QueuePolicy(reject_delay=4, busy_delay=0))
    effects = rejected(board, "m.1", at=100, cause=17)
    assert only(effects, SetPaused) == [] and only(effects, ExpireAt) == []
    assert board.agents[IFACE].holds == {}


def test_lost_and_unavailable_offers_start_no_delay() -> None:
    board = board_with(QueuePolicy(reject_delay=4, busy_delay=4, noanswer_delay=4))
    effects = rejected(board, "m.1", at=100, cause=0, status="CANCEL")
    effects += rejected(board, "m.2", at=200, cause=0, status="CHANUNAVAIL")
    assert [e.outcome for e in only(effects, OfferFailed)] == [Outcome.LOST, Outcome.UNAVAILABLE]
    assert board.agents[IFACE].holds == {}


def test_a_later_delay_outlives_the_earlier_timer() -> None:
    board = board_with(QueuePolicy(reject_delay=4))
    rejected(board, "m.1", at=100)   # until 105
    rejected(board, "m.2", at=103)   # a ringall race: until 108
    assert board.expire(IFACE, "delay", 105) == []  # the first timer is stale
    assert only(board.expire(IFACE, "delay", 108), SetPaused) == [SetPaused(IFACE, False, "")]


def test_call_timeout_schedules_a_hangup_of_the_caller() -> None:
    board = board_with(QueuePolicy(call_timeout=90))
    effects = feed(board, (200, agent_called("m.1")), (202, agent_connect("m.1")))
    assert only(effects, HangupAt) == [HangupAt(IFACE, "c.1", CALLER_CHANNEL, 292, "call_timeout")]

    board.mark_end_reason(IFACE, "c.1", "call_timeout")
    ended = only(feed(board, (292, agent_complete("caller", member="m.1", caller="c.1"))), CallEnded)
    assert [(e.reason, e.answered_at, e.ended_at) for e in ended] == [("call_timeout", 202, 292)]


def test_call_timeout_zero_schedules_nothing() -> None:
    board = board_with(QueuePolicy(call_timeout=0))
    assert only(feed(board, (200, agent_called("m.1")), (202, agent_connect("m.1"))), HangupAt) == []


def test_mark_end_reason_only_touches_that_caller() -> None:
    board = board_with(QueuePolicy(call_timeout=90))
    feed(board, (200, agent_called("m.1")), (202, agent_connect("m.1")))
    board.mark_end_reason(IFACE, "c.other", "call_timeout")
    board.mark_end_reason("PJSIP/acme-9999", "c.1", "call_timeout")
    ended = only(feed(board, (250, agent_complete("agent", member="m.1", caller="c.1"))), CallEnded)
    assert [e.reason for e in ended] == ["agent"]


def test_call_ended_by_the_member_hangup_keeps_the_timeout_reason() -> None:
    board = board_with(QueuePolicy(call_timeout=90))
    feed(board, (200, agent_called("m.1")), (202, agent_connect("m.1")))
    board.mark_end_reason(IFACE, "c.1", "call_timeout")
    ended = only(feed(board, (292, hangup("m.1", 16)), (292, agent_complete("caller", caller="c.1"))), CallEnded)
    assert [e.reason for e in ended] == ["call_timeout"]
    assert board.agents[IFACE].calls == {}


@pytest.mark.parametrize(("override", "queue_wrapup", "expected"), [
    (5, 30, 5), (60, 0, 60), (None, 30, 30), (0, 30, 0),
])
def test_wrapup_override_beats_the_queue(override: int | None, queue_wrapup: int, expected: int) -> None:
    board = board_with(QueuePolicy(wrapup_time=queue_wrapup), wrapup_override=override)
    effects = answered(board, "m.1", at=100, talk=60)  # ends at 162
    if expected:
        assert only(effects, ExpireAt) == [ExpireAt(IFACE, "wrapup", 162 + expected)]
        assert board.agents[IFACE].view(162)["wrapup_left"] == expected
    else:
        assert only(effects, ExpireAt) == [] and only(effects, SetPaused) == []
        assert board.agents[IFACE].view(162)["state"] == "available"


def test_wrapup_pause_is_sent_at_connect_and_released_at_expiry() -> None:
    board = board_with(QueuePolicy(wrapup_time=10))
    at_connect = feed(board, (100, agent_called("m.1")), (102, agent_connect("m.1")))
    assert only(at_connect, SetPaused) == [SetPaused(IFACE, True, "wrapup")]
    assert only(at_connect, ExpireAt) == []  # the wrap-up time is counted from the end of the call
    at_end = feed(board, (160, agent_complete("agent", member="m.1", caller="c.1")))
    assert only(at_end, SetPaused) == []     # already paused: no second QueuePause
    assert only(at_end, ExpireAt) == [ExpireAt(IFACE, "wrapup", 170)]
    assert board.expire(IFACE, "wrapup", 169) == []
    assert only(board.expire(IFACE, "wrapup", 170), SetPaused) == [SetPaused(IFACE, False, "")]


def test_wrapup_expiry_under_a_manual_pause_keeps_the_pause() -> None:
    board = board_with(QueuePolicy(wrapup_time=10))
    answered(board, "m.1", at=100, talk=58)  # ends at 160
    board.pause(IFACE, "break", 165)
    done = board.expire(IFACE, "wrapup", 170)
    assert only(done, SetPaused) == []
    assert [e.event for e in only(done, QueueLog)] == ["WRAPUPEND"]
    assert board.agents[IFACE].view(171)["pause_reason"] == "break"


def test_agent_complete_without_uniqueids_ends_the_only_call() -> None:
    board = board_with()
    feed(board, (100, agent_called("m.1")), (102, agent_connect("m.1")))
    ended = only(feed(board, (150, agent_complete("transfer"))), CallEnded)
    assert [(e.reason, e.caller_uniqueid) for e in ended] == [("transfer", "c.1")]
    assert board.agents[IFACE].calls == {}


# -- Agent.view ----------------------------------------------------------------------

def test_view_offline_without_queues() -> None:
    agent = Agent("ana", IFACE, queues={})
    assert agent.view(100) == {"state": "offline", "pause_reason": None, "since": None, "wrapup_left": None,
                               "missed_in_a_row": 0}


def test_view_ringing_then_in_call() -> None:
    board = board_with(QueuePolicy(wrapup_time=10))
    agent = board.agents[IFACE]
    assert agent.view(99)["state"] == "available"
    drive(board, agent_called("m.1"), 100)
    assert agent.view(101)["state"] == "ringing"
    drive(board, agent_connect("m.1"), 102)
    assert agent.view(103)["state"] == "in_call"  # not "wrapup", though the wrap-up hold already exists
    assert agent.calls["m.1"] == ActiveCall(QUEUE, "c.1", CALLER_CHANNEL, "5551000", "m.1", f"{IFACE}-m.1", 102)


def test_view_wrapup_counts_down() -> None:
    board = board_with(QueuePolicy(wrapup_time=10))
    answered(board, "m.1", at=100, talk=58)  # ends at 160
    agent = board.agents[IFACE]
    lefts = [agent.view(t)["wrapup_left"] for t in (160, 163.5, 170, 175)]
    assert lefts == [10, 6.5, 0, 0]
    view = agent.view(163.5)
    assert (view["state"], view["since"], view["pause_reason"]) == ("wrapup", 160, None)


def test_view_paused_with_reason_and_since() -> None:
    board = board_with()
    assert board.pause(IFACE, "lunch", 123.5) == [SetPaused(IFACE, True, "lunch"), StateChanged(IFACE)]
    view = board.agents[IFACE].view(200)
    assert (view["state"], view["pause_reason"], view["since"]) == ("paused", "lunch", 123.5)


def test_view_manual_pause_wins_over_wrapup() -> None:
    board = board_with(QueuePolicy(wrapup_time=10))
    answered(board, "m.1", at=100, talk=58)
    board.pause(IFACE, "lunch", 161)
    assert board.agents[IFACE].view(162)["state"] == "paused"


def test_view_inactive_when_unregistered() -> None:
    board = board_with()
    assert board.set_registered(IFACE, False) == [StateChanged(IFACE)]
    assert board.set_registered(IFACE, False) == []  # no change, no event
    assert board.agents[IFACE].view(100)["state"] == "inactive"
    board.pause(IFACE, "lunch", 100)
    assert board.agents[IFACE].view(101)["state"] == "inactive"  # unreachable beats paused
    assert board.set_registered(IFACE, True) == [StateChanged(IFACE)]
    assert board.agents[IFACE].view(102)["state"] == "paused"
    assert board.set_registered("PJSIP/acme-9999", False) == []


def test_view_shows_missed_in_a_row() -> None:
    board = board_with()
    no_answer(board, "m.1", at=100)
    assert board.agents[IFACE].view(200)["missed_in_a_row"] == 1


def test_put_keeps_live_offers_and_calls() -> None:
    board = board_with()
    feed(board, (100, agent_called("m.1")), (102, agent_connect("m.1")), (103, agent_called("m.2", "c.2")))
    board.put(Agent("ana", IFACE, {QUEUE: QueuePolicy(wrapup_time=10)}))  # re-login with new settings
    ended = only(feed(board, (150, agent_complete("caller", member="m.1"))), CallEnded)
    assert [e.caller_uniqueid for e in ended] == ["c.1"]
    assert list(board.agents[IFACE].offers) == ["m.2"]


def test_remove_forgets_the_member_channels() -> None:
    board = board_with()
    drive(board, agent_called("m.1"), 100)
    board.remove(IFACE)
    assert drive(board, hangup("m.1", 0), 101) == []
    assert board.pause(IFACE, "x", 102) == [] and board.unpause(IFACE) == []


# -- regressions ----------------------------------------------------------------------

@pytest.mark.parametrize("change", ["queue", "override"])
def test_wrapup_set_to_zero_during_a_call_releases_the_connect_time_hold(change: str) -> None:
    board = board_with(QueuePolicy(wrapup_time=30))
    agent = board.agents[IFACE]
    at_connect = feed(board, (100, agent_called("m.1")), (102, agent_connect("m.1")))
    assert only(at_connect, SetPaused) == [SetPaused(IFACE, True, "wrapup")]
    if change == "queue":  # what AgentRuntime.policies_changed does
        agent.queues = {QUEUE: QueuePolicy(wrapup_time=0)}
    else:
        agent.wrapup_override = 0
    at_end = feed(board, (160, agent_complete("agent", member="m.1", caller="c.1")))
    assert SetPaused(IFACE, False, "") in at_end
    assert agent.holds == {}
