"""Protocol numbers: ``YYYYMMDD`` (the UTC day of the agent's answer) followed by
the day's sequence in the domain, zero-padded to six digits, so that protocols
sort as text in the order they were handed out."""
from __future__ import annotations

from datetime import datetime, timezone

SEQUENCE_DIGITS = 6


def protocol_day(at: float) -> str:
    """>>> protocol_day(0.0)
    '19700101'
    """
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y%m%d")


def protocol_number(day: str, sequence: int) -> str:
    """>>> protocol_number("20261206", 42)
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
