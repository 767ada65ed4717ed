"""A recording takes its attendance's protocol however the two are ordered, and the
protocol UPDATE runs only for agent legs with a recording stored before their
attendance: not once per attendance batch. A new process (restart) finds those legs in
the database at start. Real database (SQLite, then PostgreSQL on the second pass)."""
from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from ccplane.features.recordings.domain import RecordingReport
from ccplane.features.recordings.models import Recording
from ccplane.features.recordings.services import RecordingService


@contextmanager
def updates_of_recordings(services: Any) -> Iterator[list[Any]]:
    seen: list[Any] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE RECORDINGS"):
            seen.append(params)
    engine = services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _report(domain: str, leg: str) -> RecordingReport:
    return RecordingReport(file=f"{domain}-{leg}.wav", kind="attendance", domain=domain, call_id=f"call-{leg}",
                           queue_key=None, agent_uniqueid=leg, channel=None, at=time.time())


async def _protocol(services: Any, leg: str) -> str | None:
    async with services.sessions() as s:
        return await s.scalar(select(Recording.protocol).where(Recording.agent_uniqueid == leg))


async def _settled(rec: RecordingService) -> None:
    for _ in range(100):
        task = rec._protocol_task
        if task is None or task.done():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the protocol writer did not finish")


async def test_protocols_written_only_where_a_recording_waits(services: Any, domain: str, tmp_path: Path) -> None:
    rec: RecordingService = services.recordings
    early, late, none = (f"{secrets.token_hex(4)}.{n}" for n in range(3))
    await rec.store_report(_report(domain, early))  # recorded before its attendance: no protocol yet
    assert await _protocol(services, early) is None
    with updates_of_recordings(services) as seen:
        rec.protocol_known(none, "20261207-000001")  # an attendance with no recording
        rec.protocol_known(early, "20261207-000002")
        await _settled(rec)
        rec.protocol_known(late, "20261207-000003")  # its recording comes after
        await _settled(rec)
    assert await _protocol(services, early) == "20261207-000002"
    assert len(seen) == 1, seen  # one UPDATE, for the recording that waited
    await rec.store_report(_report(domain, late))  # takes the protocol known in memory
    assert await _protocol(services, late) == "20261207-000003"

    # a new process finds the recordings still waiting for their protocol
    waiting = f"{secrets.token_hex(4)}.w"
    await rec.store_report(_report(domain, waiting))
    fresh = RecordingService(services.sessions, services.ami, services.scheduler, None, tmp_path / "store")
    await fresh.start()
    try:
        fresh.protocol_known(waiting, "20261207-000004")
        await _settled(fresh)
    finally:
        await fresh.stop()
    assert await _protocol(services, waiting) == "20261207-000004"
