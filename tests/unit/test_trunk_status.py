"""Trunk registration status from AMI Registry events and the resync snapshot."""
from __future__ import annotations

from typing import Any

from ccplane.asterisk.events import decode_event
from ccplane.features.trunks.services import TrunkService

CLIENT, SERVER = "sip:acct@carrier.example:5060", "sip:carrier.example:5060"


def registry(status: str, client: str = CLIENT, server: str = SERVER) -> Any:
    return decode_event({"Event": "Registry", "ChannelType": "PJSIP", "Username": client, "Domain": server,
                        "Status": status})


def detail(status: str, client: str = CLIENT, server: str = SERVER) -> dict[str, str]:
    return {"Event": "OutboundRegistrationDetail", "ObjectName": "t-reg", "ClientUri": client,
            "ServerUri": server, "Status": status}


def service() -> TrunkService:
    return TrunkService(None, None, None)  # type: ignore[arg-type]


def test_two_accounts_at_one_carrier_keep_their_own_status() -> None:
    trunks = service()
    trunks.on_registry(registry("Registered"))
    trunks.on_registry(registry("Rejected", client="sip:other@carrier.example:5060"))
    assert trunks.registrations[(CLIENT, SERVER)] == "Registered"
    assert trunks.registrations[("sip:other@carrier.example:5060", SERVER)] == "Rejected"


def test_snapshot_replaces_what_it_knows_but_not_a_newer_event() -> None:
    trunks = service()
    trunks.on_registry(registry("Registered", client="sip:gone@carrier.example:5060"))
    asked = trunks.registry_events
    trunks.on_registry(registry("Rejected"))  # arrives while the list is on its way
    trunks.reset_registrations([detail("Registered"), {"Event": "OutboundRegistrationDetailComplete"}], asked)
    assert trunks.registrations == {(CLIENT, SERVER): "Rejected"}  # the event is newer; "gone" is gone


def test_snapshot_after_a_reconnect_fills_unknown_status() -> None:
    trunks = service()
    trunks.reset_registrations([detail("Registered")], trunks.registry_events)
    assert trunks.registrations == {(CLIENT, SERVER): "Registered"}
