"""The callback engine: places a callback's call through Asterisk, agent leg
first (the agent's phone, or the queue for a free agent), then the customer
through the domain's outbound routes (dialplan ``ccplane-callback-*``)."""
from __future__ import annotations

import logging
import secrets
from typing import Any

from ...asterisk.ami import AmiClient
from ...asterisk.events import CoreShowChannel, frames_to_events
from ..queues.domain import asterisk_queue_name
from .domain import Route

log = logging.getLogger("ccplane.callbacks")
AGENT_RING = 30  # seconds the agent's phone rings
QUEUE_WAIT = 600  # seconds a callback waits in its queue for a free agent
CUSTOMER_RING = 45  # seconds the customer's phone rings


class CallbackDialer:
    def __init__(self, ami: AmiClient, agent_runtime: Any) -> None:
        self.ami = ami
        self.runtime = agent_runtime

    def agent_seat(self, slug: str, username: str) -> tuple[str | None, str | None]:
        """(member interface, state) of a logged-in agent of the domain; (None, None) when offline."""
        now = self.runtime.clock()
        for interface, agent in self.runtime.board.agents.items():
            if agent.username == username and self.runtime.slug_of.get(interface) == slug:
                return interface, str(agent.view(now)["state"])
        return None, None

    def free_agents(self, slug: str, queue: str) -> int:
        """Agents of the queue that could take a call now (available: no call, no offer, no hold)."""
        key = asterisk_queue_name(slug, queue)
        now = self.runtime.clock()
        return sum(1 for i, a in self.runtime.board.agents.items()
                   if self.runtime.slug_of.get(i) == slug and key in a.queues and a.view(now)["state"] == "available")

    async def live_ids(self) -> set[str]:
        """The uniqueids and linkedids of every channel Asterisk has up now."""
        frames = await self.ami.action({"Action": "CoreShowChannels"})
        ids: set[str] = set()
        for e in frames_to_events(frames):
            if isinstance(e, CoreShowChannel):
                ids.update(i for i in (e.uniqueid, e.linkedid) if i)
        return ids

    async def place(self, slug: str, callback_id: int, number: str, route: Route, *, position: int | None = None,
                    wait: int | None = None) -> str:
        """Originate the callback; returns the call id (the journey's linkedid).
        In a queue it waits ``wait`` seconds at most, at ``position`` (a caller's
        place kept) or at the end of the line."""
        base = f"cb{callback_id}-{secrets.token_hex(4)}"
        if route.kind == "agent":
            exten, target, ring = "agent", str(route.target), AGENT_RING
        else:
            exten, target, ring = "queue", asterisk_queue_name(slug, str(route.target)), wait or QUEUE_WAIT
        await self.ami.action({
            "Action": "Originate", "Channel": f"Local/{exten}@ccplane-callback-agent/n",
            "Context": "ccplane-callback-customer", "Exten": "s", "Priority": "1",
            "Timeout": str((ring + 5) * 1000), "CallerID": f'"Callback" <{number}>', "Async": "true",
            "ChannelId": f"{base}-a", "OtherChannelId": f"{base}-b",
            "Variable": [f"__CCPLANE_CALLBACK={callback_id}", f"__CCPLANE_DOMAIN={slug}",
                         f"__CCPLANE_CB_TARGET={target}", f"__CCPLANE_CB_RING={ring}",
                         f"__CCPLANE_CB_NUMBER={number}", f"__CCPLANE_CB_CUSTOMER_RING={CUSTOMER_RING}",
                         f"_CCPLANE_CB_POSITION={position or ''}"]})
        log.info("callback.placed", extra={"callback": callback_id, "domain": slug, "route": route.kind})
        return f"{base}-a"
