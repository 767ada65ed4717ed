"""What our dialplan reports (IVR steps, blacklist rejections, alert call and
recording links), stored in the order Asterisk sent it: one worker, so a
caller's path keeps its order.

Nothing is lost while ccplane is down or its AMI link is: before each report
the dialplan also writes it into Asterisk's AstDB (family ``ccplane-outbox``,
key ``<uniqueid>-<tag>``, value ``<UserEvent>|Field=urlencoded|…|At=<epoch>``).
A report stored from its live UserEvent is deleted from the outbox; after every
AMI (re)connect what is left there is replayed with its original time. Storing
is idempotent (unique keys), so a report seen both ways is kept once."""
from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timezone
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..aio import cancel_and_wait
from ..asterisk.ami import AmiClient
from ..asterisk.events import AmiEvent
from ..errors import AsteriskError
from ..plugin import Feature

if TYPE_CHECKING:
    from ..plugin import Wiring
    from .alerts.services import AlertService
    from .ivr.services import IvrService
    from .routes.services import RouteService

log = logging.getLogger("ccplane.steps")

OUTBOX = "ccplane-outbox"
REPORTS = ("CcplaneIvr", "CcplaneBlacklisted", "CcplaneAlertCall", "CcplaneAlertRecording")
JOURNEY_RECORD = "CcplaneJourney"  # a call's end, left by its hangup handler (features/calls)


def parse_outbox(key: str, value: str, extra: Collection[str] = ()) -> dict[str, str] | None:
    """An outbox entry as the fields of the UserEvent it stands for (plus
    ``Outbox``, and ``At`` in epoch seconds); None when it is not ours.
    ``extra``: the reports later features registered (``StepRecorder.handle``)."""
    name, *pairs = value.split("|")
    if name not in REPORTS and name not in extra:
        return None
    fields = {"UserEvent": name, "Outbox": key.rsplit("/", 1)[-1]}
    for pair in pairs:
        field, sep, raw = pair.partition("=")
        if sep and field:
            fields[field] = unquote(raw)
    return fields


def outbox_order(fields: dict[str, str]) -> tuple[int, str, int]:
    """Replay order: time, then call, then the step number within the call."""
    at = fields.get("At", "")
    seq = re.search(r"-iv(\d+)$", fields.get("Outbox", ""))
    return (int(at) if at.isdigit() else 0, fields.get("Uniqueid", ""), int(seq.group(1)) if seq else 0)


class StepRecorder:
    def __init__(self, ami: AmiClient, routes: "RouteService", ivrs: "IvrService") -> None:
        self.ami = ami
        self.routes, self.ivrs = routes, ivrs
        self.alerts: "AlertService | None" = None
        # reports of features listed after this one: UserEvent name -> its handler (fields)
        self.handlers: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {}
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.worker: asyncio.Task[None] | None = None
        self.stopping = False

    def handle(self, name: str, handler: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        """Store a later feature's dialplan report (live or replayed from the
        outbox, in order, idempotently) through ``handler``."""
        self.handlers[name] = handler

    def put(self, event: AmiEvent) -> None:
        name = event.fields.get("UserEvent")
        if name in REPORTS or name in self.handlers:
            self.queue.put_nowait(dict(event.fields))

    async def start(self) -> None:
        self.stopping = False
        self.worker = asyncio.create_task(self._run(), name="step-recorder")

    async def stop(self) -> None:
        self.stopping = True
        self.queue.put_nowait({})  # wakes the worker
        await cancel_and_wait([self.worker], "step recorder")

    async def replay_outbox(self) -> int:
        """Queue what the dialplan reported while we were not listening."""
        items = await self.ami.action({"Action": "DBGetTree", "Family": OUTBOX})
        entries = []
        for item in items:
            if item.get("Event") != "DBGetTreeResponse":
                continue
            if str(item.get("Val", "")).startswith(JOURNEY_RECORD + "|"):
                continue  # the calls feature's (CallService.resync)
            fields = parse_outbox(str(item.get("Key", "")), str(item.get("Val", "")), self.handlers)
            if fields is None:
                log.warning("steps.outbox_unknown key=%s", item.get("Key"))
                continue
            entries.append(fields)
        for fields in sorted(entries, key=outbox_order):  # AstDB sorts "-iv10" before "-iv2"
            self.queue.put_nowait(fields)
        count = len(entries)
        if count:
            log.info("steps.outbox_replay entries=%d", count)
        return count

    async def _run(self) -> None:
        while not self.stopping:
            fields = await self.queue.get()
            if not fields:
                continue
            try:
                await self._record(fields)
            except Exception:  # noqa: BLE001 - one bad report must not stop the recorder
                log.exception("steps.record_failed")
                continue
            key = fields.get("Outbox")
            if key:
                try:
                    await self.ami.action({"Action": "DBDel", "Family": OUTBOX, "Key": str(key)})
                except AsteriskError as exc:  # left there: the next replay stores it once more, idempotently
                    log.warning("steps.outbox_delete_failed key=%s: %s", key, exc)

    async def _record(self, f: dict[str, Any]) -> None:
        uniqueid = str(f.get("Uniqueid") or "")
        at = _at(f.get("At"))
        kind = f.get("UserEvent")
        if kind in self.handlers:
            await self.handlers[str(kind)](f)
        elif kind == "CcplaneIvr":
            await self.ivrs.record_step(str(f.get("Domain")), uniqueid, str(f.get("Tree")), str(f.get("Node")),
                                        str(f.get("Step")), str(f.get("Digits") or "") or None,
                                        ref=str(f.get("Outbox") or "") or None, at=at)
        elif kind == "CcplaneAlertRecording":
            alert = str(f.get("Alert") or "")
            if self.alerts is not None and alert.isdigit():
                await self.alerts.link_recording(str(f.get("Domain")), int(alert), str(f.get("File")), at=at)
        elif kind == "CcplaneAlertCall":
            alert = str(f.get("Alert") or "")
            if self.alerts is not None and alert.isdigit():
                await self.alerts.link_person_call(str(f.get("Domain")), int(alert), uniqueid)
        else:
            await self.routes.record_rejection(str(f.get("Domain")), str(f.get("Caller")), str(f.get("Did")),
                                               uniqueid or None, at=at)


def _at(value: object) -> datetime | None:
    """The dialplan's ${EPOCH} of a replayed report; live events carry none."""
    try:
        return datetime.fromtimestamp(int(str(value)), timezone.utc) if value not in (None, "") else None
    except (ValueError, OverflowError, OSError):
        return None


def _setup(w: "Wiring") -> None:
    core = w.core
    recorder = w.provide("steps", StepRecorder(core.ami, core.routes, core.ivrs))
    recorder.alerts = core.alerts
    core.ami.on_event(recorder.put, names=("UserEvent",))
    w.on_start(recorder.start)
    w.on_stop("step recorder", recorder.stop)

    async def replay() -> None:
        count = await recorder.replay_outbox()
        if count:
            log.info("steps.replayed outbox=%d", count)
    w.on_resync(replay)


FEATURE = Feature("steps", _setup)
