"""Recordings: the rules, with no I/O.

- What the dialplan reports when a recording starts (``CcplaneRecording``,
  from its UserEvent or its AstDB entry) as a :class:`RecordingReport`.
- A finished WAV's duration from its header (:func:`wav_duration`).
- Who may see a recording (:class:`Audience`): admins of the domain see all;
  a supervisor sees the recordings of the queues the monitoring groups they
  belong to cover; everyone else sees none (a single one is a 404, lists are empty).
- When a domain's retention makes a recording due for purging (:func:`purge_before`).

Example::

    >>> Audience.of("supervisor", {"sales"}).may_see("sales")
    True
    >>> Audience.of("agent", {"sales"}).may_see("sales")
    False
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote


KINDS = ("attendance", "consultation", "internal", "outbound")
ADMINS = frozenset({"root", "superuser", "admin"})
FILE_SUFFIX = ".wav"


@dataclass(frozen=True)
class RecordingReport:
    file: str  # base name (no directory), e.g. acme-1733500000-1733499990.12.wav
    kind: str
    domain: str
    call_id: str
    queue_key: str | None  # Asterisk's <domain>_<queue>
    agent_uniqueid: str | None
    channel: str | None
    at: float | None
    agent_endpoint: str | None = None  # the agent's PJSIP endpoint (<domain>-<extension>)

    @property
    def agent_extension(self) -> str | None:
        prefix = self.domain + "-"
        if self.agent_endpoint and self.agent_endpoint.startswith(prefix):
            return self.agent_endpoint[len(prefix):] or None
        return None

    @property
    def queue(self) -> str | None:
        """ccplane's queue name (the key without its ``<domain>_`` prefix)."""
        prefix = self.domain + "_"
        if self.queue_key and self.queue_key.startswith(prefix):
            return self.queue_key[len(prefix):]
        return self.queue_key or None


def _safe_id(value: str) -> bool:
    return bool(value) and len(value) <= 150 and all(c.isalnum() or c in "-_." for c in value) \
        and not value.startswith(".")


def parse_report(fields: dict[str, str], file_id: str | None = None) -> RecordingReport | None:
    """From a UserEvent's fields (``File`` names it) or an AstDB entry (its key
    names it; values URL-encoded). None when it is not a well-formed report."""
    raw = {k: unquote(v) if file_id is not None else v for k, v in fields.items()}
    ident = file_id if file_id is not None else raw.get("File", "")
    kind, domain, call = raw.get("Kind", ""), raw.get("Domain", ""), raw.get("Call", "")
    if not _safe_id(ident) or kind not in KINDS or not domain or not call:
        return None
    at = raw.get("At", "")
    return RecordingReport(file=ident + FILE_SUFFIX, kind=kind, domain=domain, call_id=call,
                           queue_key=raw.get("Queue") or None, agent_uniqueid=raw.get("AgentUniqueid") or None,
                           channel=raw.get("Recorded") or None, at=float(at) if at.isdigit() else None,
                           agent_endpoint=raw.get("AgentEndpoint") or None)


def parse_outbox_value(value: str) -> dict[str, str]:
    """``Kind=attendance|Domain=acme|…`` (the AstDB form) as fields."""
    fields = {}
    for pair in value.split("|"):
        key, sep, raw = pair.partition("=")
        if sep and key:
            fields[key] = raw
    return fields


def wav_duration(header: bytes, file_size: int) -> float | None:
    """Seconds of audio of a RIFF/WAVE file from its first bytes (``header``,
    at least up to the ``data`` chunk's header). A data size left at 0 or past
    the end (a writer that did not finish its header) counts to the file's end.
    None when it is not a WAVE file."""
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, 0
    while pos + 8 <= len(header):
        chunk, size = header[pos:pos + 4], struct.unpack("<I", header[pos + 4:pos + 8])[0]
        body = pos + 8
        if chunk == b"fmt " and body + 12 <= len(header):
            byte_rate = struct.unpack("<I", header[body + 8:body + 12])[0]
        elif chunk == b"data":
            if not byte_rate:
                return None
            available = max(file_size - body, 0)
            data = size if 0 < size <= available else available
            return data / byte_rate
        pos = body + size + (size & 1)
    return None


@dataclass(frozen=True)
class Audience:
    """Which recordings one user may list and play in one domain."""
    everything: bool
    queues: frozenset[str]

    @classmethod
    def of(cls, role: str, covered_queues: set[str] | frozenset[str]) -> "Audience":
        if role in ADMINS:
            return cls(True, frozenset())
        if role == "supervisor":
            return cls(False, frozenset(covered_queues))
        return cls(False, frozenset())

    def may_see(self, queue: str | None) -> bool:
        if self.everything:
            return True
        return queue is not None and queue in self.queues


def purge_before(retention_days: int | None, now: datetime) -> datetime | None:
    """Recordings started before this moment are due for purging (None: kept)."""
    if retention_days is None:
        return None
    return now.astimezone(timezone.utc) - timedelta(days=retention_days)
