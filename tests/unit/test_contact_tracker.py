"""ContactTracker: the registrations view fed by ContactStatus events, rebuilt from
PJSIPShowContacts, and topped up by one endpoint's PJSIPShowEndpoint answer."""
from __future__ import annotations

import asyncio
from typing import Any

from ccplane.asterisk.events import decode_event
from ccplane.asterisk.tracker import ContactTracker, confirm_registration

# PJSIPShowEndpoint's answer for a registered WebRTC endpoint, as Asterisk 22 sends it (trimmed)
SHOW_ENDPOINT = [
    {"Event": "EndpointDetail", "ObjectName": "d1-7001", "DeviceState": "Not in use"},
    {"Event": "AorDetail", "ObjectName": "d1-7001", "Contacts": "d1-7001/sip:x@127.0.0.1:40122;transport=ws"},
    {"Event": "ContactStatusDetail", "AOR": "d1-7001", "URI": "sip:x@127.0.0.1:40122;transport=ws",
     "Status": "Unknown", "EndpointName": "d1-7001"},
    {"Event": "EndpointDetailComplete", "ListItems": "3"},
]


def test_merge_takes_the_contacts_asterisk_reports_and_tells_the_listeners() -> None:
    tracker = ContactTracker()
    seen: list[tuple[str, bool]] = []
    tracker.on_change(lambda endpoint, registered: seen.append((endpoint, registered)))
    assert tracker.merge("d1-7001", SHOW_ENDPOINT) is True
    assert tracker.contacts("d1-7001") == ["sip:x@127.0.0.1:40122;transport=ws"]
    assert seen == [("d1-7001", True)]
    assert tracker.merge("d1-7001", SHOW_ENDPOINT) is True and seen == [("d1-7001", True)]  # no change, no news
    # a later event still wins: the phone goes away
    gone = decode_event({"Event": "ContactStatus", "EndpointName": "d1-7001",
                         "URI": "sip:x@127.0.0.1:40122;transport=ws", "ContactStatus": "Removed"})
    tracker.handle(gone)
    assert not tracker.registered("d1-7001") and seen[-1] == ("d1-7001", False)


def test_merge_ignores_other_endpoints_and_dead_contacts() -> None:
    tracker = ContactTracker()
    other = [{**SHOW_ENDPOINT[2], "EndpointName": "d1-7002"}]
    assert tracker.merge("d1-7001", other) is False
    dead = [{**SHOW_ENDPOINT[2], "Status": "Unreachable"}]
    assert tracker.merge("d1-7001", dead) is False
    assert tracker.merge("d1-7001", [SHOW_ENDPOINT[0], SHOW_ENDPOINT[3]]) is False


def test_confirm_asks_asterisk_only_when_the_view_says_not_registered() -> None:
    asked: list[dict[str, str]] = []

    async def action(request: dict[str, str]) -> Any:
        asked.append(request)
        return SHOW_ENDPOINT

    async def failing(request: dict[str, str]) -> Any:
        raise RuntimeError("Unable to retrieve endpoint d1-9999")

    tracker = ContactTracker()
    assert asyncio.run(confirm_registration(action, tracker, "d1-7001")) is True
    assert asked == [{"Action": "PJSIPShowEndpoint", "Endpoint": "d1-7001"}]
    assert asyncio.run(confirm_registration(action, tracker, "d1-7001")) is True
    assert len(asked) == 1  # known registered: Asterisk is not asked again
    assert asyncio.run(confirm_registration(failing, tracker, "d1-9999")) is False
