"""The carrier sandbox for tests: ccplane.demo.carrier's second Asterisk, on the
test instance's name and ports."""
from __future__ import annotations

import secrets
from pathlib import Path
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.sandbox import Sandbox, SandboxState
from ccplane.demo.carrier import (ACCOUNT, ACCOUNT_SECRET, LINE_ACCOUNT, place_call,  # noqa: F401
                                  registered_contact)
from ccplane.demo import carrier as _carrier
from ccplane.settings import load_settings
from tests.support.api import ApiCaller
from tests.support.sandboxes import instance_env
from tests.support.telephony import Recorder

CARRIER = instance_env("carrier", 5438, 8488, 5460, 13500, 13999)

# The tests' customers who do not pick up, by area code (mobile() never makes them):
BUSY_DDD = "47"  # the carrier refuses the call busy (486, cause 17)
SILENT_DDD = "48"  # the carrier rings and nobody ever answers

# Before the demo carrier's catch-all (_X. answers): Asterisk takes the most specific pattern.
REFUSALS = f"""[carrier-in]
exten => _{BUSY_DDD}9XXXXXXXX,1,UserEvent(CarrierCall,Number: ${{EXTEN}},From: ${{CALLERID(num)}},Answer: busy)
 same => n,Hangup(17)
exten => _{SILENT_DDD}9XXXXXXXX,1,UserEvent(CarrierCall,Number: ${{EXTEN}},From: ${{CALLERID(num)}},Answer: never)
 same => n,Ringing()
 same => n,Wait(120)
 same => n,Hangup()
"""


def start_carrier() -> tuple[Sandbox, SandboxState]:
    """The demo's carrier, plus the tests' refusals (``busy_mobile``, ``silent_mobile``)."""
    sandbox, state = _carrier.start_carrier(load_settings(env=CARRIER).sandbox)
    (Path(state.config_dir) / "ccplane" / "extensions.conf").write_text(
        _carrier.DIALPLAN.replace("[carrier-in]\n", REFUSALS, 1))
    sandbox.cli("dialplan reload")
    return sandbox, state


def mobile(ddd: str = "11") -> str:
    """A random mobile number (DDD + 9 digits), São Paulo's by default."""
    return ddd + "9" + str(secrets.randbelow(10**8)).zfill(8)


def busy_mobile() -> str:
    """A number the carrier answers busy."""
    return mobile(BUSY_DDD)


def silent_mobile() -> str:
    """A number the carrier lets ring unanswered."""
    return mobile(SILENT_DDD)


async def carrier_trunk(root: ApiCaller, domain: str, carrier: SandboxState) -> None:
    """The domain's trunk to the carrier sandbox and an outbound route for Brazilian numbers through it."""
    await root.ok("POST", f"/domains/{domain}/trunks",
                  {"name": "carrier", "host": "127.0.0.1", "port": carrier.sip_port, "caller_id": "1140040000"}, 201)
    await root.ok("POST", f"/domains/{domain}/outbound-routes",
                  {"name": "brasil", "patterns": ["_XXXXXXXXXX", "_XXXXXXXXXXX"], "trunks": ["carrier"],
                   "strip": 0, "prefix": ""}, 201)


@asynccontextmanager
async def carrier_user_events(carrier: SandboxState) -> AsyncIterator[Recorder]:
    """The carrier's UserEvents (``CarrierCall`` names every call it receives)."""
    ami = AmiClient("127.0.0.1", carrier.ami_port, carrier.ami_username, carrier.ami_secret)
    recorder = Recorder()
    ami.on_event(recorder, names=("UserEvent",))
    await ami.start()
    try:
        await ami.wait_connected(10)
        yield recorder
    finally:
        await ami.stop()
