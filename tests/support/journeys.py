"""A call's journey through the API, for the tests that follow real calls."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.support.telephony import Scene
from tests.support.waiting import eventually


def ts(value: str | None) -> float:
    """An API time (ISO-8601 with offset) as epoch seconds."""
    assert value is not None
    return datetime.fromisoformat(value).timestamp()


async def journey(scene: Scene, call_id: str) -> dict[str, Any]:
    """The call's journey once it ended."""
    async def ended() -> dict[str, Any] | None:
        status, body = await scene.root.call("GET", f"/domains/{scene.domain}/calls/{call_id}")
        return body if status == 200 and body["ended_at"] else None
    return await eventually(ended, timeout=15, what=f"the journey of {call_id} ended")
