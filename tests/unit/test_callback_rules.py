"""Callback rules without I/O: Brazilian numbers, where the agent leg goes,
and what each dialplan report does to a callback."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ccplane.features.callbacks.domain import Report, Route, apply_report, choose_route, delay_seconds, dialable_number


@pytest.mark.parametrize("raw, expected", [
    ("11987654321", "11987654321"), ("+55 (11) 98765-4321", "11987654321"), ("5511987654321", "11987654321"),
    ("011987654321", "11987654321"), ("1133334444", "1133334444"), ("(21) 2555-1234", "2125551234"),
])
def test_brazilian_numbers_accepted_in_the_forms_people_write(raw: str, expected: str) -> None:
    assert dialable_number(raw) == expected


@pytest.mark.parametrize("raw, says", [
    ("11887654321", "starts with 9"), ("1193334444", "starts with 2"), ("0187654321", "area code"),
    ("123", "Brazilian"), ("+1 212 555 0100", "Brazilian"), ("abc", "Brazilian"), ("119876543210", "Brazilian"),
])
def test_numbers_that_are_not_brazilian_are_refused_saying_why(raw: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        dialable_number(raw)


def test_agent_leg_goes_to_the_agent_when_free_else_the_queue_when_allowed() -> None:
    seat = {"agent_interface": "PJSIP/acme-1001", "queue": "sales"}
    assert choose_route(wants_agent=True, agent_state="available", offline_to_queue=True, **seat) == \
        Route("agent", "PJSIP/acme-1001")
    assert choose_route(wants_agent=True, agent_state="wrapup", offline_to_queue=False, **seat).kind == "agent"
    for state in ("paused", "in_call", "inactive"):
        assert choose_route(wants_agent=True, agent_state=state, offline_to_queue=True, **seat) == \
            Route("queue", "sales")
    assert choose_route(wants_agent=True, agent_state=None, agent_interface=None, queue="sales",
                        offline_to_queue=True) == Route("queue", "sales")
    assert choose_route(wants_agent=True, agent_state=None, agent_interface=None, queue="sales",
                        offline_to_queue=False) == Route("none", None, "agent_offline")
    assert choose_route(wants_agent=True, agent_state=None, agent_interface=None, queue=None,
                        offline_to_queue=True) == Route("none", None, "agent_offline")
    assert choose_route(wants_agent=False, agent_state=None, agent_interface=None, queue="sales",
                        offline_to_queue=False) == Route("queue", "sales")


def test_reports_move_a_callback_forward_never_back() -> None:
    assert apply_report("calling_agent", Report("agent_answered", "ANSWER")) == ("calling_customer", None)
    assert apply_report("calling_agent", Report("agent_failed", "NOANSWER")) == ("failed", "agent_no_answer")
    assert apply_report("calling_agent", Report("agent_failed", "TIMEOUT")) == ("failed", "agent_no_answer")
    assert apply_report("calling_customer", Report("customer_done", "ANSWER")) == ("completed", "answered")
    assert apply_report("calling_customer", Report("customer_done", "BUSY")) == ("failed", "busy")
    assert apply_report("calling_customer", Report("customer_done", "NOANSWER")) == ("failed", "no_answer")
    assert apply_report("calling_customer", Report("customer_done", "CANCEL")) == ("failed", "agent_hung_up")
    # the agent leg's end after the customer's report, and any report replayed twice, change nothing
    assert apply_report("calling_customer", Report("agent_failed", "CANCEL")) == ("calling_customer", None)
    assert apply_report("completed", Report("agent_failed", "CANCEL")) == ("completed", None)
    assert apply_report("completed", Report("customer_done", "BUSY")) == ("completed", None)
    assert apply_report("cancelled", Report("agent_answered", "ANSWER")) == ("cancelled", None)


def test_delay_is_how_late_it_started() -> None:
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert delay_seconds(at, at + timedelta(seconds=93.25)) == 93.25
    assert delay_seconds(at, at - timedelta(seconds=1)) == 0.0


def test_in_queue_retries_back_off_and_stop_at_the_limit_or_the_expiry() -> None:
    from ccplane.features.callbacks.domain import retry_at
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert retry_at(attempts=1, retries=2, delay=60, now=now, expires=None) == now + timedelta(seconds=60)
    assert retry_at(attempts=2, retries=2, delay=60, now=now, expires=None) == now + timedelta(seconds=120)
    assert retry_at(attempts=3, retries=2, delay=60, now=now, expires=None) is None
    assert retry_at(attempts=1, retries=0, delay=60, now=now, expires=None) is None
    assert retry_at(attempts=1, retries=2, delay=60, now=now, expires=now + timedelta(seconds=30)) is None
