"""AMI framing and typed events, on real Asterisk 22 transcripts.

Each ``transcripts/*.ami`` file holds the raw bytes one AMI connection received
from Asterisk 22.10 (Debian sid) while a scenario ran; only secrets were
replaced. Scenarios (``evq``: ringall, member Local/answer@evmembers/n, which
answers and hangs up after 2 s; ``evqna``: a member that never answers):

- login_fullybooted: login, FullyBooted, logoff.
- queue_answered_agent_hangup / _caller_hangup: Originate Local/q@evtest into
  Wait(10) / Wait(1); the member answers; agent or caller hangs up first.
- queue_answered_chanvars: the same with manager.conf channelvars set.
- queue_noanswer_abandon: two AgentRingNoAnswer, then the caller gives up.
- queue_timeout: Queue(evqna,,,,5) runs out of time.
- queue_agent_dump: the member hangs up during its announcement (AgentDump).
- queue_status: QueueStatus and CoreShowChannels while a caller waits.
- queue_members: QueueAdd, QueuePause on/off, QueuePenalty,
  QueueMemberRingInUse, QueueRemove (twice: an error), Reload app_queue.
- pjsip_register: baresip registers ev-1001, PJSIPShowContacts and
  PJSIPShowEndpoints, baresip gets SIGTERM and unregisters.
- pjsip_registry: an outbound registration unregistered and registered again.
- phone_blind_transfer / phone_attended_transfer: Originate to the baresip
  phone; caller id, UserEvent, MixMonitor, music on hold, DTMF, hold, then the
  BlindTransfer or Atxfer action.
- command_and_errors: Command outputs, an unknown action, Ping, Getvar, an
  error Response, a UserEvent action.
- shutdown: ``core stop gracefully`` while logged in.

To keep them small, the phone_*, queue_agent_dump, queue_answered_chanvars and
shutdown sessions sent Filter actions that drop VarSet, Newexten and TestEvent
(this Debian build has the test framework on, hence TestEvent elsewhere).
"""

from __future__ import annotations

import dataclasses
import random
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from ccplane.asterisk import events as ev
from ccplane.asterisk.events import AmiEvent, AmiParser, decode_event, frames_to_events

TRANSCRIPTS = Path(__file__).parent / "transcripts"
ALL = sorted(p.name for p in TRANSCRIPTS.glob("*.ami"))
QUEUE_FLOW = {"QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "AgentCalled",
              "AgentConnect", "AgentComplete", "AgentRingNoAnswer", "AgentDump"}


def raw(name: str) -> bytes:
    return (TRANSCRIPTS / name).read_bytes()


def parse(data: bytes, sizes: Callable[[], int] | None = None) -> tuple[list[ev.Frame], str | None]:
    parser = AmiParser()
    frames: list[ev.Frame] = []
    if sizes is None:
        frames += parser.feed(data)
    else:
        at = 0
        while at < len(data):
            step = sizes()
            frames += parser.feed(data[at:at + step])
            at += step
    return frames, parser.banner


def events(name: str) -> list[AmiEvent]:
    return frames_to_events(parse(raw(name))[0])


def named(name: str, *wanted: str) -> list[Any]:
    return [e for e in events(name) if e.name in wanted]


# --- framing -----------------------------------------------------------------------


def test_transcripts_are_there() -> None:
    assert len(ALL) >= 15
    assert all(len(raw(name)) < 64_000 for name in ALL)


@pytest.mark.parametrize("name", ALL)
def test_one_chunk_frames(name: str) -> None:
    data = raw(name)
    frames, banner = parse(data)
    assert banner == "Asterisk Call Manager/11.0.0"
    assert len(frames) == data.count(b"\r\n\r\n")
    assert all("Event" in f or "Response" in f for f in frames)


@pytest.mark.parametrize("name", ALL)
def test_byte_by_byte_gives_the_same_frames(name: str) -> None:
    data = raw(name)
    assert parse(data, lambda: 1) == parse(data)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", ALL)
def test_random_chunks_give_the_same_frames(name: str, seed: int) -> None:
    data = raw(name)
    rng = random.Random(seed)
    assert parse(data, lambda: rng.randint(1, 300)) == parse(data)


@pytest.mark.parametrize("name", ALL)
def test_bare_newlines_give_the_same_frames(name: str) -> None:
    data = raw(name)
    assert parse(data.replace(b"\r\n", b"\n")) == parse(data)


def test_values_keep_colons_spaces_and_repeats() -> None:
    frames, _ = parse(raw("command_and_errors.ami"))
    by_id = {f.get("ActionID"): f for f in frames if "Response" in f}
    assert by_id["ev-2"]["Output"] == ("Asterisk 22.10.1+dfsg+~cs6.17.60671434-1 built by nobody @ "
                                       "buildd.debian.org on a unknown running Linux on "
                                       "2026-07-20 21:35:32 UTC")
    assert by_id["ev-3"]["Output"] == ["System uptime: 2 minutes, 20 seconds",
                                       "Last reload: 22 seconds"]
    queue_show = by_id["ev-4"]["Output"]
    assert isinstance(queue_show, list) and queue_show[1] == "   Members: "
    assert queue_show[-2:] == ["", ""]
    assert by_id["ev-5"]["Response"] == "Error"  # an unknown CLI command
    assert str(by_id["ev-6"]["Message"]).startswith("Invalid/unknown command: NoSuchAction.")
    assert by_id["ev-7"]["Ping"] == "Pong"
    assert by_id["ev-9"] == {"Response": "Error", "ActionID": "ev-9", "Message": "No such channel"}
    user = named("command_and_errors.ami", "UserEvent")[0]
    assert user.fields["Header1"] == "Kind: probe" and user.fields["Header2"] == "Value: a: b"
    assert user.user_event == "CcplaneProbe" and user.channel is None


def test_framing_edge_cases() -> None:
    parser = AmiParser()
    assert parser.feed(b"") == []
    assert parser.feed(b"Asterisk Call Man") == []
    assert parser.feed(b"ager/11.0.0\r\n\r\n\r\nEvent: X\r\nmixedCase: a\r\nK:") == []
    assert parser.banner == "Asterisk Call Manager/11.0.0"
    assert parser.feed(b"v\nEmpty:\r\nEmpty2: \r\nEvent: Y\r\n\n") == [
        {"Event": ["X", "Y"], "mixedCase": "a", "K": "v", "Empty": "", "Empty2": ""}]
    assert AmiParser().feed(b"Response: Success\r\n\r\n") == [{"Response": "Success"}]
    assert "é" in AmiParser().feed("CallerIDName: José\r\n\r\n".encode())[0]["CallerIDName"]


def test_odd_keys_are_kept_whole() -> None:
    # OriginateResponse names the channel inside its ChanVariable keys.
    response = named("queue_answered_chanvars.ami", "OriginateResponse")[0]
    assert response.fields["ChanVariable(Local/qv@evtest-00000000;1)"] == [
        "CCPLANE_CALL=", "MEMBERINTERFACE="]


def test_parsing_is_linear() -> None:
    """Thousands of events: twice the input costs twice the calls (counted, not timed)."""
    body = raw("queue_answered_agent_hangup.ami").split(b"\r\n", 1)[1]

    def calls(copies: int) -> tuple[int, int]:
        data = body * copies
        count = 0

        def profile(frame: FrameType, event: str, arg: Any) -> None:
            nonlocal count
            count += 1

        parser = AmiParser()
        frames = 0
        sys.setprofile(profile)
        try:
            for at in range(0, len(data), 97):
                frames += len(parser.feed(data[at:at + 97]))
        finally:
            sys.setprofile(None)
        return frames, count

    frames_1, calls_1 = calls(15)
    frames_2, calls_2 = calls(30)
    assert frames_2 == 2 * frames_1 > 2500
    assert 1.9 < calls_2 / calls_1 < 2.1


# --- decoding ---------------------------------------------------------------------------


def test_unknown_event_is_the_base_class() -> None:
    auth = named("login_fullybooted.ami", "SuccessfulAuth")[0]
    assert type(auth) is AmiEvent and auth.fields["AccountID"] == "evuser"
    made_up = decode_event({"Event": "CcplaneNothing", "A": "1"})
    assert type(made_up) is AmiEvent and made_up.name == "CcplaneNothing"
    with pytest.raises(ValueError):
        decode_event({"Response": "Success"})


def test_malformed_numbers_are_none_and_stay_raw() -> None:
    frame = dict(named("queue_noanswer_abandon.ami", "AgentRingNoAnswer")[0].fields)
    frame.update(RingTime="3s", Priority="", ChannelState="1_0", DestPriority=["x", "1"])
    event = decode_event(frame)
    assert isinstance(event, ev.AgentRingNoAnswer)
    assert event.ring_time is None and event.fields["RingTime"] == "3s"
    assert event.priority is None and event.channel_state is None and event.dest_priority is None
    assert event.queue == "evqna"
    member = decode_event({"Event": "QueueMemberPause", "Paused": "maybe", "Penalty": "NaN?"})
    assert isinstance(member, ev.QueueMemberEvent) and member.paused is None
    assert member.penalty is None and member.interface is None


def test_events_are_frozen_slotted_and_hashable() -> None:
    hangup = named("queue_answered_agent_hangup.ami", "Hangup")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        hangup.cause = 1
    assert not hasattr(hangup, "__dict__")
    assert hash(hangup) == hash(decode_event(hangup.fields))


_KEYS: dict[type, list[tuple[str, str, bool]]] = {}


def _keys(cls: type) -> list[tuple[str, str, bool]]:
    """(attribute, AMI key or snapshot prefix, is a snapshot) for each typed attribute."""
    if cls not in _KEYS:
        hints = typing.get_type_hints(cls)
        _KEYS[cls] = [(attr, key, any(dataclasses.is_dataclass(a)
                                      for a in typing.get_args(hints[attr])))
                      for attr, key, _ in ev._spec(cls)]
    return _KEYS[cls]


def _typed(name: str, *, empty: bool = False) -> Iterator[tuple[AmiEvent, str]]:
    """(event, attribute) for each typed attribute whose key(s) Asterisk sent."""
    for event in events(name):
        for attr, key, snapshot in _keys(type(event)) if type(event) is not AmiEvent else ():
            if snapshot:
                sent = any(k.startswith(key) for k in event.fields)
            else:
                sent = key in event.fields if empty else event.fields.get(key) not in (None, "")
            if sent:
                yield event, attr


@pytest.mark.parametrize("name", ALL)
def test_every_typed_key_asterisk_sent_is_decoded(name: str) -> None:
    """Field names match Asterisk 22: a key present in a frame is never lost."""
    for event, attr in _typed(name):
        assert getattr(event, attr) not in (None, {}), (event.name, attr)


def test_every_typed_attribute_was_seen_on_real_asterisk() -> None:
    seen = {(type(e), attr) for name in ALL for e, attr in _typed(name, empty=True)}
    never = {(cls.__name__, attr) for cls in set(ev.EVENT_TYPES.values())
             for attr, _, _ in ev._spec(cls)
             if (cls, attr) not in seen and not attr.endswith("chan_variables")}
    # Documented by Asterisk, but not produced by these scenarios.
    assert never == {("AttendedTransfer", "dest_app"), ("BridgeChannelEvent", "swap_uniqueid"),
                     ("DialEnd", "forward"), ("PeerStatus", "address"), ("PeerStatus", "cause"),
                     ("QueueCallerAbandon", "count"), ("QueueMember", "ringinuse"),
                     ("Registry", "cause")}


def test_channel_fields() -> None:
    join = named("queue_answered_agent_hangup.ami", "QueueCallerJoin")[0]
    assert isinstance(join, ev.ChannelFields)
    assert (join.channel, join.channel_state, join.channel_state_desc) == (
        "Local/q@evtest-00000000;2", 4, "Ring")
    assert (join.caller_id_num, join.caller_id_name) == ("5551000", "Ev Caller")
    assert (join.connected_line_num, join.connected_line_name) == ("5551000", "Ev Caller")
    assert (join.context, join.exten, join.priority) == ("evtest", "q", 1)
    assert (join.language, join.account_code) == ("en", "")
    assert (join.uniqueid, join.linkedid) == ("1795652030.1", "1795652030.0")
    assert join.chan_variables == {}
    begin = named("queue_answered_agent_hangup.ami", "DialBegin")[0]
    assert begin.channel is None and begin.dest_channel == "Local/q@evtest-00000000;1"


def test_agent_complete_keeps_whichever_channels_still_exist() -> None:
    # Same scenario as queue_answered_agent_hangup, but here AgentComplete won
    # the race against the member's Hangup, so both sides are present.
    complete = named("queue_answered_chanvars.ami", "AgentComplete")[0]
    assert complete.reason == "agent"
    assert (complete.uniqueid, complete.dest_uniqueid) == ("1795652410.1", "1795652410.2")


def test_chan_variables() -> None:
    connect = named("queue_answered_chanvars.ami", "AgentConnect")[0]
    assert connect.chan_variables == {"CCPLANE_CALL": "call-42", "MEMBERINTERFACE": ""}
    assert connect.dest_chan_variables == {"CCPLANE_CALL": "call-42", "MEMBERINTERFACE": ""}


# --- queue scenarios ----------------------------------------------------------------------


@pytest.mark.parametrize("name, flow", [
    ("queue_answered_agent_hangup.ami",
     ["QueueCallerJoin", "AgentCalled", "QueueCallerLeave", "AgentConnect", "AgentComplete"]),
    ("queue_answered_caller_hangup.ami",
     ["QueueCallerJoin", "AgentCalled", "QueueCallerLeave", "AgentConnect", "AgentComplete"]),
    ("queue_answered_chanvars.ami",
     ["QueueCallerJoin", "AgentCalled", "QueueCallerLeave", "AgentConnect", "AgentComplete"]),
    ("queue_noanswer_abandon.ami",
     ["QueueCallerJoin", "AgentCalled", "AgentRingNoAnswer", "AgentCalled", "AgentRingNoAnswer",
      "QueueCallerAbandon", "QueueCallerLeave"]),
    ("queue_timeout.ami",
     ["QueueCallerJoin", "AgentCalled", "AgentRingNoAnswer", "AgentCalled", "AgentRingNoAnswer",
      "QueueCallerAbandon", "QueueCallerLeave"]),
    ("queue_agent_dump.ami",
     ["QueueCallerJoin"] + ["AgentCalled", "AgentDump"] * 4
     + ["QueueCallerAbandon", "QueueCallerLeave"]),
    ("queue_status.ami",
     ["QueueCallerJoin", "AgentCalled", "AgentRingNoAnswer", "AgentCalled", "QueueCallerAbandon",
      "QueueCallerLeave"]),
])
def test_queue_flow(name: str, flow: list[str]) -> None:
    assert [e.name for e in events(name) if e.name in QUEUE_FLOW] == flow


def test_answered_call_agent_hangs_up() -> None:
    name = "queue_answered_agent_hangup.ami"
    assert [e.name for e in events(name) if e.name not in {
        "VarSet", "TestEvent", "Newexten", "DeviceStateChange", "NewCallerid",
        "NewConnectedLine", "SuccessfulAuth", "FullyBooted", "Cdr", "LocalBridge",
        "SoftHangupRequest", "HangupRequest", "QueueMemberStatus"}] == [
        "Newchannel", "Newchannel", "DialBegin", "QueueCallerJoin", "Newchannel", "Newchannel",
        "AgentCalled", "DialBegin", "Newstate", "Newstate", "OriginateResponse", "DialEnd",
        "QueueCallerLeave", "AgentConnect", "Newstate", "BridgeCreate", "BridgeEnter",
        "Newstate", "DialEnd", "BridgeEnter", "Hangup", "BridgeLeave", "Hangup",
        "AgentComplete", "BridgeLeave", "Hangup", "BridgeDestroy", "Hangup"]
    join, leave = named(name, "QueueCallerJoin", "QueueCallerLeave")
    assert (join.queue, join.position, join.count) == ("evq", 1, 1)
    assert (leave.position, leave.count) == (1, 0)
    called, connect, complete = named(name, "AgentCalled", "AgentConnect", "AgentComplete")
    assert isinstance(called, ev.AgentEvent)
    assert (called.queue, called.interface, called.member_name) == (
        "evq", "Local/answer@evmembers/n", "Answerer")
    assert called.dest_channel == "Local/answer@evmembers-00000001;1"
    assert called.dest_uniqueid == connect.dest_uniqueid == "1795652030.2"
    assert isinstance(connect, ev.AgentConnect)
    assert (connect.hold_time, connect.ring_time) == (0, 0)
    assert isinstance(complete, ev.AgentComplete)
    assert (complete.reason, complete.hold_time, complete.talk_time) == ("agent", 0, 2)
    assert complete.uniqueid == join.uniqueid
    # The member's channel was already gone (its Hangup came first): no dest_* at all.
    assert complete.dest_channel is None and complete.dest_uniqueid is None
    assert [e.dial_status for e in named(name, "DialEnd")] == ["ANSWER", "ANSWER"]
    assert [(e.cause, e.cause_txt) for e in named(name, "Hangup")][0] == (16, "Normal Clearing")
    response = named(name, "OriginateResponse")[0]
    assert (response.response, response.reason, response.action_id) == ("Success", 4, "ev-2")
    busy, free = named(name, "QueueMemberStatus")
    assert isinstance(busy, ev.QueueMemberEvent) and isinstance(free, ev.QueueMemberEvent)
    assert (busy.status, busy.in_call, busy.calls_taken, busy.last_call) == (2, True, 0, 0)
    assert (free.status, free.in_call, free.calls_taken) == (1, False, 1)
    assert (free.last_call, free.paused, free.ringinuse) == (1795652032, False, False)
    assert (free.membership, free.wrapuptime) == ("static", 0)


def test_answered_call_caller_hangs_up() -> None:
    complete = named("queue_answered_caller_hangup.ami", "AgentComplete")[0]
    assert (complete.reason, complete.talk_time) == ("caller", 1)
    # The caller's channel was gone: only the member's side is left.
    assert complete.channel is None and complete.uniqueid is None
    assert complete.dest_uniqueid == "1795652034.6" and complete.queue == "evq"


def test_ring_no_answer_then_abandon() -> None:
    name = "queue_noanswer_abandon.ami"
    rings = named(name, "AgentRingNoAnswer")
    assert [(r.ring_time, r.member_name, r.interface) for r in rings] == [
        (3000, "Sleeper", "Local/noanswer@evmembers/n")] * 2
    assert [e.dial_status for e in named(name, "DialEnd")] == [
        "NOANSWER", "CANCEL", "NOANSWER", "CANCEL"]
    abandon = named(name, "QueueCallerAbandon")[0]
    assert isinstance(abandon, ev.QueueCallerAbandon)
    assert (abandon.queue, abandon.position, abandon.original_position, abandon.hold_time) == (
        "evqna", 1, 1, 8)
    response = named(name, "OriginateResponse")[0]
    assert (response.response, response.reason, response.uniqueid) == ("Failure", 3, "<unknown>")


def test_queue_timeout() -> None:
    name = "queue_timeout.ami"
    assert [r.ring_time for r in named(name, "AgentRingNoAnswer")] == [3000, 1000]
    assert named(name, "QueueCallerAbandon")[0].hold_time == 5
    statuses = [e.value for e in named(name, "VarSet") if e.variable == "QUEUESTATUS"]
    assert statuses == ["TIMEOUT"]


def test_agent_dump() -> None:
    dumps = named("queue_agent_dump.ami", "AgentDump")
    assert len(dumps) == 4 and all(type(d) is ev.AgentEvent for d in dumps)
    assert {(d.queue, d.member_name, d.dest_channel_state_desc) for d in dumps} == {
        ("evqdump", "Dumper", "Up")}


def test_queue_status_list() -> None:
    name = "queue_status.ami"
    items = [e for e in events(name) if e.action_id == "ev-3"]
    assert [e.name for e in items] == [
        "QueueParams", "QueueMember", "QueueParams", "QueueMember", "QueueEntry",
        "QueueStatusComplete"]
    params, member, _, _, entry, complete = items
    assert isinstance(params, ev.QueueParams)
    assert (params.queue, params.strategy, params.calls) == ("evq", "ringall", 0)
    assert (params.completed, params.abandoned, params.max) == (2, 0, 0)
    assert (params.hold_time, params.talk_time, params.service_level_perf) == (0, 1, 100.0)
    assert isinstance(member, ev.QueueMember)
    assert (member.member_name, member.interface, member.state_interface) == (
        "Answerer", "Local/answer@evmembers/n", "Local/answer@evmembers/n")
    assert (member.status, member.paused, member.calls_taken, member.last_call) == (
        1, False, 2, 1795652035)
    assert isinstance(entry, ev.QueueEntry)
    assert (entry.queue, entry.position, entry.channel, entry.wait, entry.priority) == (
        "evqna", 1, "Local/qna@evtest-0000000a;2", 1, 0)
    assert isinstance(complete, ev.ListComplete)
    assert (complete.event_list, complete.list_items) == ("Complete", 5)
    channels = [e for e in events(name) if e.action_id == "ev-4"]
    assert [e.name for e in channels] == ["CoreShowChannel"] * 4 + ["CoreShowChannelsComplete"]
    first = channels[0]
    assert isinstance(first, ev.CoreShowChannel)
    assert (first.application, first.application_data, first.duration, first.bridge_id) == (
        "Queue", "evqna,,,,30", "00:00:00", "")
    assert channels[-1].list_items == 4  # type: ignore[attr-defined]


def test_queue_member_changes() -> None:
    changes: list[Any] = [e for e in events("queue_members.ami")
                          if e.name.startswith("QueueMember")]
    assert [e.name for e in changes] == [
        "QueueMemberAdded", "QueueMemberPause", "QueueMemberPause", "QueueMemberPenalty",
        "QueueMemberRinginuse", "QueueMemberRemoved"]
    added, paused, unpaused, penalty, ringinuse, removed = changes
    assert (added.membership, added.penalty, added.paused, added.status) == ("dynamic", 2, False, 4)
    assert (paused.paused, paused.paused_reason) == (True, "lunch break")
    assert paused.last_pause == 1795652096
    assert (unpaused.paused, unpaused.paused_reason) == (False, "")
    assert (penalty.penalty, ringinuse.ringinuse, removed.interface) == (
        3, True, "Local/extra@evmembers/n")
    reload = named("queue_members.ami", "Reload")[0]
    assert (reload.module, reload.status) == ("app_queue.so", 0)


# --- endpoints, system --------------------------------------------------------------------


def test_phone_registers_and_unregisters() -> None:
    name = "pjsip_register.ami"
    frames, _ = parse(raw(name))
    assert frames[3]["Message"] == "No Contacts found"  # PJSIPShowContacts, nobody registered
    statuses = named(name, "ContactStatus")
    assert [(s.contact_status, s.roundtrip_usec) for s in statuses] == [
        ("NonQualified", 0), ("Reachable", 2656), ("Removed", 0)]
    assert {(s.aor, s.endpoint_name, s.uri) for s in statuses} == {
        ("ev-1001", "ev-1001", "sip:ev-1001-0x55b1cb4681d0@127.0.0.1:7170")}
    assert [p.peer_status for p in named(name, "PeerStatus")] == ["Reachable", "Unreachable"]
    assert named(name, "PeerStatus")[0].peer == "PJSIP/ev-1001"
    contact = named(name, "ContactList")[0]
    assert isinstance(contact, ev.ContactList)
    assert (contact.aor, contact.endpoint, contact.status, contact.roundtrip_usec) == (
        "ev-1001", "ev-1001", "Reachable", 2656)
    assert (contact.via_port, contact.qualify_frequency, contact.qualify_timeout) == (7170, 15, 3.0)
    assert contact.uri == statuses[0].uri and contact.expiration_time == 1795652171
    endpoint = named(name, "EndpointList")[0]
    assert (endpoint.object_name, endpoint.aor) == ("ev-1001", "ev-1001")
    assert (endpoint.device_state, endpoint.active_channels) == ("Not in use", 0)
    ends = named(name, "ContactListComplete", "EndpointListComplete")
    assert [e.list_items for e in ends] == [1, 1]


def test_outbound_registration() -> None:
    registry = named("pjsip_registry.ami", "Registry")
    assert [r.status for r in registry] == ["Unregistered", "Unregistered", "Registered"]
    assert (registry[0].channel_type, registry[0].username, registry[0].domain) == (
        "PJSIP", "sip:ev-1002@127.0.0.1:7160", "sip:127.0.0.1:7160")
    assert b"secret100" not in raw("pjsip_registry.ami")


def test_system_events() -> None:
    booted = named("login_fullybooted.ami", "FullyBooted")[0]
    assert (booted.status, booted.uptime, booted.last_reload) == ("Fully Booted", 31, 31)
    shutdown = named("shutdown.ami", "Shutdown")[0]
    assert (shutdown.shutdown, shutdown.restart) == ("Cleanly", False)
    change = named("queue_members.ami", "DeviceStateChange")[0]
    assert (change.device, change.state) == ("Queue:evq_pause_Local/extra@evmembers/n", "NOT_INUSE")


# --- phone calls and transfers ------------------------------------------------------------


def test_phone_call_features() -> None:
    name = "phone_blind_transfer.ami"
    caller_id = named(name, "NewCallerid")[1]
    assert (caller_id.caller_id_name, caller_id.cid_calling_pres) == (
        "Renamed Caller", "0 (Presentation Allowed, Not Screened)")
    mark = named(name, "UserEvent")[0]
    assert (mark.user_event, mark.channel, mark.fields["Note"]) == (
        "CcplaneMark", "PJSIP/ev-1001-00000004", "a: b")
    assert [e.name for e in named(name, "MixMonitorStart", "MixMonitorStop")] == [
        "MixMonitorStart", "MixMonitorStop"]
    assert [(e.name, e.music_class) for e in named(name, "MusicOnHoldStart", "Hold")] == [
        ("MusicOnHoldStart", "default"), ("Hold", "default"), ("MusicOnHoldStart", "default")]
    dtmf = named(name, "DTMFBegin", "DTMFEnd")
    assert [(d.name, d.digit, d.direction, d.duration_ms) for d in dtmf][::3] == [
        ("DTMFBegin", "5", "Received", None), ("DTMFEnd", "5", "Received", 180)]
    state = named(name, "DialState")[0]
    assert (state.dial_status, state.dest_channel_state_desc) == ("RINGING", "Ringing")
    assert [h.cause for h in named(name, "Hangup")] == [16, 16, 16]


def test_blind_transfer() -> None:
    transfer = named("phone_blind_transfer.ami", "BlindTransfer")[0]
    assert isinstance(transfer, ev.BlindTransfer)
    assert (transfer.result, transfer.is_external, transfer.context, transfer.extension) == (
        "Success", True, "evmembers", "200")
    assert transfer.transferer is not None and transfer.transferee is not None
    assert isinstance(transfer.transferer, ev.ChannelFields)
    assert transfer.transferer.channel == "PJSIP/ev-1001-00000004"
    assert transfer.transferer.priority == 9
    assert transfer.transferee.channel == "Local/talk@evmembers-00000013;1"
    assert transfer.transferee.linkedid == transfer.transferer.uniqueid
    assert transfer.bridge is not None
    assert (transfer.bridge.type, transfer.bridge.technology, transfer.bridge.num_channels) == (
        "basic", "simple_bridge", 2)
    enter = named("phone_blind_transfer.ami", "BridgeEnter")[0]
    assert enter.bridge is not None and enter.bridge.uniqueid == transfer.bridge.uniqueid


def test_attended_transfer() -> None:
    name = "phone_attended_transfer.ami"
    transfer = named(name, "AttendedTransfer")[0]
    assert isinstance(transfer, ev.AttendedTransfer)
    assert (transfer.result, transfer.is_external) == ("Success", False)
    assert transfer.dest_type == "Bridge"
    assert transfer.orig_transferer is not None and transfer.transfer_target is not None
    assert transfer.orig_transferer.channel == "PJSIP/ev-1001-00000003"
    assert transfer.transferee is not None
    assert transfer.transferee.channel == "Local/talk@evmembers-00000011;1"
    assert (transfer.transfer_target.channel, transfer.transfer_target.exten) == (
        "Local/200@evmembers-00000012;1", "200")
    assert transfer.orig_bridge is not None and transfer.second_bridge is not None
    assert transfer.dest_bridge_uniqueid == transfer.orig_bridge.uniqueid
    assert transfer.second_bridge.num_channels == 0
    merge = named(name, "BridgeMerge")[0]
    assert merge.to_bridge.uniqueid == transfer.orig_bridge.uniqueid
    assert merge.from_bridge.uniqueid == transfer.second_bridge.uniqueid
    # Atxfer queues the feature code and the number as received DTMF.
    assert [d.digit for d in named(name, "DTMFEnd")] == ["*", "2", "2", "0", "0"]
    local = named(name, "LocalBridge")[0]
    assert local.local_one is not None and local.local_two is not None
    assert local.local_one.channel == "Local/talk@evmembers-00000011;1"
    assert local.local_two.channel == "Local/talk@evmembers-00000011;2"
    assert local.local_optimization is False


def test_frames_to_events_skips_responses() -> None:
    frames, _ = parse(raw("queue_answered_agent_hangup.ami"))
    decoded = frames_to_events(frames)
    assert len(decoded) == sum("Event" in f for f in frames) == len(frames) - 3
    assert all(isinstance(e, AmiEvent) for e in decoded)


def _every_event() -> Iterator[AmiEvent]:
    for name in ALL:
        yield from events(name)


def test_registry_covers_the_brief() -> None:
    wanted = """FullyBooted Shutdown Reload ContactStatus DeviceStateChange PeerStatus Registry
        Newchannel Newstate Hangup HangupRequest SoftHangupRequest DialBegin DialEnd BridgeCreate
        BridgeEnter BridgeLeave BridgeDestroy VarSet DTMFBegin DTMFEnd NewCallerid
        NewConnectedLine Cdr QueueCallerJoin QueueCallerLeave QueueCallerAbandon AgentCalled
        AgentConnect AgentComplete AgentRingNoAnswer AgentDump QueueMemberAdded
        QueueMemberRemoved QueueMemberPause QueueMemberStatus QueueMemberRinginuse QueueParams
        QueueMember QueueEntry QueueStatusComplete CoreShowChannel ContactList EndpointList
        OriginateResponse MixMonitorStart MixMonitorStop UserEvent AttendedTransfer BlindTransfer
        MusicOnHoldStart MusicOnHoldStop Hold Unhold""".split()
    assert set(wanted) <= set(ev.EVENT_TYPES)
    recorded = {e.name for e in _every_event()}
    assert set(wanted) <= recorded  # each was also seen on the real Asterisk
