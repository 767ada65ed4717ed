"""Alert preemption decisions (features/alerts/preempt.py RingBoard): pure."""
from __future__ import annotations

from ccplane.features.alerts.preempt import NeedLevel, RingBoard, Withdraw

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
