"""The traffic generator: real calls from the carrier sandbox into the demo's
DIDs (IVR choices pressed as real DTMF, callers who give up), and alerts of each
level posted through the alert app's API. It counts what it did, so its figures
can be checked against ccplane's journeys and reports (alerts: the new ones; a
post ccplane answers as a repeat of the person's still-new alert of that level,
a stuck button, is counted apart).

Profiles: ``steady`` (calls at the rate, an alert every 15 s), ``spike`` (three
times the rate in the middle third of the run), ``alert-storm`` (half the call
rate, an alert every second)."""
from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..asterisk.ami import AmiClient
from ..asterisk.events import AmiEvent
from ..asterisk.sandbox import SandboxState
from .client import Api, ApiError
from .provision import (CALLBACK_KEY, DID_IVR, DID_SUPPORT, DOMAIN, PERSON_CPFS, SALES, SUPPORT, UNKNOWN_CPF,
                        Credentials)

log = logging.getLogger("ccplane.demo.traffic")
PROFILES = ("steady", "spike", "alert-storm")
LEVELS = ("green", "yellow", "red")
# Callers who ask for a callback choose support in the IVR (a quarter of the calls): the IVR
# answers the call, so their DTMF reaches ccplane while they wait (a call straight to the
# queue is answered only by the agent: the carrier's dialplan starts then).
CALLBACK_SHARE = 0.32  # of the IVR's support callers: ~8 % of the calls
CALLBACK_AFTER = 0.8   # seconds after the IVR choice before pressing the key (before an agent can answer)


@dataclass
class PlacedCall:
    number: str
    did: str
    queue: str
    digits: str
    channel: str
    placed_at: float
    answered_by: str | None = None   # the last agent who answered it
    transferred_to: str | None = None  # the queue an agent transferred it to (accepted by the API)
    callback: bool = False           # the caller pressed the callback key and confirmed
    ended: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Generator:
    carrier: SandboxState
    customer_sip_port: int       # ccplane's Asterisk, as the carrier sees it
    api: Api                     # base URL only (the app logs in with each person's CPF)
    monitor: Api                 # a monitoring attendant: acknowledges some alerts
    creds: Credentials
    rate: float                  # calls per minute
    profile: str
    seed: int
    rng: random.Random = field(init=False)
    calls: dict[str, PlacedCall] = field(default_factory=dict)
    by_channel: dict[str, PlacedCall] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=lambda: {level: 0 for level in LEVELS})  # new alerts
    alert_posts: dict[str, int] = field(default_factory=lambda: {level: 0 for level in LEVELS})
    alerts_repeated: int = 0     # posts ccplane took as a repeat of the person's open alert (same level)
    alerts_acked: int = 0
    transfers_refused: int = 0
    scheduled: list[str] = field(default_factory=list)  # numbers an agent booked a callback for
    schedules_refused: int = 0
    failures: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    _ami: AmiClient | None = None
    _tasks: set["asyncio.Task[None]"] = field(default_factory=set)
    _app_tokens: dict[str, str] = field(default_factory=dict)
    _levels: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # -- what the agents tell us -------------------------------------------------------
    def answered(self, agent: str, number: str) -> None:
        """An agent's phone answered a call from ``number``: the first agent, or the
        one the call reached after a transfer. A callback's call (the number of a
        caller who asked for it, whose own call has ended) is not the caller's call."""
        call = self.calls.get(number)
        if call is None or call.callback or call.ended.is_set():
            return
        if call.answered_by is None or call.transferred_to is not None:
            call.answered_by = agent

    def may_transfer(self, number: str) -> str | None:
        """The queue an agent talking to ``number`` may transfer it to (the other demo
        queue), or None: a call is transferred once at most, a callback's call never."""
        call = self.calls.get(number)
        if call is None or call.callback or call.ended.is_set() or call.transferred_to is not None:
            return None
        return SALES if call.queue == SUPPORT else SUPPORT

    def transferred(self, number: str, queue: str | None) -> None:
        """The API accepted (``queue``) or refused (None) an agent's transfer."""
        call = self.calls.get(number)
        if call is None:
            return
        if queue is None:
            self.transfers_refused += 1
        else:
            call.transferred_to = call.queue = queue

    def scheduled_callback(self, number: str, accepted: bool) -> None:
        """An agent booked (or the API refused) a callback for the caller ``number``."""
        if accepted:
            self.scheduled.append(number)
        else:
            self.schedules_refused += 1

    # -- running -----------------------------------------------------------------------
    async def start(self) -> None:
        c = self.carrier
        self._ami = AmiClient("127.0.0.1", c.ami_port, c.ami_username, c.ami_secret)
        self._ami.on_event(self._carrier_event, names=("Hangup",))
        await self._ami.start()
        await self._ami.wait_connected(15)

    async def _carrier_event(self, event: AmiEvent) -> None:
        call = self.by_channel.get(str(event.fields.get("Uniqueid")))
        if call is not None:
            call.ended.set()

    async def run(self, duration: float, stop: asyncio.Event) -> None:
        """Place calls and post alerts until ``duration`` seconds (0: no end) or ``stop``."""
        self.started_at = datetime.now(timezone.utc)
        t0 = time.monotonic()
        next_call = t0 + self.rng.expovariate(self._rate(0, duration) / 60) if self.rate > 0 else float("inf")
        alert_every = 1.0 if self.profile == "alert-storm" else 15.0
        next_alert = t0 + min(3.0, alert_every)
        while not stop.is_set():
            now = time.monotonic()
            if duration and now - t0 >= duration:
                break
            if now >= next_call:
                self._spawn(self._place_call())
                rate = self._rate(now - t0, duration)
                next_call = now + self.rng.expovariate(rate / 60)
            if now >= next_alert:
                self._spawn(self._post_alert())
                next_alert = now + alert_every
            wake = min(next_call, next_alert, t0 + duration if duration else float("inf"))
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, wake - time.monotonic()))
            except asyncio.TimeoutError:
                pass

    def _rate(self, elapsed: float, duration: float) -> float:
        if self.profile == "alert-storm":
            return max(self.rate / 2, 0.1)
        if self.profile == "spike" and duration and duration / 3 <= elapsed < 2 * duration / 3:
            return self.rate * 3
        return self.rate

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float) -> None:
        """Wait until every call placed has ended (at most ``timeout`` seconds)."""
        pending = [c.ended.wait() for c in self.calls.values() if not c.ended.is_set()]
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        if pending:
            await asyncio.wait([asyncio.ensure_future(p) for p in pending], timeout=timeout)
        self.ended_at = datetime.now(timezone.utc)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._ami is not None:
            await self._ami.stop()

    # -- one call ----------------------------------------------------------------------
    def _scenario(self) -> tuple[str, str, str, str]:
        """(did, first keys, more keys, queue it ends in)."""
        roll = self.rng.random()
        if roll < 0.40:
            return DID_IVR, "1", "", SALES
        if roll < 0.65:
            return DID_IVR, "2", "", SUPPORT
        if roll < 0.80:
            known = self.rng.random() < 0.7
            cpf = self.rng.choice(PERSON_CPFS) if known else UNKNOWN_CPF
            return DID_IVR, "3", cpf + "#", SUPPORT if known else SALES
        return DID_SUPPORT, "", "", SUPPORT

    def _caller(self, did: str, keys: str, more: str) -> tuple[float, bool]:
        """(seconds the caller stays on the line, whether it asks for a callback)."""
        menu_time = (1.5 + 0.4 if keys else 0) + (1.5 + 0.3 * len(more) if more else 0)
        impatient = self.rng.random() < 0.2  # gives up after a second or two in queue
        patience = menu_time + (self.rng.uniform(0.5, 2.5) if impatient else self.rng.uniform(15, 30))
        callback = not impatient and (did, keys) == (DID_IVR, "2") and self.rng.random() < CALLBACK_SHARE
        if callback:  # presses the key, confirms, hears the confirmation (ccplane hangs up)
            patience = 12.0
        return patience, callback

    async def _place_call(self) -> None:
        assert self._ami is not None
        did, keys, more, queue = self._scenario()
        number = f"119{self.seed % 100:02d}{len(self.calls) + 1:06d}"
        patience, callback = self._caller(did, keys, more)
        channel = "demo-" + secrets.token_hex(6)
        call = PlacedCall(number, did, queue, keys + more, channel, time.monotonic(), callback=callback)
        self.calls[number] = call
        self.by_channel[channel] = call
        try:
            await self._ami.action({
                "Action": "Originate", "Channel": f"PJSIP/customer/sip:{did}@127.0.0.1:{self.customer_sip_port}",
                "Context": "demo-caller", "Exten": "s", "Priority": "1", "Async": "true",
                "CallerID": f"Cliente {number[-4:]} <{number}>", "ChannelId": channel,
                "Timeout": str(int((patience + 2) * 1000)),
                "Variable": f"DIGITS={keys},MORE_DIGITS={more},PATIENCE={patience:.1f},"
                            f"CALLBACK_KEY={CALLBACK_KEY if callback else ''},CALLBACK_AFTER={CALLBACK_AFTER}"})
        except Exception as exc:  # noqa: BLE001 - counted, reported
            self.failures += 1
            call.ended.set()
            log.warning("originate to %s failed: %s", did, exc)

    # -- one alert ---------------------------------------------------------------------
    async def _post_alert(self) -> None:
        if not self._levels:  # every level in each round of three, in a random order
            self._levels = self.rng.sample(LEVELS, len(LEVELS))
        level = self._levels.pop()
        cpf = self.rng.choice(PERSON_CPFS)
        location = None if self.rng.random() < 0.25 else {
            "lat": -23.55 + self.rng.uniform(-0.1, 0.1), "lon": -46.63 + self.rng.uniform(-0.1, 0.1),
            "accuracy": 20}
        ack = self.rng.random() < 0.5
        try:
            token = self._app_tokens.get(cpf)
            if token is None:
                login = await self.api.ok("POST", f"/app/{DOMAIN}/login",
                                          {"cpf": cpf, "password": self.creds.of(f"app-{cpf}")})
                token = self._app_tokens[cpf] = str(login["access_token"])
            app = Api(self.api.session, self.api.base_url, token)
            created = await app.ok("POST", f"/app/{DOMAIN}/alerts", {"level": level, "location": location})
            self.alert_posts[level] += 1
            if created.get("duplicate"):
                # the same person pressed the same level while its alert is still new (within
                # ccplane's window): ccplane answers with that alert, a stuck button, not a new one
                self.alerts_repeated += 1
                return
            self.alerts[level] += 1
            if ack:
                await asyncio.sleep(self.rng.uniform(2, 6))
                await self.monitor.ok("POST", f"/domains/{DOMAIN}/alerts/{created['id']}/ack")
                self.alerts_acked += 1
        except ApiError as exc:
            self.failures += 1
            log.warning("alert %s: %s", level, exc)

    # -- the report --------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        def tally(calls: list[PlacedCall]) -> dict[str, int]:
            answered = sum(1 for c in calls if c.answered_by)
            callbacks = sum(1 for c in calls if c.callback)
            return {"placed": len(calls), "answered": answered, "callback_requests": callbacks,
                    "abandoned": len(calls) - answered - callbacks}
        calls = list(self.calls.values())
        return {
            "profile": self.profile, "seed": self.seed, "rate_per_min": self.rate,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "calls": {**tally(calls),
                      "still_up": sum(1 for c in calls if not c.ended.is_set()),
                      "by_queue": {q: tally([c for c in calls if c.queue == q]) for q in (SALES, SUPPORT)},
                      "by_did": {d: tally([c for c in calls if c.did == d]) for d in (DID_IVR, DID_SUPPORT)}},
            "answered_by": {c.number: c.answered_by for c in calls if c.answered_by},
            "transfers": {"requested": sum(1 for c in calls if c.transferred_to) + self.transfers_refused,
                          "accepted": sum(1 for c in calls if c.transferred_to), "refused": self.transfers_refused,
                          "to": {c.number: c.transferred_to for c in calls if c.transferred_to}},
            "callback_requests": sorted(c.number for c in calls if c.callback),
            "callbacks_scheduled": sorted(self.scheduled), "callbacks_schedule_refused": self.schedules_refused,
            "alerts": dict(self.alerts), "alert_posts": dict(self.alert_posts),
            "alerts_repeated": self.alerts_repeated, "alerts_acked": self.alerts_acked, "failures": self.failures,
        }
