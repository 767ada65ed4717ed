"""The call tracker (``ccplane.features.calls.domain``) on recorded Asterisk 22
transcripts, framed by panoramisk's protocol as a live connection is: one
call per transcript, its domain events in order, its legs and end reason."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ccplane.asterisk.events import AmiEvent, CoreShowChannel, decode_event
from ccplane.asterisk.framing import replay
from ccplane.features.calls import events as ev
from ccplane.features.calls.domain import Call, CallTracker

TRANSCRIPTS = Path(__file__).parent / "transcripts"
T0 = 1_000.0


class Directory:
    def queue(self, key: str) -> tuple[str, str] | None:
        return ("ev", key) if key else None

    def did(self, did: str) -> str | None:
        return "ev" if did == "5511" else None

    def agent(self, interface: str) -> str | None:
        return "ana" if interface.startswith("Local/") else None

    def endpoint(self, endpoint: str) -> tuple[str, str] | None:
        return ("ev", endpoint.rsplit("-", 1)[-1]) if endpoint.startswith("ev-") else None

    def context(self, context: str) -> str | None:
        return "ev" if context == "evtest" else None


def run(events: list[AmiEvent]) -> tuple[list[ev.CallEvent], list[Call]]:
    tracker = CallTracker(Directory())
    out: list[ev.CallEvent] = []
    ended: list[Call] = []
    for i, event in enumerate(events):
        out += tracker.handle(event, T0 + i)
        ended += [c for c in tracker.touched if c.ended_at is not None and c not in ended]
        tracker.touched.clear()
    assert tracker.calls == {} and tracker._chans == {}  # nothing left open
    return out, ended


def transcript(name: str) -> list[AmiEvent]:
    return replay((TRANSCRIPTS / f"{name}.ami").read_bytes(), chunk=613)


def kinds(events: list[ev.CallEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_answered_call_hung_up_by_the_caller() -> None:
    out, [call] = run(transcript("queue_answered_caller_hangup"))
    assert kinds(out) == ["CallStarted", "CallQueued", "OfferStarted", "CallLeftQueue", "LegAnswered", "LegEnded",
                          "CallEnded"]
    assert {e.call_id for e in out} == {call.id} and {e.domain for e in out} == {"ev"}
    assert [leg.kind for leg in call.legs] == ["queue", "offer", "agent"]
    queue, offer, agent = call.legs
    assert (queue.result, offer.result, agent.result) == ("answered", "answered", "caller")
    assert agent.agent == "ana" and agent.answered_at is not None and agent.ended_at is not None
    assert call.end_reason == "caller_hangup" and call.caller == "5551000"


def test_answered_call_hung_up_by_the_agent() -> None:
    _, [call] = run(transcript("queue_answered_agent_hangup"))
    assert call.legs[-1].kind == "agent" and call.legs[-1].result == "agent"
    assert call.end_reason == "agent_hangup"


def _raced(events: list[AmiEvent], reason: str, first_out: str) -> list[AmiEvent]:
    """What Asterisk sends when both sides go at once (seen on a loaded box): app_queue's
    AgentComplete names the wrong side, and ``first_out``'s Hangups come first."""
    def redo(e: AmiEvent) -> AmiEvent:
        return decode_event({**e.fields, "Reason": reason}) if e.name == "AgentComplete" else e
    hangups = [e for e in events if e.name == "Hangup" and e.fields["Channel"].startswith(first_out)]
    rest = [redo(e) for e in events if e not in hangups]
    first = next(i for i, e in enumerate(rest) if e.name == "Hangup")
    return rest[:first] + hangups + rest[first:]


def test_who_hung_up_is_the_first_hangup_request_not_asterisks_racy_reason() -> None:
    raced = _raced(transcript("queue_answered_caller_hangup"), "agent", "Local/answer@")
    assert [e.fields["Reason"] for e in raced if e.name == "AgentComplete"] == ["agent"]
    _, [call] = run(raced)
    assert call.legs[-1].result == "caller" and call.end_reason == "caller_hangup"
    raced = _raced(transcript("queue_answered_agent_hangup"), "caller", "Local/q@")
    _, [call] = run(raced)
    assert call.legs[-1].result == "agent" and call.end_reason == "agent_hangup"


def test_without_hangup_requests_asterisks_reason_stands() -> None:
    events = [e for e in _raced(transcript("queue_answered_caller_hangup"), "agent", "Local/answer@")
              if e.name not in ("HangupRequest", "SoftHangupRequest")]
    _, [call] = run(events)
    assert call.legs[-1].result == "agent" and call.end_reason == "agent_hangup"


def test_unanswered_offers_then_the_caller_abandons() -> None:
    out, [call] = run(transcript("queue_noanswer_abandon"))
    failed = [e for e in out if isinstance(e, ev.OfferFailed)]
    assert [e.cause for e in failed] == ["no_answer", "no_answer"]
    left = [e for e in out if isinstance(e, ev.CallLeftQueue)]
    assert [e.result for e in left] == ["abandon"]
    assert call.end_reason == "abandon" and call.answered_at is None


def _with_exit_report(events: list[AmiEvent], status: str, overflow: str = "") -> list[AmiEvent]:
    """What our dialplan adds when Queue() returns (CcplaneQueueExit), before the caller's Hangup."""
    leave = next(i for i, e in enumerate(events) if e.name == "QueueCallerLeave")
    caller = events[leave]
    report = decode_event({"Event": "UserEvent", "UserEvent": "CcplaneQueueExit", "Queue": caller.fields["Queue"],
                           "Status": status, "Overflow": overflow, "Uniqueid": caller.fields["Uniqueid"],
                           "Channel": caller.fields["Channel"], "Linkedid": caller.fields["Linkedid"]})
    return events[:leave + 1] + [report] + events[leave + 1:]


def test_queue_timeout_is_told_from_an_abandon_by_the_exit_report() -> None:
    events = transcript("queue_timeout")
    _, [without] = run(events)
    assert without.end_reason == "abandon"  # Asterisk sends QueueCallerAbandon for a timeout too
    out, [call] = run(_with_exit_report(events, "TIMEOUT"))
    assert [e.result for e in out if isinstance(e, ev.CallLeftQueue)] == ["timeout"]
    assert call.end_reason == "max_wait"
    _, [overflowed] = run(_with_exit_report(events, "TIMEOUT", "queue:other"))
    assert overflowed.end_reason == "overflow" and overflowed.legs[0].detail == "queue:other"


def test_agent_dump_is_a_rejection() -> None:
    out, [call] = run(transcript("queue_agent_dump"))
    causes = [e.cause for e in out if isinstance(e, ev.OfferFailed)]
    assert causes and set(causes) == {"rejected"}


def test_blind_transfer_ends_the_transferring_leg() -> None:
    out, [call] = run(transcript("phone_blind_transfer"))
    [transfer] = [e for e in out if isinstance(e, ev.CallTransferred)]
    assert (transfer.mode, transfer.to, transfer.result) == ("blind", "200", "success")
    assert call.end_reason == "transfer"
    assert [leg.kind for leg in call.legs][-1] == "transfer"


def test_attended_transfer() -> None:
    out, calls = run(transcript("phone_attended_transfer"))
    [transfer] = [e for e in out if isinstance(e, ev.CallTransferred)]
    assert transfer.mode == "attended" and transfer.result == "success"
    assert len(calls) == 1 and calls[0].end_reason == "transfer"


def test_events_are_held_until_the_domain_is_known() -> None:
    events = transcript("queue_answered_caller_hangup")
    tracker = CallTracker(Directory())
    first = tracker.handle(events[0], T0)
    assert first == [] or all(e.domain == "ev" for e in first)
    out = [e for i, event in enumerate(events) for e in tracker.handle(event, T0 + i)]
    started = [e for e in out if isinstance(e, ev.CallStarted)]
    assert len(started) == 1 and out.index(started[0]) == 0  # CallStarted first, once


def test_call_timeout_reason_set_from_outside() -> None:
    events = transcript("queue_answered_caller_hangup")
    connect = next(i for i, e in enumerate(events) if e.name == "AgentConnect")
    tracker = CallTracker(Directory())
    for i, event in enumerate(events):
        tracker.handle(event, T0 + i)
        if i == connect:
            tracker.force_reason(event.fields["Uniqueid"], "call_timeout")  # type: ignore[arg-type]
            [call] = tracker.calls.values()
    assert call.end_reason == "call_timeout"


def test_a_call_that_ended_unseen_ends_at_its_recorded_time() -> None:
    events = transcript("queue_answered_caller_hangup")
    connect = next(i for i, e in enumerate(events) if e.name == "AgentConnect")
    tracker = CallTracker(Directory())
    for i, event in enumerate(events[:connect + 1]):
        tracker.handle(event, T0 + i)
    [call] = tracker.calls.values()
    out = tracker.end_unseen(call, T0 + 500, {"At": str(int(T0 + 200)), "Member": "Local/answer@evmembers/n"})
    assert isinstance(out[-1], ev.CallEnded) and call.ended_at == T0 + 200
    assert call.end_reason == "answered" and tracker.calls == {}


@pytest.mark.parametrize("status, reason", [("TIMEOUT", "max_wait"), ("", "abandon"), ("FULL", "full")])
def test_a_call_made_while_away_is_recorded_from_its_outbox_record(status: str, reason: str) -> None:
    tracker = CallTracker(Directory())
    record = {"Domain": "ev", "Direction": "inbound", "Caller": "11999998888", "Did": "5511", "Start": "1000",
              "Queue": "ev_sales", "QueueStatus": status, "Member": "", "At": "1030"}
    call = tracker.from_record("9.1", record)
    assert call is not None
    out = tracker.end_unseen(call, 1030, record)
    assert isinstance(out[-1], ev.CallEnded)
    assert (call.started_at, call.ended_at, call.end_reason) == (1000, 1030, reason)
    assert replace(out[-1], at=0).reason == reason


def test_a_call_that_began_while_away_and_is_still_up_is_followed_from_the_resync() -> None:
    tracker = CallTracker(Directory())
    channels = [decode_event({"Event": "CoreShowChannel", "Channel": "Local/1@x-00000001;1", "Uniqueid": "5.1",
                              "Linkedid": "5.1", "Context": "x", "Exten": "1", "CallerIDNum": "11999990000",
                              "Application": "Wait", "Duration": "00:00:07"}),
                decode_event({"Event": "CoreShowChannel", "Channel": "Local/1@x-00000001;2", "Uniqueid": "5.2",
                              "Linkedid": "5.1", "Context": "ccplane-queues", "Exten": "ev_sales",
                              "Application": "Queue", "ApplicationData": "ev_sales,t,,,10", "Duration": "00:00:07"})]
    out = tracker.adopt_live("5.1", [c for c in channels if isinstance(c, CoreShowChannel)], 1000.0)
    assert kinds(out) == ["CallStarted"] and out[0].domain == "ev" and out[0].at == 993.0
    call = tracker.calls["5.1"]
    assert [leg.kind for leg in call.legs] == ["queue"] and call.caller == "11999990000"
    leave = decode_event({"Event": "QueueCallerLeave", "Queue": "ev_sales", "Uniqueid": "5.2",
                          "Channel": "Local/1@x-00000001;2", "Linkedid": "5.1"})
    hangups = [decode_event({"Event": "Hangup", "Uniqueid": u, "Channel": "c", "Linkedid": "5.1", "Cause": "16"})
               for u in ("5.1", "5.2")]
    events = tracker.handle(leave, 1002.0) + [e for h in hangups for e in tracker.handle(h, 1003.0)]
    assert isinstance(events[-1], ev.CallEnded) and events[-1].reason == "abandon"
    assert tracker.calls == {}


@pytest.mark.parametrize("context", ["ccplane-callback-agent", "ccplane-campaign-dial"])
def test_ccplanes_own_callback_and_campaign_calls_are_outbound(context: str) -> None:
    """A callback rings the agent (an extension) before the customer: its first leg is not
    external, yet the call is outbound, as the dialplan's journey says."""
    tracker = CallTracker(Directory())
    first = decode_event({"Event": "Newchannel", "Channel": f"Local/agent@{context}-00000001;1",
                          "Uniqueid": "cb1-a", "Linkedid": "cb1-a", "Context": context, "Exten": "agent",
                          "CallerIDNum": "11987654321"})
    tracker.handle(first, T0)
    [call] = tracker.calls.values()
    assert call.direction == "outbound" and call.did is None
    inbound = decode_event({"Event": "Newchannel", "Channel": "PJSIP/carrier-00000002", "Uniqueid": "in1",
                            "Linkedid": "in1", "Context": "ccplane-inbound", "Exten": "5511",
                            "CallerIDNum": "11987654321"})
    tracker.handle(inbound, T0)
    assert tracker.calls["in1"].direction == "inbound"
