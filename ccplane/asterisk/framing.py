"""The framing production uses, for recorded transcripts too.

ccplane reads AMI through panoramisk: its protocol splits the stream into
messages and :func:`message_fields` turns each into the dict that
:func:`~ccplane.asterisk.events.decode_event` reads. :func:`replay` drives the
same protocol object with recorded bytes, so unit tests on transcripts see
exactly the frames a live connection would (chunk boundaries included).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from .events import AmiEvent, Fields, decode_event


def message_fields(message: Message) -> Fields:
    """A panoramisk message as plain fields (keys as Asterisk spelt them)."""
    return dict(message)


class _NoTransport:
    def write(self, data: bytes) -> None:
        raise RuntimeError("a replay sends nothing")

    def close(self) -> None:
        pass


class _Collector:
    """Stands where panoramisk's Manager would: receives the dispatched messages."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.save_stream = None

    def dispatch(self, message: Message) -> None:
        self.messages.append(message)

    def connection_lost(self, exc: Any) -> None:  # Shutdown event
        pass


def replay(data: bytes, chunk: int = 4096) -> list[AmiEvent]:
    """The typed events a live AMI connection would deliver for ``data``."""
    collector = _Collector()
    protocol = AMIProtocol()
    protocol.connection_made(_NoTransport())
    protocol.factory = collector
    for start in range(0, len(data), chunk):
        protocol.data_received(data[start:start + chunk])
    return [decode_event(message_fields(m)) for m in collector.messages]


def replay_files(paths: Iterable[Any], chunk: int = 4096) -> list[AmiEvent]:
    out: list[AmiEvent] = []
    for path in paths:
        with open(path, "rb") as f:
            out += replay(f.read(), chunk)
    return out
