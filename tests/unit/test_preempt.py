"""Alert preemption decisions (features/alerts/preempt.py RingBoard): pure."""
from __future__ import annotations

from ccplane.features.alerts.domain import queue_priority
from ccplane.features.alerts.preempt import EventFeed, NeedLevel, RingBoard, Withdraw
from ccplane.features.calls import events as ev

RED, YELLOW = "alert2-0000000b-queue", "alert1-0000000a-queue"


def test_a_red_joining_withdraws_a_ringing_yellow_and_is_requeued() -> None:
    b = RingBoard()
    assert b.joined("q", YELLOW, 10) == []
    assert b.called("q", YELLOW, "m1", "PJSIP/a-1") == [] and b.called("q", YELLOW, "m2", "PJSIP/b-1") == []
    assert b.joined("q", RED, 20) == [Withdraw(YELLOW, (("m1", "PJSIP/a-1"), ("m2", "PJSIP/b-1")), RED)]
    assert b.callers[YELLOW].legs == {}  # waiting again, still in the queue


def test_same_level_and_lower_levels_never_preempt() -> None:
    b = RingBoard()
    b.joined("q", RED, 20)
    b.called("q", RED, "m1", "PJSIP/a-1")
    assert b.joined("q", "alert3-0000000c-queue", 20) == []
    assert b.joined("q", YELLOW, 10) == []
    assert b.joined("other", "alert4-0000000d-queue", 20) == []  # another queue's members are not these


def test_a_lower_ring_starting_while_a_higher_waits_is_withdrawn() -> None:
    b = RingBoard()
    b.joined("q", RED, 20)
    b.joined("q", "c1-2", 0)
    assert b.called("q", "c1-2", "m1", "PJSIP/a-1") == [Withdraw("c1-2", (("m1", "PJSIP/a-1"),), RED)]


def test_an_answered_call_is_never_withdrawn() -> None:
    b = RingBoard()
    b.joined("q", YELLOW, 10)
    b.called("q", YELLOW, "m1", "PJSIP/a-1")
    b.ring_ended("m1")  # AgentConnect: talking now
    b.left(YELLOW)      # QueueCallerLeave: bridged
    assert b.joined("q", RED, 20) == []


def test_an_unknown_ringing_caller_is_asked_once() -> None:
    b = RingBoard()
    b.called("q", "c9-2", "m1", "PJSIP/a-1")  # joined before ccplane watched
    assert b.joined("q", RED, 20) == [NeedLevel("c9-2")]
    assert b.joined("q", "alert5-0000000e-queue", 20) == []  # not asked twice
    assert b.level_known("c9-2", 0) == [Withdraw("c9-2", (("m1", "PJSIP/a-1"),), RED)]


def test_an_alert_call_placed_before_a_restart_has_its_level_asked() -> None:
    b = RingBoard()
    assert b.joined("q", RED, None) == [NeedLevel(RED)]


# -- the call tracker's domain events into the board (EventFeed) ---------------------------------
def _queued(call: str, uid: str, at: float) -> ev.CallQueued:
    return ev.CallQueued(call, "d", at, "monitor", "d_monitor", uid, None)


def _offer(call: str, caller: str, member: str, channel: str, at: float) -> ev.OfferStarted:
    return ev.OfferStarted(call, "d", at, "monitor", "d_monitor", "PJSIP/d-8501", "ana", member, caller, channel)


def test_the_feed_withdraws_a_yellow_ring_when_a_red_queues_and_forgets_calls_that_end() -> None:
    ended: list[str] = []
    feed = EventFeed(ended.append)
    feed.priorities.update({YELLOW: queue_priority("yellow", 1), RED: queue_priority("red", 2)})
    assert feed.feed(_queued("y", YELLOW, 1)) == []
    assert feed.feed(_offer("y", YELLOW, "m1", "PJSIP/a-1", 2)) == []
    assert feed.feed(_queued("r", RED, 3)) == [Withdraw(YELLOW, (("m1", "PJSIP/a-1"),), RED)]
    # the withdrawn leg's end is told (the preemptor waits for it before requeueing the red)
    assert feed.feed(ev.OfferFailed("y", "d", 4, "monitor", "d_monitor", "PJSIP/d-8501", "ana", "m1", YELLOW,
                                    "lost")) == []
    assert ended == ["m1"]
    # the red is answered: its ring ends, it leaves the queue; the yellow may ring again unhindered
    feed.feed(_offer("r", RED, "m2", "PJSIP/a-2", 5))
    feed.feed(ev.CallLeftQueue("r", "d", 6, "monitor", "d_monitor", "answered", 3.0, RED))
    feed.feed(ev.LegAnswered("r", "d", 6, "agent", "m2", "PJSIP/a-2", "monitor", "d_monitor", "PJSIP/d-8501",
                             "ana", RED, None, None, True))
    assert ended == ["m1", "m2"] and set(feed.board.callers) == {YELLOW}
    assert feed.feed(_offer("y", YELLOW, "m3", "PJSIP/a-3", 7)) == []
    feed.feed(ev.CallEnded("y", "d", 8, "caller"))
    feed.feed(ev.CallEnded("r", "d", 8, "agent"))
    assert feed.board.callers == {} and feed.priorities == {}


def test_recorded_preemption_from_the_trackers_events() -> None:
    """A recorded Asterisk 22 transcript (kept: the call tracker's events, as ccplane's AMI filter
    sends them; bench/alert_storm.py's instance: 3 Local
    attendants, ringall): a yellow rings all three, a red queues; ccplane hung up
    the three rings (cause 26) and redirected the red, which queued again and
    rang all three. Fed through the call tracker, the feed decides exactly that
    withdrawal, is told the three rings ended, and forgets both calls at their end."""
    from pathlib import Path

    from ccplane.asterisk.framing import replay
    from ccplane.features.calls.domain import CallTracker
    from tests.unit.test_call_tracker import Directory

    yellow, red = "alert1-6eee70f4-queue", "alert2-251cfd38-queue"
    data = (Path(__file__).parent / "transcripts" / "alert_red_preempts_yellow.ami").read_bytes()
    tracker = CallTracker(Directory())
    ended: list[str] = []
    feed = EventFeed(ended.append)
    feed.priorities.update({yellow: queue_priority("yellow", 1), red: queue_priority("red", 2)})
    actions = []
    for i, event in enumerate(replay(data, chunk=613)):
        for call_event in tracker.handle(event, 1000.0 + i):
            actions += [(type(call_event).__name__, a) for a in feed.feed(call_event)]
    legs = (("1796606522.3374", "Local/100@alertstorm-attendants-00000697;1"),
            ("1796606522.3376", "Local/101@alertstorm-attendants-00000698;1"),
            ("1796606522.3378", "Local/102@alertstorm-attendants-00000699;1"))
    assert actions == [("CallQueued", Withdraw(yellow, legs, red))]
    assert ended[:3] == [uid for uid, _ in legs]  # the withdrawn rings' ends, before the red rang again
    assert len(ended) == 6  # and the red's three rings, ended by the hang-up
    assert tracker.calls == {} and feed.board.callers == {} and feed.priorities == {}
