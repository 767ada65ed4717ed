"""Simulated agents: each one a real SIP phone (baresip) registered on its
extension and logged into queues through the API. They answer after a human-like
ring delay, sometimes miss a call (ccplane's max-no-answer then pauses them),
talk a while and hang up, now and then blind-transfer a call to the other queue
or book a callback for the caller through the API, take short pauses, and come
back from automatic ones."""
from __future__ import annotations

import asyncio
import logging
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from .baresip import Control, Phone
from .client import Api, ApiError

log = logging.getLogger("ccplane.demo.agents")
_NUMBER = re.compile(r"sip:\+?(\d+)@")


@dataclass
class Behaviour:
    ring_delay: tuple[float, float] = (1.0, 3.5)   # seconds before answering
    miss_rate: float = 0.08                        # offers left ringing
    talk: tuple[float, float] = (4.0, 12.0)        # seconds of conversation
    pause_rate: float = 0.04                       # chance, every 5 s idle, of a short pause
    pause_length: tuple[float, float] = (6.0, 12.0)
    back_from_autopause: float = 6.0               # seconds before unpausing an automatic pause
    transfer_rate: float = 0.10                    # answered calls blind-transferred to the other queue
    transfer_after: tuple[float, float] = (2.0, 4.0)  # seconds of talk before transferring
    schedule_rate: float = 0.05                    # calls after which the agent schedules a callback
    schedule_in: float = 2 * 3600.0                # ... this many seconds later ("call me back later")


@dataclass
class SimAgent:
    username: str
    extension: str
    queues: list[str]
    api: Api                      # the agent's own token
    domain: str
    registrar_port: int
    secret: str
    rng: random.Random
    behaviour: Behaviour = field(default_factory=Behaviour)
    on_answered: Callable[[str, str], None] = lambda agent, number: None
    may_transfer: Callable[[str], str | None] = lambda number: None      # the queue to transfer to
    on_transferred: Callable[[str, str | None], None] = lambda number, queue: None
    on_scheduled: Callable[[str, bool], None] = lambda number, accepted: None
    phone: Phone | None = None
    control: Control | None = None
    answered: int = 0
    missed: int = 0
    pauses: int = 0
    transfers: int = 0
    scheduled: int = 0
    _tasks: list["asyncio.Task[None]"] = field(default_factory=list)
    _in_call: bool = False
    _hangup: "asyncio.Task[None] | None" = None

    @property
    def base(self) -> str:
        return f"/domains/{self.domain}/agents/{self.username}"

    async def start(self) -> None:
        self.phone = Phone(f"{self.domain}-{self.extension}", self.secret, self.registrar_port,
                           answer="manual").start()
        self.control = await Control(self.phone).open()
        self._tasks.append(asyncio.create_task(self._events()))
        for _ in range(200):  # registered within 20 s
            ext = await self.api.ok("GET", f"/domains/{self.domain}/extensions/{self.extension}")
            if ext.get("registered"):
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError(f"extension {self.extension} did not register; baresip said:\n"
                               f"{self.phone.output()[-1500:]}")
        await self._login()
        self._tasks.append(asyncio.create_task(self._habits()))

    async def _login(self) -> None:
        body = {"queues": self.queues, "extension": self.extension}
        status, data = await self.api.call("POST", f"{self.base}/session", body)
        if status == 409:  # still logged in from an earlier run: log out, in again
            await self.api.call("DELETE", f"{self.base}/session")
            status, data = await self.api.call("POST", f"{self.base}/session", body)
        if status != 201:
            raise ApiError(status, data, f"login of {self.username}")
        await self.api.call("POST", f"{self.base}/unpause")

    async def _events(self) -> None:
        assert self.control is not None
        while True:
            event = await self.control.events.get()
            kind = event.get("type")
            try:
                if kind == "CALL_INCOMING":
                    await self._ringing(event)
                elif kind == "CALL_ESTABLISHED":
                    self._established(event)
                elif kind == "CALL_CLOSED":
                    self._in_call = False
                    if self._hangup is not None:
                        self._hangup.cancel()
                        self._hangup = None
                elif kind == "CONTROL_CLOSED":
                    return
            except Exception:  # noqa: BLE001 - one odd event must not stop the agent
                log.exception("agent %s: event %s", self.username, kind)

    async def _ringing(self, event: dict[str, Any]) -> None:
        assert self.control is not None
        if self.rng.random() < self.behaviour.miss_rate:
            self.missed += 1  # let it ring: the queue's ring timeout takes it away
            return
        await asyncio.sleep(self.rng.uniform(*self.behaviour.ring_delay))
        await self.control.command("accept")

    def _established(self, event: dict[str, Any]) -> None:
        self._in_call = True
        self.answered += 1
        m = _NUMBER.search(str(event.get("peeruri") or event.get("param") or ""))
        number = m.group(1) if m else ""
        self.on_answered(self.username, number)
        talk = self.rng.uniform(*self.behaviour.talk)
        if self.rng.random() < self.behaviour.transfer_rate and (queue := self.may_transfer(number)):
            seconds = self.rng.uniform(*self.behaviour.transfer_after)
            self._hangup = asyncio.create_task(self._transfer_after(seconds, number, queue, talk))
        else:
            # (may_transfer: a caller's call of the generator's, not yet handed over)
            schedule = self.rng.random() < self.behaviour.schedule_rate and self.may_transfer(number) is not None
            self._hangup = asyncio.create_task(self._hang_up_after(talk, number if schedule else None))

    async def _hang_up_after(self, seconds: float, schedule_for: str | None = None) -> None:
        await asyncio.sleep(seconds)
        assert self.control is not None
        if schedule_for is not None:  # the customer asked to be called back later: the agent books it
            me = asyncio.current_task()
            if me is not None and self._hangup is me:  # the phone's call closing must not cancel it now
                self._hangup = None
                self._tasks.append(me)
        await self.control.command("hangup")
        if schedule_for is not None:
            await self._schedule_callback(schedule_for)

    async def _schedule_callback(self, number: str) -> None:
        at = datetime.now(timezone.utc) + timedelta(seconds=self.behaviour.schedule_in)
        body = {"number": number, "at": at.isoformat(), "note": "Cliente pediu retorno mais tarde"}
        try:
            status, data = await self.api.call("POST", f"/domains/{self.domain}/callbacks", body)
        except OSError as exc:
            status, data = 0, str(exc)
        if status == 201:
            self.scheduled += 1
        else:
            log.warning("agent %s: callback for %s refused: %s %s", self.username, number, status, data)
        self.on_scheduled(number, status == 201)

    async def _transfer_after(self, seconds: float, number: str, queue: str, talk: float) -> None:
        """Talk ``seconds``, then blind-transfer the call from ``number`` to ``queue``
        through the API (the call found among the active calls); refused, or not found,
        the agent talks on and hangs up as usual."""
        await asyncio.sleep(seconds)
        # from here on the phone's call closing (the transfer done) must not cancel this task
        me = asyncio.current_task()
        if me is not None and self._hangup is me:
            self._hangup = None
            self._tasks.append(me)
        calls = f"/domains/{self.domain}/calls"
        accepted = None
        try:
            active = (await self.api.ok("GET", f"{calls}?limit=500"))["items"]
            mine = [c for c in active if c.get("agent") == self.username and c.get("caller") == number]
            if mine:
                status, data = await self.api.call("POST", f"{calls}/{mine[0]['id']}/transfer",
                                                   {"mode": "blind", "to": queue})
                if status in (200, 201, 202):
                    accepted = queue
                else:
                    log.warning("agent %s: transfer to %s refused: %s %s", self.username, queue, status, data)
            else:
                log.warning("agent %s: no active call from %s to transfer", self.username, number)
        except (ApiError, OSError) as exc:
            log.warning("agent %s: transfer: %s", self.username, exc)
        self.on_transferred(number, accepted)
        if accepted is not None:
            self.transfers += 1
            return  # Asterisk takes the caller away: the phone's call closes
        if self._in_call:  # cancelled, as usual, if the caller hangs up first
            self._hangup = asyncio.create_task(self._hang_up_after(max(0.0, talk - seconds)))

    async def _habits(self) -> None:
        while True:
            await asyncio.sleep(5)
            try:
                me = await self.api.ok("GET", self.base)
                if me.get("state") == "paused" and me.get("pause_reason") and self._is_auto(me):
                    await asyncio.sleep(self.behaviour.back_from_autopause)
                    await self.api.call("POST", f"{self.base}/unpause")
                elif me.get("state") == "available" and self.rng.random() < self.behaviour.pause_rate:
                    self.pauses += 1
                    await self.api.ok("POST", f"{self.base}/pause", {"reason": "Café"})
                    await asyncio.sleep(self.rng.uniform(*self.behaviour.pause_length))
                    await self.api.call("POST", f"{self.base}/unpause")
            except (ApiError, OSError) as exc:
                log.warning("agent %s: %s", self.username, exc)

    @staticmethod
    def _is_auto(me: dict[str, Any]) -> bool:
        return str(me.get("pause_reason")) != "Café"

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._hangup is not None:
            self._hangup.cancel()
        if self.control is not None:
            await self.control.close()
        if self.phone is not None:
            await asyncio.to_thread(self.phone.close)

    def summary(self) -> dict[str, int]:
        return {"answered": self.answered, "missed": self.missed, "pauses": self.pauses,
                "transfers": self.transfers, "callbacks_scheduled": self.scheduled}
