"""Pure rules of supervision: ChanSpy's options per mode, and the thresholds'
direction (a wait grows worse upwards, a service level downwards)."""
from __future__ import annotations

from typing import Literal

Mode = Literal["listen", "whisper", "barge"]
Figure = Literal["longest_wait", "service_level", "waiting"]

# ChanSpy (Asterisk 22): q — no beep nor channel name when spying starts; w — whisper
# to the spied-on channel (the agent) only; B — barge: talk to both parties; E — end
# when the spied-on channel hangs up; S — end when no channel is left to spy on.
SPY_OPTIONS: dict[str, str] = {"listen": "qES", "whisper": "qwES", "barge": "qBES"}

# Higher is worse for every figure but the service level (a percentage: lower is worse).
LOWER_IS_WORSE = frozenset({"service_level"})


def spy_data(agent_channel: str, mode: str) -> str:
    """ChanSpy's application data: the agent's channel (its full name as the prefix) and the options.

    >>> spy_data("PJSIP/acme-7601-0000002a", "whisper")
    'PJSIP/acme-7601-0000002a,qwES'
    """
    return f"{agent_channel},{SPY_OPTIONS[mode]}"


def level(figure: str, value: float | None, yellow: float, red: float) -> str:
    """``ok``, ``yellow`` or ``red`` for one figure's value.

    >>> level("longest_wait", 45, 30, 60), level("longest_wait", 61, 30, 60), level("waiting", 0, 3, 5)
    ('yellow', 'red', 'ok')
    >>> level("service_level", 70, 80, 60), level("service_level", 59, 80, 60), level("service_level", None, 80, 60)
    ('yellow', 'red', 'ok')
    """
    if value is None:
        return "ok"
    if figure in LOWER_IS_WORSE:
        return "red" if value < red else "yellow" if value < yellow else "ok"
    return "red" if value >= red else "yellow" if value >= yellow else "ok"


def ordered(figure: str, yellow: float, red: float) -> bool:
    """Is red past yellow in the figure's worse direction (or the same)?"""
    return red <= yellow if figure in LOWER_IS_WORSE else red >= yellow
