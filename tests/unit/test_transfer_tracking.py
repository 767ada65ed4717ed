"""The call tracker on transfers ccplane made through the API, recorded on the
sandbox (tests/integration/test_transfers.py scenarios, domain renamed ``ev``):
the state the transfer service puts on the call (``Call.transfer``) is set at
the point of the transcript where the service sets it."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ccplane.asterisk.events import AmiEvent
from ccplane.features.agents.domain import Agent, AgentBoard, QueuePolicy
from ccplane.asterisk.framing import replay
from ccplane.features.calls import events as ev
from ccplane.features.calls.domain import Call, CallTracker, Transfer

TRANSCRIPTS = Path(__file__).parent / "transcripts"
T0 = 1_000.0
AGENTS = {"PJSIP/ev-7301": "ana", "PJSIP/ev-7302": "bia"}


class Directory:
    def queue(self, key: str) -> tuple[str, str] | None:
        return ("ev", key.split("_", 1)[1]) if key.startswith("ev_") else None

    def did(self, did: str) -> str | None:
        return None

    def agent(self, interface: str) -> str | None:
        return AGENTS.get(interface)

    def endpoint(self, endpoint: str) -> tuple[str, str] | None:
        return ("ev", endpoint.rsplit("-", 1)[-1]) if endpoint.startswith("ev-") else None

    def context(self, context: str) -> str | None:
        return "ev" if context == "ccplane-d-ev" else None


Hook = tuple[Callable[[AmiEvent], bool], Callable[[Call], None]]


def run(name: str, hooks: list[Hook]) -> tuple[list[ev.CallEvent], Call]:
    tracker = CallTracker(Directory())
    out: list[ev.CallEvent] = []
    ended: list[Call] = []
    pending = list(hooks)
    for i, event in enumerate(replay((TRANSCRIPTS / f"{name}.ami").read_bytes(), chunk=613)):
        while pending and pending[0][0](event):
            [call] = tracker.calls.values()
            pending.pop(0)[1](call)
        out += tracker.handle(event, T0 + i)
        ended += [c for c in tracker.touched if c.ended_at is not None and c not in ended]
        tracker.touched.clear()
    assert not pending, "a hook never fired"
    assert tracker.calls == {} and tracker._chans == {}
    [call] = ended
    return out, call


def channel(event: AmiEvent) -> str:
    return str(event.fields.get("Channel", ""))


def is_(name: str, prefix: str) -> Callable[[AmiEvent], bool]:
    return lambda e: e.name == name and channel(e).startswith(prefix)


def test_blind_transfer_not_answered_returns_to_the_queue() -> None:
    def ask(call: Call) -> None:
        call.transfer = Transfer("blind", "ana", "7302", back="queue")
    out, call = run("api_blind_transfer_returned", [(lambda e: e.name == "BlindTransfer", ask)])
    transfers = [e for e in out if isinstance(e, ev.CallTransferred)]
    assert [(t.mode, t.by, t.to, t.result, t.returned_to) for t in transfers] == [
        ("blind", "ana", "7302", "success", None), ("blind", "ana", "7302", "no_answer", "queue")]
    assert [leg.kind for leg in call.legs] == ["queue", "offer", "agent", "transfer", "agent", "queue", "offer",
                                               "agent"]
    transfer = call.legs[3]
    assert transfer.result == "returned_to_queue" and (transfer.detail or "").startswith("no_answer|")
    first, target, again = [leg for leg in call.legs if leg.kind == "agent"]
    assert (first.agent, first.result, first.ended_at) == ("ana", "transfer", transfer.started_at)
    assert (target.agent, target.dialled, target.answered_at, target.result) == ("bia", True, None, "no_answer")
    assert again.agent == "ana" and again.answered_at is not None
    answered = [e for e in out if isinstance(e, ev.LegAnswered)]
    assert [(e.kind, e.agent) for e in answered] == [("agent", "ana"), ("agent", "ana")]
    assert call.transfer is None and call.end_reason == "caller_hangup"


def test_attended_transfer_cancelled_then_completed() -> None:
    def consult(call: Call) -> None:
        call.transfer = Transfer("attended", "ana", "7302", state="consulting")

    def cancel(call: Call) -> None:
        assert call.transfer is not None
        call.transfer.state = "cancelling"
    out, call = run("api_attended_transfer_cancel_complete", [
        (is_("Newchannel", "Local/7302@"), consult),
        (is_("Hangup", "Local/7302@"), cancel),
        (is_("Newchannel", "Local/7302@ccplane-d-ev-0000002c"), consult)])
    transfers = [e for e in out if isinstance(e, ev.CallTransferred)]
    assert [(t.mode, t.by, t.to, t.result) for t in transfers] == [
        ("attended", "ana", "7302", "cancelled"), ("attended", "ana", "7302", "success")]
    agents = [leg for leg in call.legs if leg.kind == "agent"]
    assert [(leg.agent, leg.result) for leg in agents] == [("ana", "transfer"), ("bia", "consultation"),
                                                           ("bia", "caller")]
    transfer = next(leg for leg in call.legs if leg.kind == "transfer")
    assert agents[0].ended_at == transfer.started_at and transfer.result == "attended"
    ended = [e for e in out if isinstance(e, ev.LegEnded) and e.kind == "agent"]
    # the board frees agent 2 after the consultation and puts agent 1 into wrap-up at the transfer
    assert [(e.agent, e.reason) for e in ended] == [("bia", "consultation"), ("ana", "transfer"), ("bia", "caller")]
    assert not any(leg.consult for leg in call.legs)
    assert call.end_reason == "caller_hangup"


def _board() -> AgentBoard:
    board = AgentBoard()
    board.put(Agent(username="bia", interface="PJSIP/ev-7302", queues={"ev_xb": QueuePolicy(wrapup_time=30)}))
    return board


def _answer(at: float) -> ev.LegAnswered:
    return ev.LegAnswered("c-1", "ev", at, "agent", "m.2", "PJSIP/ev-7302-1", "xb", "ev_xb", "PJSIP/ev-7302", "bia",
                          "c-2", "Local/ev_xb@ccplane-queues-1;2", "1133334444")


def _end(at: float, reason: str) -> ev.LegEnded:
    return ev.LegEnded("c-1", "ev", at, "agent", "m.2", "xb", "ev_xb", "PJSIP/ev-7302", "bia", "c-2", 100.0, reason)


def test_wrapup_starts_when_the_agent_transfers() -> None:
    board = _board()
    board.handle(_answer(100.0), 100.0)
    board.handle(_end(130.0, "transfer"), 130.0)
    view = board.agents["PJSIP/ev-7302"].view(131.0)
    assert view["state"] == "wrapup" and view["wrapup_left"] == 29.0


def test_no_wrapup_after_a_consultation_that_was_not_a_transfer() -> None:
    board = _board()
    board.handle(_answer(100.0), 100.0)
    board.handle(_end(110.0, "consultation"), 110.0)
    assert board.agents["PJSIP/ev-7302"].view(111.0)["state"] == "available"
