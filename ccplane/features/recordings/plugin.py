"""Recordings: MixMonitor started by the dialplan (survives ccplane), files
finished by Asterisk, moved into ``recordings.dir`` by ccplane."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ...plugin import Feature, Wiring
from ... import scheduler as jobs
from ..calls import events as ev
from .http import api
from .services import USER_EVENT, RecordingService


def setup(w: Wiring) -> None:
    core = w.core
    recordings = w.provide("recordings", RecordingService(
        core.sessions, core.ami, core.scheduler, w.target.monitor_dir,
        Path(w.settings.recordings.dir).expanduser().resolve(), w.settings.recordings.poll_interval))
    core.steps.handle(USER_EVENT, recordings.on_report)  # live reports; its own AstDB family is replayed at resync
    core.bus.subscribe(ev.LegAnswered, recordings.on_leg_answered)
    core.bus.subscribe(ev.LegEnded, recordings.on_leg_ended)
    core.bus.subscribe(ev.CallTransferred, recordings.on_transferred)
    core.attendances.started_listeners.append(recordings.protocol_known)  # protocols on recordings

    async def start() -> None:
        jobs.provide("recordings", recordings)
        await recordings.start()

    async def stop() -> None:
        jobs.withdraw("recordings", recordings)
        await recordings.stop()
    w.on_start(start)
    w.on_stop("recordings", stop)
    w.on_resync(recordings.resync)
    w.after_start(recordings.ensure_purge_jobs)


async def contribute(_s: AsyncSession, model: dict[str, Any]) -> None:
    """The extensions whose calls are recorded, per domain (the dialplan's
    ``ccplane-rec-ext-<domain>``); queues and routes carry their own ``record``."""
    for d in model["domains"]:
        d["record_extensions"] = [e["number"] for e in d.get("extensions", ()) if e.get("record")]


FEATURE = Feature("recordings", setup, api=api, render=contribute)
