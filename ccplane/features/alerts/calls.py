"""Yellow/red alerts become calls waiting in the domain's monitoring queue,
ahead of ordinary calls (QUEUE_PRIO), announced to the attendant in pt-BR."""
from __future__ import annotations

import logging
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from ...asterisk.ami import AmiClient
from ...tools import run_tool
from ..queues.domain import asterisk_queue_name
from ..routes.domain import caller_patterns
from . import domain as rules
from .models import Alert

log = logging.getLogger("ccplane.alerts")
_UNSAFE = re.compile(r"[^\w .'-]", re.UNICODE)
WAIT_MS = 60 * 60 * 1000  # an alert call may wait an hour for an attendant


async def speak(text: str, target: Path) -> bool:
    """espeak-ng (pt-br) then sox to 8 kHz mono WAV; False when the tools are missing or fail."""
    espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
    if not espeak or not sox:
        log.warning("alert.tts_unavailable: install espeak-ng and sox for spoken alerts")
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "tts.wav"
        for argv in ([espeak, "-v", "pt-br", "-s", "150", "-w", str(raw), text],
                     [sox, str(raw), "-r", "8000", "-c", "1", "-b", "16", str(target)]):
            code, err = await run_tool(*argv)
            if code != 0:
                log.warning("alert.tts_failed %s: %s", Path(argv[0]).name, err.strip()[-200:])
                return False
    target.chmod(0o644)
    return True


def phone_forms(phone: str) -> list[str]:
    """The caller numbers a person's phone arrives as (see routes/domain.py)."""
    return [p for p in caller_patterns(phone) if not p.startswith("_")]


class AlertCaller:
    def __init__(self, ami: AmiClient, sounds_dir: Path | None) -> None:
        from .announce import Announcer  # announce.py uses speak() from here
        from .preempt import Preemptor
        self.ami = ami
        self.sounds_dir = sounds_dir
        self.announcer = Announcer(sounds_dir)
        self.preemptor = Preemptor(ami)

    @staticmethod
    def new_call_id(alert: Alert) -> str:
        """The id of the half that waits in the queue (``<base>-queue``); the other
        half is ``<base>-person``. Neither id may be a prefix of the other:
        Asterisk checks uniqueness by prefix."""
        return f"alert{alert.id}-{secrets.token_hex(4)}-queue"

    async def __call__(self, slug: str, alert: Alert, queue: str, call_id: str | None = None) -> str:
        # The announcement is rendered ahead (announce.py): nothing is spoken here.
        announce = self.announcer.sounds_for(alert.level, alert.person_id)
        call_id = call_id or self.new_call_id(alert)
        base = call_id.removesuffix("-queue")
        caller_name = _UNSAFE.sub("", alert.person_name)[:40]
        # The ;2 half waits in the queue as the person (phone + name). The ;1 half
        # is answered when an attendant takes the call; it then records and dials
        # the person through the domain's outbound routes (ccplane-alert-person).
        await self._originate(slug, alert, queue, base, call_id, caller_name, announce)
        log.info("alert.call_placed", extra={"alert": alert.id, "call": call_id, "domain": slug})
        return call_id

    async def _originate(self, slug: str, alert: Alert, queue: str, base: str, call_id: str,
                         caller_name: str, announce: str) -> None:
        self.preemptor.expect(call_id, rules.queue_priority(alert.level, alert.id))
        await self.ami.action({
            "Action": "Originate", "Channel": "Local/s@ccplane-alert-queue", "Context": "ccplane-alert-person",
            "Exten": "s", "Priority": "1", "Timeout": str(WAIT_MS),
            "CallerID": f'"{caller_name}" <{alert.person_phone}>', "Async": "true",
            "ChannelId": f"{base}-person", "OtherChannelId": call_id,
            "Variable": [f"__CCPLANE_ALERT={alert.id}", f"__CCPLANE_DOMAIN={slug}",
                         f"CCPLANE_PERSON_NUMBER={alert.person_phone}",
                         f"__CCPLANE_PRIO={rules.queue_priority(alert.level, alert.id)}",
                         f"__CCPLANE_ALERT_QUEUE={asterisk_queue_name(slug, queue)}",
                         f"__CCPLANE_ANNOUNCE={announce}"]})

    async def mark_open(self, slug: str, alert: Alert) -> None:
        """Let the dialplan recognise the person's own call (AstDB, so it works
        while ccplane is down): the monitoring queue gives it the alert's priority."""
        value = f"{alert.id}:{rules.queue_priority(alert.level, alert.id)}"
        for form in phone_forms(alert.person_phone):
            await self.ami.action({"Action": "DBPut", "Family": f"ccplane-alert/{slug}", "Key": form,
                                   "Val": value})

    async def hangup(self, call_id: str) -> None:
        """Withdraw a call placed for an alert that was then refused (token revoked
        meanwhile, or a duplicate): the ;2 half waits in the queue under this id."""
        await self.ami.action({"Action": "Hangup", "Channel": call_id, "Cause": "16"})

    async def unmark(self, slug: str, phone: str) -> None:
        for form in phone_forms(phone):
            try:
                await self.ami.action({"Action": "DBDel", "Family": f"ccplane-alert/{slug}", "Key": form})
            except Exception:  # noqa: BLE001 - already gone
                pass
