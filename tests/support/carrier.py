"""The carrier sandbox for tests: ccplane.demo.carrier's second Asterisk, on the
test instance's name and ports."""
from __future__ import annotations

from ccplane.asterisk.sandbox import Sandbox, SandboxState
from ccplane.demo.carrier import (ACCOUNT, ACCOUNT_SECRET, LINE_ACCOUNT, place_call,  # noqa: F401
                                  registered_contact)
from ccplane.demo import carrier as _carrier
from ccplane.settings import load_settings
from tests.support.sandboxes import instance_env

CARRIER = instance_env("carrier", 5438, 8488, 5460, 13500, 13999)


def start_carrier() -> tuple[Sandbox, SandboxState]:
    return _carrier.start_carrier(load_settings(env=CARRIER).sandbox)
