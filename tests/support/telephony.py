"""Building blocks for queue tests on the real sandbox: registered baresip
agents, callers originated into queues, and an AMI event recorder."""
from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ccplane.asterisk.events import AmiEvent
from tests.support.api import ApiCaller
from tests.support.baresip import Phone
from tests.support.waiting import eventually


# Every event a test waits on (Recorder.wait_for / matching).
SCENE_EVENTS = ("AgentCalled", "AgentComplete", "AgentConnect", "AgentRingNoAnswer", "Hangup", "Newexten",
                "QueueCallerAbandon", "QueueCallerJoin", "UserEvent")


@dataclass
class Recorder:
    """Every AMI event ccplane receives, timestamped, with waiters."""
    events: list[tuple[float, AmiEvent]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, event: AmiEvent) -> None:
        self.events.append((time.monotonic(), event))
        self._changed.set()

    def matching(self, name: str, **fields: str) -> list[tuple[float, AmiEvent]]:
        return [(t, e) for t, e in self.events if e.name == name
                and all(str(e.fields.get(k)) == v for k, v in fields.items())]

    async def wait_for(self, name: str, *, count: int = 1, timeout: float = 10,
                       **fields: str) -> list[tuple[float, AmiEvent]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.matching(name, **fields)
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"waited {timeout}s for {count}x {name} {fields}; saw {len(found)}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass


class Scene:
    """One domain's contact center on the sandbox, torn down by close()."""

    def __init__(self, root: ApiCaller, services: Any, domain: str, sip_port: int) -> None:
        self.root, self.services, self.domain, self.sip_port = root, services, domain, sip_port
        self.phones: list[Phone] = []
        self.recorder = Recorder()
        # By name, not "*": ccplane's AMI session keeps its Asterisk-side event
        # filter, so the suite runs the filtered path production runs.
        services.ami.on_event(self.recorder, names=SCENE_EVENTS)
        self.callers: list[str] = []

    async def extension(self, number: str, *, phone: str | None = None, kind: str = "sip") -> Phone | None:
        """Create an extension; with ``phone`` ("auto"/"manual") also register a baresip on it."""
        secret = f"secret-{number}"
        await self.root.ok("POST", f"/domains/{self.domain}/extensions",
                           {"number": number, "name": f"Ext {number}", "secret": secret, "kind": kind}, 201)
        if phone is None:
            return None
        endpoint = f"{self.domain}-{number}"

        async def endpoint_loaded() -> bool:
            # the pjsip reload is asynchronous: a REGISTER sent before it lands is refused
            out = await self.services.ami.command(f"pjsip show endpoint {endpoint}")
            return "Unable to find object" not in out and endpoint in out
        await eventually(endpoint_loaded, timeout=5, what=f"endpoint {endpoint} loaded")
        p = Phone(endpoint, secret, self.sip_port, answer=phone).start()
        self.phones.append(p)

        async def registered() -> bool:
            return bool((await self.root.ok("GET", f"/domains/{self.domain}/extensions/{number}"))["registered"])
        await eventually(registered, timeout=20, what=f"extension {number} registered",
                         details=lambda: p.output()[-1500:])
        return p

    async def queue(self, name: str, **fields: Any) -> dict[str, Any]:
        return await self.root.ok("POST", f"/domains/{self.domain}/queues", {"name": name, **fields}, 201)

    async def agent(self, queues: list[str], extension: str) -> ApiCaller:
        agent = await self.root.new_user(self.domain, "agent")
        await agent.ok("POST", f"/domains/{self.domain}/agents/{agent.username}/session",
                       {"queues": queues, "extension": extension}, 201)
        return agent

    def qname(self, queue: str) -> str:
        return f"{self.domain}_{queue}"

    def interface(self, number: str) -> str:
        return f"PJSIP/{self.domain}-{number}"

    async def call(self, queue: str, caller_id: str = "1199990000") -> str:
        """Originate a caller into the queue; returns the caller's uniqueid (the Local ;2
        half that runs Queue())."""
        token = secrets.token_hex(6)
        caller_uid = f"c{token}-2"
        await self.services.ami.action({
            "Action": "Originate", "Channel": f"Local/{self.qname(queue)}@ccplane-queues",
            "Application": "Wait", "Data": "300", "CallerID": f"Caller <{caller_id}>", "Async": "true",
            "ChannelId": f"c{token}-1", "OtherChannelId": caller_uid})
        await self.recorder.wait_for("QueueCallerJoin", Uniqueid=caller_uid)
        self.callers.append(caller_uid)
        return caller_uid

    async def hangup(self, caller_uid: str) -> None:
        await self.services.ami.action({"Action": "Hangup", "Channel": caller_uid})

    async def agent_state(self, agent: ApiCaller) -> dict[str, Any]:
        return await self.root.ok("GET", f"/domains/{self.domain}/agents/{agent.username}")  # type: ignore[attr-defined]

    async def member_status(self, queue: str, number: str) -> dict[str, Any] | None:
        items = await self.services.ami.action({"Action": "QueueStatus", "Queue": self.qname(queue)})
        for item in items:
            if item.get("Event") == "QueueMember" and item.get("Location") == self.interface(number):
                return item
        return None

    async def close(self) -> None:
        for uid in self.callers:
            try:
                await self.hangup(uid)
            except Exception:  # noqa: BLE001 - already gone
                pass
        # Alert calls wait up to an hour for an attendant: none outlives its test.
        try:
            await self.services.ami.action({"Action": "Hangup", "Channel": "/^Local\\/s@ccplane-alert-queue-/"})
        except Exception:  # noqa: BLE001 - none left
            pass
        # Its open alerts would escalate again (and place calls) at every later app start.
        try:
            from sqlalchemy import select, update

            from ccplane.features.alerts.models import Alert
            from ccplane.features.domains.models import Domain
            async with self.services.sessions() as s:
                domain_id = select(Domain.id).where(Domain.slug == self.domain).scalar_subquery()
                await s.execute(update(Alert).where(Alert.domain_id == domain_id, Alert.status == "new")
                                .values(status="closed"))
                await s.commit()
        except Exception:  # noqa: BLE001 - the database may be what the test broke
            pass
        for p in self.phones:
            p.close()


def offers_to(recorder: Recorder, queue: str) -> list[str]:
    return [str(e.fields.get("Interface")) for _, e in recorder.matching("AgentCalled", Queue=queue)]

