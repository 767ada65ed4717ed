"""Transfers ccplane makes on an agent's behalf (``POST /calls/{id}/transfer``).

Blind: the caller's channel is told where to go back if the target does not
answer (channel variables read by ``[ccplane-transfer]``), then AMI
``BlindTransfer`` on the agent's channel sends the caller there and frees the
agent at once. Attended: AMI ``Atxfer`` on the agent's channel (the caller
hears music on hold while the agent consults the target); ``complete`` hangs up
the agent's channel, which completes the transfer, ``cancel`` sends
``CancelAtxfer`` (the agent gets the caller back). The call tracker follows
what Asterisk then does (BlindTransfer / AttendedTransfer events, the target's
leg, a ``CcplaneTransferFailed`` report) exactly as it follows transfers made
from the phone.
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...asterisk.ami import AmiClient
from ...errors import AsteriskError, Conflict, NotFound, ValidationFailed
from ...web.context import READ_ROLES, Principal
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..extensions.domain import domain_context, endpoint_name
from ..extensions.models import Extension
from ..queues.domain import asterisk_queue_name
from ..queues.models import Queue
from ..trunks.models import OutboundRoute
from .domain import Call, CallTracker, Leg, Transfer

log = logging.getLogger("ccplane.calls.transfers")

TRANSFER_CONTEXT = "ccplane-transfer"
BACK_CONTEXT = "ccplane-transfer-back"
QUEUE_TRANSFER_CONTEXT = "ccplane-transfer-queue"
QUEUE_CONTEXT = "ccplane-queues"
BRIDGE_RETRIES = 10
BRIDGE_WAIT = 3.0  # seconds an attended transfer waits for the agent to be bridged with the caller
# After a cancelled consultation Asterisk ignores a new Atxfer on that agent's channel
# for about features.conf's transferdigittimeout (3 s in the sandbox): it is accepted
# and silently lost. A new attended transfer waits that long after the cancel.
ATXFER_SETTLE = 3.5
RING_SECONDS = 20  # how long a blind transfer's target rings (no queue: the queue's ring_timeout otherwise)

_CLASSES = {"X": "0123456789", "Z": "123456789", "N": "23456789"}


def pattern_matches(pattern: str, number: str) -> bool:
    """Does an Asterisk extension pattern match a dialled number?

    >>> pattern_matches("_0XX9XXXXXXXX", "011987654321")
    True
    >>> pattern_matches("_9.", "9")
    False
    >>> pattern_matches("1234", "1234")
    True
    """
    if not pattern.startswith("_"):
        return pattern == number
    regex = ""
    i, body = 0, pattern[1:]
    while i < len(body):
        ch = body[i]
        if ch.upper() in _CLASSES:
            regex += f"[{_CLASSES[ch.upper()]}]"
        elif ch == "[":
            end = body.find("]", i)
            if end < 0:
                return False
            regex += "[" + re.escape(body[i + 1:end]).replace("\\-", "-") + "]"
            i = end
        elif ch == ".":
            regex += ".+"
        elif ch == "!":
            regex += ".*"
        else:
            regex += re.escape(ch)
        i += 1
    return re.fullmatch(regex, number) is not None


@dataclass(frozen=True)
class Target:
    kind: str  # extension | queue | external
    to: str
    context: str  # where Asterisk is sent (Atxfer, BlindTransfer)
    exten: str
    dial: str | None = None  # what [ccplane-transfer] dials (blind, extension/external)
    consult_context: str = ""  # where Atxfer dials the target (attended)


class TransferService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ami: AmiClient, tracker: CallTracker) -> None:
        self.sessions = sessions
        self.ami = ami
        self.tracker = tracker
        self._cancelled: dict[str, float] = {}  # agent channel -> loop time of its last CancelAtxfer

    async def transfer(self, me: Principal, slug: str, call_id: str, mode: str, to: str) -> dict[str, str | None]:
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            call, leg = self._agent_leg(me, domain, call_id)
            if call.transfer is not None:
                raise Conflict(f"a {call.transfer.mode} transfer of call {call_id} is already under way",
                               field="call")
            target = await self._target(s, domain, to, leg)
            queue = await self._queue_of(s, domain, leg)
        agent_chan = self.tracker.channel_name(leg.uniqueid)
        if agent_chan is None:
            raise Conflict(f"call {call_id} has no agent channel to transfer from", field="call")
        back = queue.transfer_fail if queue is not None else "queue"
        call.transfer = Transfer(mode, leg.agent, to, back=back)
        try:
            if mode == "blind":
                await self._blind(call, domain, target, leg, agent_chan, queue)
            else:
                loop = asyncio.get_running_loop()
                settle = self._cancelled.pop(agent_chan, 0.0) + ATXFER_SETTLE - loop.time()
                if settle > 0:
                    await asyncio.sleep(settle)
                await self._bridged_with_caller(call, agent_chan)
                call.transfer.state = "consulting"
                exten = target.exten
                if target.kind == "queue":  # DTMF cannot spell a queue's name: see [ccplane-transfer-queue]
                    await self._action({"Action": "Setvar", "Channel": agent_chan, "Variable": "__CCPLANE_XFER_QUEUE",
                                        "Value": target.exten})
                    exten = "0"
                await self._action({"Action": "Atxfer", "Channel": agent_chan, "Exten": exten,
                                    "Context": target.consult_context})
        except BaseException:
            call.transfer = None
            raise
        log.info("calls.transfer call=%s mode=%s to=%s by=%s", call.id, mode, to, leg.agent,
                 extra={"call": call.id, "domain": slug})
        return {"call": call.id, "mode": mode, "to": to, "state": "consulting" if mode == "attended" else "requested"}

    async def complete(self, me: Principal, slug: str, call_id: str) -> dict[str, str | None]:
        call, leg = await self._attended(me, slug, call_id)
        consult = [c for c in call.legs if c.consult and c.answered_at and c.ended_at is None]
        if not consult:
            raise Conflict(f"the transfer target of call {call_id} has not answered yet", field="call")
        chan = self.tracker.channel_name(leg.uniqueid)
        if chan is None:
            raise Conflict(f"call {call_id} has no agent channel", field="call")
        to = call.transfer.to if call.transfer else None
        # The transferer leaving the consultation completes an attended transfer.
        await self._action({"Action": "Hangup", "Channel": chan, "Cause": "16"})
        return {"call": call.id, "mode": "attended", "to": to, "state": "completing"}

    async def cancel(self, me: Principal, slug: str, call_id: str) -> dict[str, str | None]:
        call, leg = await self._attended(me, slug, call_id)
        chan = self.tracker.channel_name(leg.uniqueid)
        if chan is None:
            raise Conflict(f"call {call_id} has no agent channel", field="call")
        assert call.transfer is not None
        call.transfer.state = "cancelling"
        to = call.transfer.to
        try:
            await self._action({"Action": "CancelAtxfer", "Channel": chan})
        except BaseException:
            call.transfer.state = "consulting"
            raise
        now = asyncio.get_running_loop().time()
        self._cancelled = {c: t for c, t in self._cancelled.items() if now - t < ATXFER_SETTLE}
        self._cancelled[chan] = now
        return {"call": call.id, "mode": "attended", "to": to, "state": "cancelling"}

    # -- helpers -------------------------------------------------------------------
    async def _blind(self, call: Call, domain: Domain, target: Target, leg: Leg, agent_chan: str,
                     queue: Queue | None) -> None:
        caller = self.tracker.channel_name(self.tracker.caller_uniqueid(call))
        if target.dial is not None and caller is not None:
            assert call.transfer is not None
            queue_key = asterisk_queue_name(domain.slug, queue.name) if queue is not None else ""
            if call.transfer.back == "agent" and leg.interface:
                back = f"{BACK_CONTEXT},s,1"
            elif queue_key:
                back = f"{QUEUE_CONTEXT},{queue_key},1"
            else:
                back = f"{BACK_CONTEXT},s,1"
                call.transfer.back = "agent"
            ring = queue.ring_timeout if queue is not None else RING_SECONDS
            variables = {"CCPLANE_XFER_DIAL": target.dial, "CCPLANE_XFER_TIMEOUT": str(ring),
                         "CCPLANE_XFER_BACK": back, "CCPLANE_XFER_BACK_TO": call.transfer.back,
                         "CCPLANE_XFER_AGENT": leg.interface or "", "CCPLANE_XFER_QUEUE": queue_key}
            for name, value in variables.items():
                await self._action({"Action": "Setvar", "Channel": caller, "Variable": name, "Value": value})
        action = {"Action": "BlindTransfer", "Channel": agent_chan, "Exten": target.exten, "Context": target.context}
        for _ in range(BRIDGE_RETRIES):
            try:
                await self.ami.action(action)
                return
            except AsteriskError as exc:
                # Just after AgentConnect the agent's channel may not have entered the
                # bridge yet: Asterisk says "Transfer invalid" for a few milliseconds.
                if "invalid" not in str(exc).lower():
                    raise Conflict(f"Asterisk refused BlindTransfer: {exc}", field="call") from None
                await asyncio.sleep(0.1)
        raise Conflict("Asterisk refused BlindTransfer: the agent's channel is not in a bridge", field="call")

    async def _bridged_with_caller(self, call: Call, agent_chan: str) -> None:
        """Wait (briefly) until the agent's channel is bridged with the caller's side
        of the call: just after the answer, or just after a cancelled consultation,
        the agent is between bridges for a moment and an Atxfer sent then is
        accepted by Asterisk and silently lost."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BRIDGE_WAIT
        while True:
            try:
                reply = await self.ami.action({"Action": "Getvar", "Channel": agent_chan, "Variable": "BRIDGEPEER"})
                peer = str(reply.get("Value") or "")
            except AsteriskError:
                peer = ""
            consult = {self.tracker.channel_name(leg.uniqueid) for leg in call.legs if leg.consult and leg.uniqueid}
            caller_side = set(self.tracker.channel_names(call)) - consult - {agent_chan}
            if peer and peer in caller_side:
                return
            if loop.time() >= deadline:
                raise Conflict(f"call {call.id}: the agent is not connected to the caller at this moment "
                               "(a consultation just ended?); try again", field="call")
            await asyncio.sleep(0.1)

    async def _action(self, action: dict[str, str]) -> None:
        try:
            await self.ami.action(action)
        except AsteriskError as exc:
            raise Conflict(f"Asterisk refused {action['Action']}: {exc}", field="call") from None

    def _agent_leg(self, me: Principal, domain: Domain, call_id: str) -> tuple[Call, Leg]:
        call = self.tracker.calls.get(call_id)
        if call is None or call.domain != domain.slug or call.ended_at is not None:
            raise NotFound(f"no active call {call_id} in domain {domain.slug}", field="call")
        legs = [leg for leg in call.legs if leg.kind == "agent" and leg.answered_at and leg.ended_at is None
                and not leg.consult]
        mine = [leg for leg in legs if leg.agent == me.username]
        if me.role not in READ_ROLES:
            if not mine and not any(leg.agent == me.username for leg in call.legs):
                raise NotFound(f"no active call {call_id} in domain {domain.slug}", field="call")
            legs = mine
        if not legs:
            raise Conflict(f"call {call_id} is not in talk with an agent", field="call")
        return call, legs[-1]

    async def _attended(self, me: Principal, slug: str, call_id: str) -> tuple[Call, Leg]:
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
        call, leg = self._agent_leg(me, domain, call_id)
        if call.transfer is None or call.transfer.mode != "attended" or call.transfer.state != "consulting":
            raise Conflict(f"no attended transfer of call {call_id} is in progress", field="call")
        return call, leg

    async def _queue_of(self, s: AsyncSession, domain: Domain, leg: Leg) -> Queue | None:
        if not leg.queue:
            return None
        return await s.scalar(select(Queue).where(Queue.domain_id == domain.id, Queue.name == leg.queue))

    async def _target(self, s: AsyncSession, domain: Domain, to: str, leg: Leg) -> Target:
        ext = await s.scalar(select(Extension).where(Extension.domain_id == domain.id, Extension.number == to))
        if ext is not None:
            if leg.interface == f"PJSIP/{endpoint_name(domain.slug, to)}":
                raise ValidationFailed("an agent cannot transfer a call to their own extension", field="to")
            return Target("extension", to, TRANSFER_CONTEXT, to, dial=f"PJSIP/{endpoint_name(domain.slug, to)}",
                          consult_context=domain_context(domain.slug))
        queue = await s.scalar(select(Queue).where(Queue.domain_id == domain.id, Queue.name == to))
        if queue is not None:
            return Target("queue", to, QUEUE_CONTEXT, asterisk_queue_name(domain.slug, to),
                          consult_context=QUEUE_TRANSFER_CONTEXT)
        routes = await s.scalars(select(OutboundRoute).where(OutboundRoute.domain_id == domain.id))
        if to.isdigit() and any(pattern_matches(p, to) for r in routes for p in r.patterns):
            return Target("external", to, TRANSFER_CONTEXT, to, dial=f"Local/{to}@{domain_context(domain.slug)}/n",
                          consult_context=domain_context(domain.slug))
        raise NotFound(f"{to} is no extension, queue or number of an outbound route of {domain.slug}",
                       field="to")
