"""Callers that dial a DID and press real DTMF keys (AMI PlayDTMF on the
calling half of a Local channel)."""
from __future__ import annotations

import secrets
from typing import Any

from tests.support.telephony import Recorder


class Caller:
    def __init__(self, services: Any, recorder: Recorder, did: str, caller_id: str = "1130000000") -> None:
        self.services, self.recorder = services, recorder
        self.did, self.caller_id = did, caller_id
        token = secrets.token_hex(6)
        self.outer = f"i{token}-1"   # plays the caller: sends DTMF
        self.inner = f"i{token}-2"   # runs the dialplan: routes, IVR

    async def dial(self) -> "Caller":
        await self.services.ami.action({
            "Action": "Originate", "Channel": f"Local/{self.did}@ccplane-inbound", "Application": "Wait",
            "Data": "120", "CallerID": f"Tester <{self.caller_id}>", "Async": "true",
            "ChannelId": self.outer, "OtherChannelId": self.inner})
        return self

    async def press(self, digits: str) -> None:
        for digit in digits:
            await self.services.ami.action({"Action": "PlayDTMF", "Channel": self.outer, "Digit": digit,
                                            "Duration": "120"})

    async def step(self, node: str, step: str, *, count: int = 1, timeout: float = 15) -> None:
        await self.recorder.wait_for("UserEvent", count=count, timeout=timeout, UserEvent="CcplaneIvr",
                                     Uniqueid=self.inner, Node=node, Step=step)

    def steps(self) -> list[tuple[str, str, str]]:
        return [(str(e.fields.get("Node")), str(e.fields.get("Step")), str(e.fields.get("Digits") or ""))
                for _, e in self.recorder.matching("UserEvent", UserEvent="CcplaneIvr", Uniqueid=self.inner)]

    async def hangup(self) -> None:
        try:
            await self.services.ami.action({"Action": "Hangup", "Channel": self.outer})
        except Exception:  # noqa: BLE001 - already gone
            pass
