"""A second sandbox Asterisk playing the carrier: it accepts SIP calls from
ccplane's Asterisk, reports each dialled number (UserEvent CarrierCall) and
answers. It is also a registrar: the customer (known by its address, as the
calls are) may register account ``ccplane-acct``; any other account is
refused. The carrier does not challenge: Asterisk identifies a REGISTER from
loopback by address before user name, so digest authentication of the
registration is not exercised here.

It also places calls to the customer (``place_call``): to ccplane's address,
as a carrier that knows its customer by IP does, or to the contact the
customer registered (account ``ccplane-line``, its ``;line=`` parameter kept),
as a carrier does for a registered trunk."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Callable

from ..asterisk.ami import AmiClient
from ..asterisk.sandbox import Sandbox, SandboxState
from ..settings import SandboxSettings

PJSIP = """; the carrier's view of ccplane's Asterisk: everyone on loopback is the customer
[customer]
type=endpoint
context=carrier-in
disallow=all
allow=ulaw,alaw
direct_media=no
aors=ccplane-acct,ccplane-line

[customer]
type=identify
endpoint=customer
match=127.0.0.1

; the account ccplane's registering trunk registers (any other is refused)
[ccplane-acct]
type=aor
max_contacts=5
remove_existing=yes

; registered by the one test that receives calls through its registration
[ccplane-line]
type=aor
max_contacts=1
remove_existing=yes
"""

LINE_ACCOUNT = "ccplane-line"
ACCOUNT, ACCOUNT_SECRET = "ccplane-acct", "carrier-secret"

DIALPLAN = """[carrier-in]
exten => _X.,1,UserEvent(CarrierCall,Number: ${EXTEN},From: ${CALLERID(num)})
 same => n,Answer()
 same => n,Wait(30)
 same => n,Hangup()

; the demo's callers (ccplane.demo.traffic): once ccplane answers, wait for the
; IVR's prompt, press DIGITS (real RFC 4733 DTMF), then MORE_DIGITS, then stay
; on the line PATIENCE seconds (waiting in queue, then talking) and hang up. A caller
; given CALLBACK_KEY presses it CALLBACK_AFTER seconds after that (in the queue), then
; 1# to confirm its own number for the in-queue callback, and stays PATIENCE seconds
[demo-caller]
exten => s,1,GotoIf($["${DIGITS}" = ""]?wait)
 same => n,Wait(1.5)
 same => n,SendDTMF(${DIGITS},200)
 same => n,GotoIf($["${MORE_DIGITS}" = ""]?wait)
 same => n,Wait(1.5)
 same => n,SendDTMF(${MORE_DIGITS},200)
 same => n(wait),GotoIf($["${CALLBACK_KEY}" = ""]?stay)
 same => n,Wait(${CALLBACK_AFTER})
 same => n,SendDTMF(${CALLBACK_KEY},200)
 same => n,Wait(1.5)
 same => n,SendDTMF(1#,200)
 same => n(stay),Wait(${PATIENCE})
 same => n,Hangup()
"""


def start_carrier(settings: SandboxSettings,
                  progress: Callable[[str], None] = print) -> tuple[Sandbox, SandboxState]:
    """Start (or reuse) the sandbox instance ``settings`` names as the carrier."""
    sandbox = Sandbox(settings, progress=progress)
    state = sandbox.up()
    etc = Path(state.config_dir) / "ccplane"
    (etc / "pjsip.conf").write_text(PJSIP)
    (etc / "extensions.conf").write_text(DIALPLAN)
    sandbox.cli("module reload res_pjsip.so")
    sandbox.cli("dialplan reload")
    return sandbox, state


async def place_call(carrier: SandboxState, did: str, caller: str, *, customer_port: int | None = None,
                     contact: str | None = None) -> str:
    """The carrier calls its customer: DID ``did`` from caller number ``caller``, either
    to ``127.0.0.1:customer_port`` or to a registered ``contact`` URI (its user replaced
    by the DID, its parameters kept). Returns the carrier-side channel id; the call
    stays up (Wait) until hung up or 60 s."""
    if contact is not None:
        user, _, rest = contact.partition(":")[2].partition("@")
        uri = f"sip:{did}@{rest}" if rest else f"sip:{did}@{user}"
    else:
        uri = f"sip:{did}@127.0.0.1:{customer_port}"
    channel_id = "carrier-" + secrets.token_hex(6)
    ami = AmiClient("127.0.0.1", carrier.ami_port, carrier.ami_username, carrier.ami_secret)
    await ami.start()
    try:
        await ami.wait_connected(10)
        await ami.action({"Action": "Originate", "Channel": f"PJSIP/customer/{uri}", "Application": "Wait",
                          "Data": "60", "CallerID": f"Cliente <{caller}>", "Async": "true",
                          "ChannelId": channel_id, "Timeout": "30000"})
    finally:
        await ami.stop()
    return channel_id


async def registered_contact(carrier: SandboxState, aor: str = LINE_ACCOUNT) -> str | None:
    """The contact URI the customer registered for ``aor`` at the carrier, if any."""
    ami = AmiClient("127.0.0.1", carrier.ami_port, carrier.ami_username, carrier.ami_secret)
    await ami.start()
    try:
        await ami.wait_connected(10)
        contacts = await ami.action({"Action": "PJSIPShowContacts"})
    finally:
        await ami.stop()
    for c in contacts:
        if str(c.get("ObjectName", "")).startswith(aor + ";@") and c.get("Uri"):
            return str(c["Uri"])
    return None
