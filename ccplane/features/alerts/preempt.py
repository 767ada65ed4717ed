"""Preemption: a higher alert level never waits behind a lower one's ring.

Asterisk's queue orders waiting callers by QUEUE_PRIO, but an offer already
ringing is not withdrawn when a higher-priority caller joins: a yellow (or an
ordinary call) that got the attendants first keeps them ringing for the whole
ring timeout while a red waits. So when a caller of a higher level waits in a
queue, ccplane hangs up the member legs ringing for lower-level callers (never
a bridged call: only legs between AgentCalled and its end). The lower caller
stays inside Queue(): it keeps its position and its wait, and is offered again
when a member is free. The higher caller, waiting in Queue()'s holding loop,
would only notice the freed members at its next check (once a second in
app_queue): an alert call is sent back into Queue() at once instead (its
priority is unique, so it re-enters at the same place) and rings straight away.

``RingBoard`` is the pure part (events in, actions out); ``Preemptor`` feeds it
the call tracker's domain events from the bus (features/calls/events.py:
``CallQueued``, ``CallLeftQueue``, ``OfferStarted``, ``OfferFailed``,
``LegAnswered``, ``CallEnded``; it parses no AMI event itself) and performs its
actions with AMI actions (Hangup, Redirect, Getvar).
"""
from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...asterisk.ami import AmiClient
from ...asterisk.events import RINGING_DEVICE_STATES
from ...bus import EventBus
from ..calls import events as ev
from . import domain as rules

log = logging.getLogger("ccplane.alerts")
ALERT_CALL = re.compile(r"alert\d+-[0-9a-f]{8}-queue")


@dataclass(frozen=True)
class Withdraw:
    """Hang up these member legs (ringing for ``caller``); then send ``requeue``
    (a higher alert call waiting) back into Queue() so it rings at once."""
    caller: str
    legs: tuple[tuple[str, str], ...]  # (member uniqueid, member channel)
    requeue: str | None


@dataclass(frozen=True)
class NeedLevel:
    """Ask Asterisk the QUEUE_PRIO of this caller (not an alert call ccplane placed)."""
    caller: str


Action = Withdraw | NeedLevel


@dataclass
class _Caller:
    queue: str
    level: int | None  # 0 ordinary, 10 yellow, 20 red; None until known
    legs: dict[str, str] = field(default_factory=dict)  # member uniqueid -> member channel
    asked: bool = False  # its level was asked of Asterisk


class RingBoard:
    def __init__(self) -> None:
        self.callers: dict[str, _Caller] = {}
        self._leg_owner: dict[str, str] = {}  # member uniqueid -> caller uniqueid

    def joined(self, queue: str, caller: str, level: int | None) -> list[Action]:
        c = self.callers[caller] = _Caller(queue, level)
        if level is None and ALERT_CALL.fullmatch(caller):  # placed before a restart
            c.asked = True
            return [NeedLevel(caller)]
        return self._check(queue)

    def level_known(self, caller: str, level: int) -> list[Action]:
        c = self.callers.get(caller)
        if c is None:
            return []
        c.level = level
        return self._check(c.queue)

    def called(self, queue: str, caller: str, member_uid: str, member_channel: str) -> list[Action]:
        c = self.callers.get(caller)
        if c is None:  # joined before ccplane watched: learn it now
            c = self.callers[caller] = _Caller(queue, None)
        c.legs[member_uid] = member_channel
        self._leg_owner[member_uid] = caller
        return self._check(queue)

    def ring_ended(self, member_uid: str) -> None:
        caller = self._leg_owner.pop(member_uid, None)
        if caller is not None and caller in self.callers:
            self.callers[caller].legs.pop(member_uid, None)

    def left(self, caller: str) -> None:
        c = self.callers.pop(caller, None)
        if c is not None:
            for uid in c.legs:
                self._leg_owner.pop(uid, None)

    def _check(self, queue: str) -> list[Action]:
        here = [(uid, c) for uid, c in self.callers.items() if c.queue == queue]
        waiting = [(uid, c) for uid, c in here if not c.legs and c.level]
        ringing = [(uid, c) for uid, c in here if c.legs]
        if not waiting or not ringing:
            return []
        top_uid, top = max(waiting, key=lambda x: x[1].level or 0)
        actions: list[Action] = []
        withdrawn = False
        for uid, c in ringing:
            if c.level is None:
                if not c.asked:
                    c.asked = True
                    actions.append(NeedLevel(uid))
            elif c.level < (top.level or 0):
                actions.append(Withdraw(uid, tuple(c.legs.items()), None))
                for member_uid in c.legs:
                    self._leg_owner.pop(member_uid, None)
                c.legs.clear()  # withdrawn: it is waiting again, in its place
                withdrawn = True
        if withdrawn and ALERT_CALL.fullmatch(top_uid):
            last = next(i for i in range(len(actions) - 1, -1, -1) if isinstance(actions[i], Withdraw))
            w = actions[last]
            assert isinstance(w, Withdraw)
            actions[last] = Withdraw(w.caller, w.legs, top_uid)
        return actions


def level_of_call(call_id: str, priority: int | None) -> int | None:
    return rules.level_of_priority(priority) if priority is not None else None


class EventFeed:
    """The call tracker's domain events into the RingBoard (pure: no I/O).

    ``priorities`` holds the QUEUE_PRIO of the alert calls this process placed
    (by the queue-side channel's uniqueid); ``ring_ended`` is told each member
    leg whose ring ended (answered, hung up, no answer)."""

    def __init__(self, ring_ended: Callable[[str], None] | None = None) -> None:
        self.board = RingBoard()
        self.priorities: dict[str, int] = {}
        self.interfaces: dict[str, str] = {}  # ringing member leg (uniqueid) -> its queue member interface
        self._callers: dict[str, set[str]] = {}  # call id -> its channels that queued (forgotten at its end)
        self.ring_ended = ring_ended

    def feed(self, event: ev.CallEvent) -> list[Action]:
        if isinstance(event, ev.CallQueued):
            if not event.uniqueid or not event.queue_key:
                return []
            self._callers.setdefault(event.call_id, set()).add(event.uniqueid)
            prio = self.priorities.get(event.uniqueid)
            return self.board.joined(event.queue_key, event.uniqueid, level_of_call(event.uniqueid, prio))
        if isinstance(event, ev.CallLeftQueue):
            if event.uniqueid:
                self.board.left(event.uniqueid)
            return []
        if isinstance(event, ev.OfferStarted):
            if event.caller_uniqueid and event.member_channel and event.queue_key:
                self.interfaces[event.member_uniqueid] = event.interface
                return self.board.called(event.queue_key, event.caller_uniqueid, event.member_uniqueid,
                                         event.member_channel)
            return []
        ended = None
        if isinstance(event, ev.OfferFailed):
            ended = event.member_uniqueid
        elif isinstance(event, ev.LegAnswered):
            ended = event.uniqueid
        elif isinstance(event, ev.CallEnded):
            for uid in self._callers.pop(event.call_id, ()):
                self.board.left(uid)
                self.priorities.pop(uid, None)
        if ended:
            self.interfaces.pop(ended, None)
            self.board.ring_ended(ended)
            if self.ring_ended is not None:
                self.ring_ended(ended)
        return []


class Preemptor:
    """Feeds the RingBoard from the call tracker's events and performs what it decides."""

    def __init__(self, ami: AmiClient, withdrawn: Callable[[str], None] | None = None) -> None:
        self.ami = ami
        self.feed = EventFeed(self._ring_ended)
        self.board = self.feed.board
        self.withdrawn = withdrawn      # told each member leg withdrawn (not an agent's no-answer)
        self._hangups: dict[str, asyncio.Future[None]] = {}  # member uniqueid -> its ring ended
        self._tasks: set[asyncio.Task[Any]] = set()
        self.withdrawals = 0

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(ev.CallEvent, self.on_call_event)

    def expect(self, call_id: str, priority: int) -> None:
        """An alert call is about to be placed with this QUEUE_PRIO."""
        self.feed.priorities[call_id] = priority

    def on_call_event(self, event: ev.CallEvent) -> None:
        """Sync, in the tracker's order (the bus delivers as it publishes)."""
        try:
            self._perform(self.feed.feed(event))
        except Exception:
            log.exception("alert.preempt_failed")

    def _ring_ended(self, member_uid: str) -> None:
        done = self._hangups.pop(member_uid, None)
        if done is not None and not done.done():
            done.set_result(None)

    def _perform(self, actions: list[Action]) -> None:
        for action in actions:
            coro = self._withdraw(action) if isinstance(action, Withdraw) else self._ask_level(action.caller)
            task = asyncio.ensure_future(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _ask_level(self, caller: str) -> None:
        try:
            reply = await self.ami.action({"Action": "Getvar", "Channel": caller, "Variable": "QUEUE_PRIO"})
            value = str(reply.get("Value") or "0")
            level = rules.level_of_priority(int(value) if value.lstrip("-").isdigit() else 0)
        except Exception:  # noqa: BLE001 - gone meanwhile: nothing to decide
            return
        self._perform(self.board.level_known(caller, level))

    async def _withdraw(self, action: Withdraw) -> None:
        loop = asyncio.get_running_loop()
        gone: list[asyncio.Future[None]] = []
        members = {self.feed.interfaces[uid] for uid, _ in action.legs if uid in self.feed.interfaces}
        hangups = []
        for member_uid, leg in action.legs:
            done = self._hangups.setdefault(member_uid, loop.create_future())
            gone.append(done)
            if self.withdrawn is not None:
                self.withdrawn(member_uid)
            hangups.append(self._hang_up(member_uid, leg, done))
        await asyncio.gather(*hangups)  # all the rings stop together
        self.withdrawals += 1
        log.info("alert.ring_withdrawn", extra={"call": action.caller, "legs": len(action.legs)})
        if action.requeue is None:
            return
        caller = self.board.callers.get(action.requeue)
        if caller is None:
            return
        # Send the red back into Queue() only once app_queue itself sees the members
        # free: re-entering while it still counts them ringing would leave the red in
        # its once-a-second recheck. What app_queue reports (QueueStatus) is the
        # condition, not ccplane's view of the events, which lags on a loaded box.
        await self._until_free(caller.queue, members, gone, deadline=loop.time() + 0.6)
        caller = self.board.callers.get(action.requeue)
        if caller is None or caller.legs:
            return  # answered, gone, or already ringing by itself
        try:
            await self.ami.action({"Action": "Redirect", "Channel": action.requeue,
                                   "Context": "ccplane-alert-queue", "Exten": "s", "Priority": "1"})
        except Exception:  # noqa: BLE001 - it checks again by itself within a second
            log.warning("alert.requeue_failed", extra={"call": action.requeue})

    async def _hang_up(self, member_uid: str, leg: str, done: asyncio.Future[None]) -> None:
        try:
            # 26 "answered elsewhere": the phone stops ringing without a missed-call mark
            await self.ami.action({"Action": "Hangup", "Channel": leg, "Cause": "26"})
        except Exception:  # noqa: BLE001 - answered or ended meanwhile
            self._hangups.pop(member_uid, None)
            done.cancel()

    async def _until_free(self, queue: str, members: set[str], gone: list[asyncio.Future[None]],
                          deadline: float) -> None:
        """Until app_queue no longer counts these members ringing (or the deadline)."""
        loop = asyncio.get_running_loop()
        if not members:  # interfaces unknown: the rings' ends are the best sign there is
            if gone:
                await asyncio.wait(gone, timeout=max(0.0, deadline - loop.time()))
            return
        while loop.time() < deadline:
            try:
                status = await self.ami.action({"Action": "QueueStatus", "Queue": queue},
                                               timeout=max(0.1, deadline - loop.time()))
            except Exception:  # noqa: BLE001 - no answer: redirect anyway
                return
            ringing = {str(item.get("Location") or item.get("Interface")) for item in status
                       if item.get("Event") == "QueueMember" and str(item.get("Status")) in RINGING_DEVICE_STATES}
            if not ringing & members:
                return
            await asyncio.sleep(0.02)
