"""Protocol numbers: ``YYYYMMDD`` (the day of the agent's answer in the domain's
time zone) followed by
the day's sequence in the domain, zero-padded to six digits, so that protocols
sort as text in the order they were handed out."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

SEQUENCE_DIGITS = 6


def protocol_day(at: float, zone: str = "UTC") -> str:
    """The day of ``at`` in ``zone`` (the domain's): an attendance at 22:00 in
    São Paulo belongs to that evening's day, not to the next UTC day.

    >>> protocol_day(0.0)
    '19700101'
    >>> protocol_day(datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc).timestamp(), "America/Sao_Paulo")
    '20261206'
    """
    return datetime.fromtimestamp(at, timezone.utc).astimezone(ZoneInfo(zone)).strftime("%Y%m%d")


def protocol_number(day: str, sequence: int) -> str:
    """The protocol: the day, then the day's sequence zero-padded.

    >>> protocol_number("20261206", 42)
    '20261206000042'
    """
    return f"{day}{sequence:0{SEQUENCE_DIGITS}d}"


def may_qualify(role: str, username: str, handled_by: str | None, supervising: frozenset[str]) -> bool:
    """Only the agent who handled the attendance, or a supervisor/admin of its domain.

    >>> may_qualify("agent", "ana", "ana", frozenset({"supervisor"}))
    True
    >>> may_qualify("agent", "bia", "ana", frozenset({"supervisor"}))
    False
    >>> may_qualify("supervisor", "carla", "ana", frozenset({"supervisor"}))
    True
    """
    return role in supervising or (handled_by is not None and handled_by == username)
