"""A second sandbox Asterisk playing the carrier: it accepts SIP calls from
ccplane's Asterisk, reports each dialled number (UserEvent CarrierCall) and
answers. It is also a registrar: the customer (known by its address, as the
calls are) may register account ``ccplane-acct``; any other account is
refused. The carrier does not challenge: Asterisk identifies a REGISTER from
loopback by address before user name, so digest authentication of the
registration is not exercised here."""
from __future__ import annotations

from pathlib import Path

from ccplane.asterisk.sandbox import Sandbox, SandboxState
from ccplane.settings import load_settings
from tests.support.sandboxes import instance_env

CARRIER = instance_env("carrier", 5438, 8488, 5460, 13500, 13999)

PJSIP = """; the carrier's view of ccplane's Asterisk: everyone on loopback is the customer
[customer]
type=endpoint
context=carrier-in
disallow=all
allow=ulaw,alaw
direct_media=no
aors=ccplane-acct

[customer]
type=identify
endpoint=customer
match=127.0.0.1

; the account ccplane's registering trunk registers (any other is refused)
[ccplane-acct]
type=aor
max_contacts=5
remove_existing=yes
"""

ACCOUNT, ACCOUNT_SECRET = "ccplane-acct", "carrier-secret"

DIALPLAN = """[carrier-in]
exten => _X.,1,UserEvent(CarrierCall,Number: ${EXTEN},From: ${CALLERID(num)})
 same => n,Answer()
 same => n,Wait(30)
 same => n,Hangup()
"""


def start_carrier() -> tuple[Sandbox, SandboxState]:
    sandbox = Sandbox(load_settings(env=CARRIER).sandbox, progress=print)
    state = sandbox.up()
    etc = Path(state.config_dir) / "ccplane"
    (etc / "pjsip.conf").write_text(PJSIP)
    (etc / "extensions.conf").write_text(DIALPLAN)
    sandbox.cli("module reload res_pjsip.so")
    sandbox.cli("dialplan reload")
    return sandbox, state
