"""Pure ARI event decoding, on messages recorded from a real Asterisk 22.10.1."""
from __future__ import annotations

import json

import pytest

from ccplane.asterisk.ari import AriEvent, decode_event, encode_params

# Recorded verbatim from /ari/events (a Local channel originated into Stasis).
STASIS_START = (
    '{"type":"StasisStart","timestamp":"2026-11-26T00:15:12.487+0000","args":[],"channel"'
    ':{"id":"capture-1","name":"Local/dtmf@ccplane-ari-test-00000002;1","state":"Up","pro'
    'tocol_id":"","caller":{"name":"","number":""},"connected":{"name":"","number":""},"a'
    'ccountcode":"","dialplan":{"context":"ccplane-ari-test","exten":"dtmf","priority":1,'
    '"app_name":"Stasis","app_data":"ccplane"},"creationtime":"2026-11-26T00:15:12.486+00'
    '00","language":"en"},"asterisk_id":"02:fc:00:00:00:01","application":"ccplane"}'
)
DTMF_RECEIVED = (
    '{"type":"ChannelDtmfReceived","timestamp":"2026-11-26T00:15:14.192+0000","digit":"1"'
    ',"duration_ms":100,"channel":{"id":"capture-1","name":"Local/dtmf@ccplane-ari-test-0'
    '0000002;1","state":"Up","protocol_id":"","caller":{"name":"","number":""},"connected'
    '":{"name":"","number":""},"accountcode":"","dialplan":{"context":"ccplane-ari-test",'
    '"exten":"dtmf","priority":1,"app_name":"Stasis","app_data":"ccplane"},"creationtime"'
    ':"2026-11-26T00:15:12.486+0000","language":"en"},"asterisk_id":"02:fc:00:00:00:01","'
    'application":"ccplane"}'
)
DIAL = (
    '{"type":"Dial","timestamp":"2026-11-26T00:15:12.486+0000","dialstatus":"","forward":'
    '"","dialstring":"dtmf@ccplane-ari-test","peer":{"id":"capture-1","name":"Local/dtmf@'
    'ccplane-ari-test-00000002;1","state":"Down","protocol_id":"","caller":{"name":"","nu'
    'mber":""},"connected":{"name":"","number":""},"accountcode":"","dialplan":{"context"'
    ':"ccplane-ari-test","exten":"dtmf","priority":1,"app_name":"AppDial2","app_data":"(O'
    'utgoing Line)"},"creationtime":"2026-11-26T00:15:12.486+0000","language":"en"},"aste'
    'risk_id":"02:fc:00:00:00:01","application":"ccplane"}'
)


def test_stasis_start_from_text() -> None:
    event = decode_event(STASIS_START)
    assert event.type == "StasisStart"
    assert event.application == "ccplane"
    assert event.timestamp == "2026-11-26T00:15:12.487+0000"
    assert event.channel_id == "capture-1"
    assert event.data["args"] == []
    assert event.data["channel"]["name"] == "Local/dtmf@ccplane-ari-test-00000002;1"


def test_dtmf_from_bytes() -> None:
    event = decode_event(DTMF_RECEIVED.encode("utf-8"))
    assert event.type == "ChannelDtmfReceived"
    assert event.channel_id == "capture-1"
    assert event.data["digit"] == "1"
    assert event.data["duration_ms"] == 100


def test_dict_gives_same_event_as_text() -> None:
    assert decode_event(json.loads(STASIS_START)) == decode_event(STASIS_START)


def test_event_without_channel_has_no_channel_id() -> None:
    # Dial names its channels "peer"/"caller", never "channel".
    event = decode_event(DIAL)
    assert event.type == "Dial"
    assert event.channel_id is None
    assert event.data["peer"]["id"] == "capture-1"


def test_minimal_event() -> None:
    assert decode_event('{"type": "ApplicationReplaced"}') == AriEvent(
        type="ApplicationReplaced", application=None, timestamp=None, channel_id=None,
        data={"type": "ApplicationReplaced"},
    )


def test_ill_typed_optional_fields_become_none() -> None:
    event = decode_event({"type": "X", "application": 3, "timestamp": [], "channel": {"id": 7}})
    assert (event.application, event.timestamp, event.channel_id) == (None, None, None)
    assert decode_event({"type": "X", "channel": "not-an-object"}).channel_id is None


def test_event_is_frozen_and_hashable() -> None:
    event = decode_event(STASIS_START)
    with pytest.raises(AttributeError):
        event.type = "StasisEnd"  # type: ignore[misc]
    assert hash(event) == hash(decode_event(STASIS_START))


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        b"\xff\xfe",
        '["StasisStart"]',
        "null",
        '"StasisStart"',
        "{}",
        '{"type": ""}',
        '{"type": 5}',
        {"application": "ccplane"},
        STASIS_START[:-1],
    ],
)
def test_junk_raises_value_error(raw: str | bytes | dict[str, object]) -> None:
    with pytest.raises(ValueError):
        decode_event(raw)


def test_non_text_input_raises_value_error() -> None:
    with pytest.raises(ValueError):
        decode_event(42)  # type: ignore[arg-type]


def test_encode_params() -> None:
    assert encode_params(
        {"subscribeAll": False, "early": True, "timeout": 30, "channel": ["a", "b"], "x": None}
    ) == {"subscribeAll": "false", "early": "true", "timeout": "30", "channel": "a,b"}
