"""The framing production uses, for recorded transcripts too.

ccplane reads AMI through panoramisk's protocol, with its byte handling
replaced by :class:`FrameReader`: the stream is split into messages exactly as
panoramisk splits it, and each plain event (an ``Event`` frame that answers no
action) becomes the dict :func:`~ccplane.asterisk.events.decode_event` reads
without a panoramisk ``Message`` being built (a case-insensitive dict whose
construction and copying were the largest cost of an event under load).
Everything else (action replies, the events of list actions, ``Shutdown``) goes
through panoramisk's ``Message`` and ``handle_message`` as before.
:func:`replay` drives the same reader with recorded bytes, so unit tests on
transcripts see exactly the frames a live connection would (chunk boundaries
included).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from .events import AmiEvent, Fields, Frame, decode_event

EOL = "\r\n"
BANNER = "Asterisk Call Manager/"


def message_fields(message: Message) -> Fields:
    """A panoramisk message as plain fields (keys as Asterisk spelt them)."""
    return dict(message)


def event_fields(block: str) -> Frame | None:
    """The fields of one plain event frame (``Event: ...`` first, no ActionID or
    CommandID), as panoramisk's ``Message.from_line`` reads them: ``Key: value``
    lines, a repeated key gives the list of its values, ``Result`` unquoted.
    None for any other frame: it takes panoramisk's path."""
    if not block.startswith("Event: ") or "ActionID: " in block or "CommandID: " in block:
        return None
    fields: Frame = {}
    for line in block.split(EOL):
        key, sep, value = line.partition(": ")
        if not sep:
            continue
        if key == "Result" or (key[:1] in "rR" and key.lower() == "result"):
            value = unquote(value).strip()
        old = fields.get(key)
        if old is None:
            fields[key] = value
        elif isinstance(old, list):
            old.append(value)
        else:
            fields[key] = [old, value]
    if str(fields.get("Event", "")).lower() == "shutdown":
        return None  # panoramisk closes the connection on it
    return fields


class FrameReader:
    """Feeds a panoramisk ``AMIProtocol`` the bytes Asterisk sends: replaces its
    ``data_received`` (same splitting, same ``ascii``/ignore decoding, same
    banner handling); plain events go to ``on_event`` as dicts, every other
    message to ``protocol.handle_message`` as a panoramisk ``Message``."""

    __slots__ = ("protocol", "on_event", "_tail")

    def __init__(self, protocol: AMIProtocol, on_event: Callable[[Frame], None]) -> None:
        self.protocol = protocol
        self.on_event = on_event
        self._tail = ""

    def data_received(self, data: bytes) -> None:
        protocol = self.protocol
        text = data.decode(getattr(protocol, "encoding", "ascii"), "ignore")
        if protocol.version is None and text.startswith(BANNER):
            protocol.version = text.partition(EOL)[0].partition("/")[2].strip()
        if self._tail:
            text = self._tail + text
        blocks = text.split(EOL + EOL)
        self._tail = blocks.pop()
        for block in blocks:
            block = block.strip()
            fields = event_fields(block)
            if fields is not None:
                self.on_event(fields)
                continue
            message = Message.from_line(block)
            if message is not None:
                protocol.handle_message(message)


class _NoTransport:
    def write(self, data: bytes) -> None:
        raise RuntimeError("a replay sends nothing")

    def close(self) -> None:
        pass


class _Collector:
    """Stands where panoramisk's Manager would: receives the dispatched messages."""

    def __init__(self, frames: list[Fields]) -> None:
        self.frames = frames
        self.save_stream = None

    def dispatch(self, message: Message) -> None:
        self.frames.append(message_fields(message))

    def connection_lost(self, exc: Any) -> None:  # Shutdown event
        pass


def replay(data: bytes, chunk: int = 4096) -> list[AmiEvent]:
    """The typed events a live AMI connection would deliver for ``data``."""
    frames: list[Fields] = []
    collector = _Collector(frames)
    protocol = AMIProtocol()
    protocol.connection_made(_NoTransport())
    protocol.factory = collector
    reader = FrameReader(protocol, frames.append)
    for start in range(0, len(data), chunk):
        reader.data_received(data[start:start + chunk])
    return [decode_event(f) for f in frames]


def replay_files(paths: Iterable[Any], chunk: int = 4096) -> list[AmiEvent]:
    out: list[AmiEvent] = []
    for path in paths:
        with open(path, "rb") as f:
            out += replay(f.read(), chunk)
    return out
