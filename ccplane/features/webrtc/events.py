"""The webrtc feature's bus events."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CallQualityReported:
    """An agent's phone reported its call quality: the leg's figures as kept (``QualityOut``, JSON)."""
    domain: str
    call_id: str
    agent: str
    view: dict[str, Any]
