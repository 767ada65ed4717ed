"""The frame reader production uses (framing.FrameReader) against panoramisk's own
protocol, on every recorded Asterisk 22 transcript, cut into chunks of several sizes:
the same events, with the same typed attributes and raw fields, in the same order
(panoramisk's Message adds an empty ``content`` key to every frame, which nothing reads:
left out of the comparison). Also: action replies and list-action events still reach
their pending action through panoramisk, and Shutdown still closes the protocol."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from panoramisk.ami_protocol import AMIProtocol

from ccplane.asterisk.events import AmiEvent, Fields, decode_event
from ccplane.asterisk.framing import FrameReader, _NoTransport, event_fields, message_fields, replay

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.ami"))


class _Collector:
    def __init__(self) -> None:
        self.frames: list[Fields] = []
        self.save_stream = None
        self.lost = 0
        self.forgetable_actions: tuple[str, ...] = ()
        self.awaiting_actions: list[Any] = []

    def dispatch(self, message: Any) -> None:
        self.frames.append(message_fields(message))

    def connection_lost(self, exc: Any) -> None:
        self.lost += 1


def _without_content(fields: Fields) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k != "content"}


def _panoramisk_events(data: bytes, chunk: int) -> list[AmiEvent]:
    collector = _Collector()
    protocol = AMIProtocol()
    protocol.connection_made(_NoTransport())
    protocol.factory = collector
    for start in range(0, len(data), chunk):
        protocol.data_received(data[start:start + chunk])
    return [decode_event(_without_content(f)) for f in collector.frames]


def _as_tuple(event: AmiEvent) -> tuple[Any, ...]:
    values = [getattr(event, f.name) for f in dataclasses.fields(event) if f.name != "fields"]
    return (type(event), *[dict(v) if hasattr(v, "keys") else v for v in values],
            _without_content(event.fields))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
@pytest.mark.parametrize("chunk", [1, 7, 512, 4096, 1 << 20])
def test_reader_gives_panoramisk_events(path: Path, chunk: int) -> None:
    data = path.read_bytes()
    expected = [_as_tuple(e) for e in _panoramisk_events(data, chunk)]
    got = [_as_tuple(e) for e in replay(data, chunk)]
    assert len(expected) > 0
    assert got == expected


def test_event_fields_takes_plain_events_only() -> None:
    block = "Event: Hangup\r\nChannel: PJSIP/1001-00000001\r\nCause: 16\r\nCause-txt: Normal Clearing"
    assert event_fields(block) == {"Event": "Hangup", "Channel": "PJSIP/1001-00000001", "Cause": "16",
                                   "Cause-txt": "Normal Clearing"}
    # repeated keys give a list; Result is unquoted as panoramisk does
    assert event_fields("Event: X\r\nChanVariable: A=1\r\nChanVariable: B=2\r\nResult: a%20b ") == {
        "Event": "X", "ChanVariable": ["A=1", "B=2"], "Result": "a b"}
    assert event_fields("Response: Success\r\nActionID: 1") is None  # a reply
    assert event_fields("Event: QueueMember\r\nActionID: 7\r\nQueue: q") is None  # a list action's item
    assert event_fields("Event: Shutdown\r\nShutdown: Cleanly") is None  # closes the link


async def test_replies_and_list_items_reach_their_action() -> None:
    protocol = AMIProtocol()
    protocol.connection_made(_NoTransport())
    collector = _Collector()
    protocol.factory = collector
    events: list[Fields] = []
    reader = FrameReader(protocol, events.append)
    protocol.transport = type("T", (), {"write": lambda self, data: None, "close": lambda self: None})()
    future = protocol.send({"Action": "QueueStatus", "ActionID": "a1"}, as_list=True)
    reader.data_received(b"Asterisk Call Manager/11.0.0\r\n"
                         b"Response: Success\r\nActionID: a1\r\nEventList: start\r\n\r\n"
                         b"Event: QueueParams\r\nActionID: a1\r\nQueue: q\r\n\r\n"
                         b"Event: Newchannel\r\nChannel: PJSIP/1-1\r\nUniqueid: u1\r\n\r\n"
                         b"Event: QueueStatusComplete\r\nActionID: a1\r\nEventList: Complete\r\n\r\n")
    assert protocol.version == "11.0.0"
    assert future.done()
    items = future.result()
    assert [m.get("Event") or m.get("Response") for m in items] == ["Success", "QueueParams", "QueueStatusComplete"]
    assert events == [{"Event": "Newchannel", "Channel": "PJSIP/1-1", "Uniqueid": "u1"}]
    assert collector.frames == []
    reader.data_received(b"Event: Shutdown\r\nShutdown: Cleanly\r\n\r\n")
    assert collector.lost == 1
