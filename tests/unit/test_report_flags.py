"""What the journey writer keeps on the call row for the reports (``report_flags``),
on calls the tracker followed from recorded sandbox transcripts: a transferred call
(the API's blind transfer that came back to the queue: two offers, one transfer leg)
and a queue call answered without a transfer. The ring time is in the legs' stored
microseconds, as the database would subtract them."""
from __future__ import annotations

from datetime import datetime, timezone

from ccplane.features.calls.domain import Call, Transfer
from ccplane.features.calls.services import report_flags
from tests.unit.test_transfer_tracking import run


def _stored(t: float) -> datetime:
    return datetime.fromtimestamp(t, timezone.utc)


def test_a_blind_transferred_call_is_flagged_with_its_offers_ring_time() -> None:
    def ask(call: Call) -> None:
        call.transfer = Transfer("blind", "ana", "7302", back="queue")
    _, call = run("api_blind_transfer_returned", [(lambda e: e.name == "BlindTransfer", ask)])
    offers = [leg for leg in call.legs if leg.kind == "offer"]
    assert len(offers) == 2 and all(leg.ended_at is not None for leg in offers)
    ring = sum((_stored(leg.ended_at) - _stored(leg.started_at)).total_seconds() for leg in offers  # type: ignore[arg-type]
               if leg.ended_at is not None)
    assert report_flags(call) == {"transferred": True, "ring_seconds": round(ring, 6), "queue_position": 1}
    assert ring > 0


def test_an_answered_call_without_transfer_and_one_without_offers() -> None:
    _, call = run("queue_answered_caller_hangup", [])
    assert [leg.kind for leg in call.legs if leg.kind == "transfer"] == []
    flags = report_flags(call)
    assert flags["transferred"] is False and flags["ring_seconds"] is not None and flags["ring_seconds"] >= 0
    call.legs = [leg for leg in call.legs if leg.kind != "offer"]
    assert report_flags(call) == {"transferred": False, "ring_seconds": None, "queue_position": 1}
    call.legs = [leg for leg in call.legs if leg.kind != "queue"]  # never queued: no place in line
    assert report_flags(call)["queue_position"] is None
