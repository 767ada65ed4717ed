"""Asterisk 22 AMI as pure protocol code: bytes in, frames out, typed events out.

Nothing here touches a socket. :class:`AmiParser` turns the bytes Asterisk
sends into frames (dicts); :func:`decode_event` turns a frame that has an
``Event`` key into a frozen dataclass. Both are tested byte for byte on real
Asterisk 22 transcripts in ``tests/unit/transcripts``.

Example::

    parser = AmiParser()
    frames = parser.feed(b"Asterisk Call Manager/11.0.0\\r\\n"
                         b"Event: Hangup\\r\\nChannel: PJSIP/1001-00000001\\r\\n"
                         b"Cause: 16\\r\\nCause-txt: Normal Clearing\\r\\n\\r\\n")
    parser.banner                 # 'Asterisk Call Manager/11.0.0'
    event = decode_event(frames[0])
    event.cause, event.cause_txt  # (16, 'Normal Clearing')

Attribute names are the snake_case of Asterisk's keys (``CallerIDNum`` ->
``caller_id_num``, ``DestUniqueid`` -> ``dest_uniqueid``); where Asterisk spells
a key irregularly (``Cause-txt``, ``URI``, ``UniqueID``) the attribute says so
with ``ami("...")``. ``Dest*`` keys stay flat (``dest_channel``); other
prefixed groups (``Transferer*``, ``Bridge*``, ``LocalOne*``) become nested
snapshots named after the prefix (``transferer.uniqueid``).
Every typed attribute is optional: a missing key gives ``None``, and so does a
number or a boolean that does not parse, whose raw text stays in ``fields``.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar, dataclass_transform

Fields = Mapping[str, str | list[str]]
Frame = dict[str, str | list[str]]

BANNER_PREFIX = "Asterisk Call Manager/"


class AmiParser:
    """Incremental AMI framing: feed bytes as they arrive, get complete frames.

    A frame is ``Key: value`` lines ended by an empty line. Keys keep their
    case; a repeated key (``ChanVariable``, ``Output``) gets the list of its
    values in order. Lines may end in ``\\r\\n`` or a bare ``\\n``. The greeting
    Asterisk sends on connect goes to :attr:`banner`, not to the frames.

    >>> parser = AmiParser()
    >>> parser.feed(b"Asterisk Call Manager/11.0.0\\r\\nResponse: Success\\r\\nMess")
    []
    >>> parser.feed(b"age: Authentication accepted\\r\\n\\r\\n")
    [{'Response': 'Success', 'Message': 'Authentication accepted'}]
    >>> parser.banner
    'Asterisk Call Manager/11.0.0'
    """

    __slots__ = ("banner", "_pending", "_frame", "_started")

    def __init__(self) -> None:
        self.banner: str | None = None
        self._pending = bytearray()  # bytes after the last newline
        self._frame: Frame = {}  # the frame being assembled
        self._started = False  # the first line (maybe the banner) was seen

    def feed(self, data: bytes) -> list[Frame]:
        """Consume ``data`` and return the frames it completed, in order."""
        # Only the new bytes are searched, so one byte at a time stays linear.
        if b"\n" not in data:
            self._pending += data
            return []
        lines, _, tail = data.rpartition(b"\n")
        if self._pending:
            lines = bytes(self._pending) + lines
        self._pending = bytearray(tail)
        frames: list[Frame] = []
        frame = self._frame
        for line in lines.decode("utf-8", "replace").split("\n"):
            if line.endswith("\r"):
                line = line[:-1]
            if not line:
                if frame:
                    frames.append(frame)
                    frame = {}
                continue
            if not self._started:
                self._started = True
                if line.startswith(BANNER_PREFIX):
                    self.banner = line
                    continue
            # Split at the first ": ": values may hold ": " (UserEvent headers,
            # Command output), keys may be odd (OriginateResponse sends
            # "ChanVariable(Local/q@evtest-00000000;1): NAME=value").
            key, sep, value = line.partition(": ")
            if not sep:
                key, _, value = line.partition(":")
            old = frame.get(key)
            if old is None:
                frame[key] = value
            elif isinstance(old, list):
                old.append(value)
            else:
                frame[key] = [old, value]
        self._frame = frame
        return frames


# --- how typed attributes are read --------------------------------------------

_Raw = str | list[str] | None
_Convert = Callable[[Fields], Any]
_EMPTY: Mapping[str, str] = MappingProxyType({})
_TRUE = frozenset({"1", "yes", "true", "y", "t", "on"})
_FALSE = frozenset({"0", "no", "false", "n", "f", "off"})


def ami(key: str) -> Any:
    """An optional attribute read from ``key`` rather than its CamelCase name."""
    return field(default=None, metadata={"ami": key})


def _variables_field(key: str) -> Any:
    return field(default_factory=dict, hash=False, metadata={"ami": key})


def _camel(attr: str) -> str:
    return "".join("ID" if part == "id" else part.capitalize() for part in attr.split("_"))


def _text(raw: _Raw) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    return raw[0] if raw else None


def _number(kind: type[int] | type[float]) -> Callable[[_Raw], Any]:
    def convert(raw: _Raw) -> Any:
        text = _text(raw)
        if text is None or "_" in text:  # int() would accept "1_000"
            return None
        try:
            return kind(text)
        except ValueError:
            return None

    return convert


def _boolean(raw: _Raw) -> bool | None:
    text = (_text(raw) or "").strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _variables(raw: _Raw) -> Mapping[str, str]:
    # One "ChanVariable: NAME=value" line per name in manager.conf's channelvars.
    if raw is None:
        return _EMPTY
    items = [raw] if isinstance(raw, str) else raw
    return {name: value for name, _, value in (item.partition("=") for item in items)}


_SIMPLE: dict[Any, Callable[[_Raw], Any]] = {
    str: _text, int: _number(int), float: _number(float), bool: _boolean,
}


def _converter(hint: Any, key: str) -> _Convert:
    args = typing.get_args(hint)
    kind = next(arg for arg in args if arg is not type(None)) if type(None) in args else hint
    if dataclasses.is_dataclass(kind):
        return _snapshot(typing.cast(type, kind), key)
    if typing.get_origin(kind) is Mapping:
        return lambda fields: _variables(fields.get(key))
    simple = _SIMPLE[kind]
    return lambda fields: simple(fields.get(key))


def _spec(cls: type, prefix: str = "") -> list[tuple[str, str, _Convert]]:
    """(attribute, AMI key, converter) for each typed attribute of ``cls``."""
    hints = typing.get_type_hints(cls)
    spec = []
    for f in dataclasses.fields(cls):
        if f.name not in ("name", "fields"):
            key = prefix + f.metadata.get("ami", _camel(f.name))
            spec.append((f.name, key, _converter(hints[f.name], key)))
    return spec


def _snapshot(cls: type, prefix: str) -> _Convert:
    spec = _spec(cls, prefix)
    keys = [key for _, key, _ in spec]

    def convert(fields: Fields) -> Any:
        if not any(key in fields for key in keys):
            return None
        return cls(**{attr: conv(fields) for attr, _, conv in spec})

    return convert


# --- the base classes -------------------------------------------------------

_T = TypeVar("_T", bound=type)
EVENT_TYPES: dict[str, type[AmiEvent]] = {}
_SPECS: dict[type, list[tuple[str, _Convert]]] = {}
_Setter = Callable[[Any, Any], None]
_FAST: dict[type, tuple[list[tuple[_Setter, str, Callable[[_Raw], Any] | None]], list[tuple[_Setter, _Convert]],
                        _Setter, _Setter]] = {}


def _slot_setter(cls: type, attr: str) -> _Setter:
    """The slot's own setter (a frozen dataclass refuses setattr after __init__)."""
    for klass in cls.__mro__:
        descriptor = klass.__dict__.get(attr)
        if descriptor is not None and hasattr(descriptor, "__set__"):
            return typing.cast(_Setter, descriptor.__set__)
    raise TypeError(f"{cls.__name__}.{attr} is not a slot")


def _simple_kind(hint: Any) -> Any:
    args = typing.get_args(hint)
    return next(arg for arg in args if arg is not type(None)) if type(None) in args else hint


def _is_simple(hint: Any) -> bool:
    """A str/int/float/bool attribute (optional): its converter gives None for a missing key."""
    return _simple_kind(hint) in _SIMPLE


def _simple_of(hint: Any) -> Callable[[_Raw], Any] | None:
    """The raw value's converter; None for a str attribute (a str value is taken as is)."""
    kind = _simple_kind(hint)
    return None if kind is str else _SIMPLE[kind]


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
def _frozen(cls: _T) -> _T:
    return typing.cast(_T, dataclass(frozen=True, slots=True, kw_only=True)(cls))


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
def _event(*names: str) -> Callable[[_T], _T]:
    """Make the class a frozen dataclass and the type of the named events."""

    def register(cls: _T) -> _T:
        cls = _frozen(cls)
        spec = _spec(cls)
        _SPECS[cls] = [(attr, conv) for attr, _, conv in spec]
        hints = typing.get_type_hints(cls)
        # decode_event converts only the keys a frame has (a missing simple key is the
        # attribute's default, None, what its converter would give); variables and
        # prefixed snapshots are converted every time
        # decode_event builds the instance without the dataclass __init__ (37 frozen
        # setattrs for a channel event were most of an event's decoding): every slot is
        # set through its descriptor, simple attributes from the frame (None when the key
        # is missing, each one's default), variables and prefixed snapshots by their
        # converters
        _FAST[cls] = ([(_slot_setter(cls, attr), key, _simple_of(hints[attr]))
                       for attr, key, conv in spec if _is_simple(hints[attr])],
                      [(_slot_setter(cls, attr), conv) for attr, key, conv in spec if not _is_simple(hints[attr])],
                      _slot_setter(cls, "name"), _slot_setter(cls, "fields"))
        EVENT_TYPES.update(dict.fromkeys(names, cls))
        return cls

    return register


@_frozen
class ChannelSnapshot:
    """A prefixed channel inside an event (``Transferer*``, ``LocalOne*``...)."""

    channel: str | None = None
    channel_state: int | None = None
    channel_state_desc: str | None = None
    caller_id_num: str | None = None  # "<unknown>" when unset, as Asterisk sends it
    caller_id_name: str | None = None
    connected_line_num: str | None = None
    connected_line_name: str | None = None
    language: str | None = None
    account_code: str | None = None
    context: str | None = None
    exten: str | None = None
    priority: int | None = None
    uniqueid: str | None = None
    linkedid: str | None = None
    chan_variables: Mapping[str, str] = _variables_field("ChanVariable")


@_frozen
class BridgeSnapshot:
    """A prefixed bridge inside an event (``Bridge*``, ``OrigBridge*``...)."""

    uniqueid: str | None = None
    type: str | None = None
    technology: str | None = None
    creator: str | None = None
    name: str | None = None
    num_channels: int | None = None
    video_source_mode: str | None = None


@_frozen
class AmiEvent:
    """Any AMI event; ``fields`` keeps the raw frame, typed or not.

    Dispatch on ``name``; classes are for typed attributes. Events of the same
    shape share a class (``Newchannel`` and ``Newstate`` are both plain
    :class:`ChannelEvent`), and ``isinstance`` also matches subclasses
    (every channel-bearing event is a ChannelEvent).
    """

    name: str
    fields: Fields = field(repr=False, hash=False)

    @property
    def action_id(self) -> str | None:
        """The ActionID of the action this answers (list items, OriginateResponse)."""
        return _text(self.fields.get("ActionID"))


@_event("Newchannel", "Newstate", "NewConnectedLine", "Unhold", "MusicOnHoldStop",
        "MixMonitorStart", "MixMonitorStop")
class ChannelEvent(AmiEvent):
    """An event about one channel, with the attributes of :class:`ChannelSnapshot`."""

    channel: str | None = None
    channel_state: int | None = None
    channel_state_desc: str | None = None
    caller_id_num: str | None = None
    caller_id_name: str | None = None
    connected_line_num: str | None = None
    connected_line_name: str | None = None
    language: str | None = None
    account_code: str | None = None
    context: str | None = None
    exten: str | None = None
    priority: int | None = None
    uniqueid: str | None = None
    linkedid: str | None = None
    chan_variables: Mapping[str, str] = _variables_field("ChanVariable")


ChannelFields = ChannelEvent | ChannelSnapshot  # whatever carries a channel's fields


@_frozen
class DestChannelEvent(ChannelEvent):
    """A calling channel and a ``Dest*`` channel (dials, queue members)."""

    dest_channel: str | None = None
    dest_channel_state: int | None = None
    dest_channel_state_desc: str | None = None
    dest_caller_id_num: str | None = None
    dest_caller_id_name: str | None = None
    dest_connected_line_num: str | None = None
    dest_connected_line_name: str | None = None
    dest_language: str | None = None
    dest_account_code: str | None = None
    dest_context: str | None = None
    dest_exten: str | None = None
    dest_priority: int | None = None
    dest_uniqueid: str | None = None
    dest_linkedid: str | None = None
    dest_chan_variables: Mapping[str, str] = _variables_field("DestChanVariable")


def decode_event(fields: Fields) -> AmiEvent:
    """The typed event for one frame that has an ``Event`` key.

    Unknown events give a plain :class:`AmiEvent`.

    >>> decode_event({"Event": "AgentRingNoAnswer", "RingTime": "3000"}).ring_time
    3000
    """
    name = _text(fields.get("Event"))
    if name is None:
        raise ValueError("not an AMI event: the frame has no 'Event' key")
    cls = EVENT_TYPES.get(name)
    if cls is None:
        return AmiEvent(name=name, fields=fields)
    simple, always, set_name, set_fields = _FAST[cls]
    event = object.__new__(cls)
    set_name(event, name)
    set_fields(event, fields)
    get = fields.get
    for setter, key, convert in simple:
        raw = get(key)
        if raw is None or (convert is None and raw.__class__ is str):
            setter(event, raw)
        else:
            setter(event, (convert or _text)(raw))
    for setter, conv in always:
        setter(event, conv(fields))
    return event


def frames_to_events(frames: Iterable[Fields]) -> list[AmiEvent]:
    """Decode the frames that are events; responses (no ``Event`` key) are skipped."""
    return [decode_event(frame) for frame in frames if "Event" in frame]


# --- system, devices, endpoints ------------------------------------------------

@_event("FullyBooted")
class FullyBooted(AmiEvent):
    status: str | None = None
    uptime: int | None = None
    last_reload: int | None = None


@_event("Shutdown")
class Shutdown(AmiEvent):
    shutdown: str | None = None  # Cleanly | Uncleanly
    restart: bool | None = None


@_event("Reload")
class Reload(AmiEvent):
    module: str | None = None
    status: int | None = None


@_event("DeviceStateChange")
class DeviceStateChange(AmiEvent):
    device: str | None = None
    state: str | None = None  # NOT_INUSE, INUSE, RINGING, UNAVAILABLE...


@_event("PeerStatus")
class PeerStatus(AmiEvent):
    channel_type: str | None = None
    peer: str | None = None
    peer_status: str | None = None  # PJSIP: Reachable | Unreachable
    cause: str | None = None
    address: str | None = None


@_event("Registry")
class Registry(AmiEvent):
    channel_type: str | None = None
    username: str | None = None  # PJSIP: the registration's client URI
    domain: str | None = None  # PJSIP: its server URI
    status: str | None = None  # Registered | Unregistered | Rejected...
    cause: str | None = None


@_event("ContactStatus")
class ContactStatus(AmiEvent):
    uri: str | None = ami("URI")
    # NonQualified when a contact registers (Asterisk 13 said "Created"), then
    # Reachable | Unreachable | Unknown as qualify answers, Removed when it goes.
    contact_status: str | None = None
    aor: str | None = ami("AOR")
    endpoint_name: str | None = None
    roundtrip_usec: int | None = None


@_event("ContactList")
class ContactList(AmiEvent):
    """A PJSIPShowContacts item; its keys differ from ContactStatus's."""

    object_name: str | None = None  # "<aor>;@<hash>"
    endpoint: str | None = None
    uri: str | None = None
    status: str | None = None
    roundtrip_usec: int | None = None
    via_addr: str | None = None
    via_port: int | None = None
    call_id: str | None = ami("CallId")
    user_agent: str | None = None
    expiration_time: int | None = None  # epoch seconds
    qualify_frequency: int | None = None
    qualify_timeout: float | None = None

    @property
    def aor(self) -> str | None:
        """The AOR, which ContactList only carries inside ``ObjectName``."""
        return None if self.object_name is None else self.object_name.split(";@")[0]


@_event("EndpointList")
class EndpointList(AmiEvent):
    object_name: str | None = None
    transport: str | None = None
    aor: str | None = None
    auths: str | None = None
    contacts: str | None = None  # "<aor>/<uri>," per contact
    device_state: str | None = None  # the human form: "Not in use", "Unavailable"...
    active_channels: int | None = None


@_event("QueueStatusComplete", "CoreShowChannelsComplete", "ContactListComplete",
        "EndpointListComplete")
class ListComplete(AmiEvent):
    event_list: str | None = None
    list_items: int | None = None


@_event("OriginateResponse")
class OriginateResponse(AmiEvent):
    response: str | None = None  # Success | Failure
    channel: str | None = None
    context: str | None = None
    exten: str | None = None
    application: str | None = None
    data: str | None = None
    reason: int | None = None  # 4 answered, 3 ringing (no answer), 5 busy, 8 congestion...
    uniqueid: str | None = None  # "<unknown>" when no channel was made
    caller_id_num: str | None = None
    caller_id_name: str | None = None


@_event("Cdr")
class Cdr(AmiEvent):
    account_code: str | None = None
    source: str | None = None
    destination: str | None = None
    destination_context: str | None = None
    caller_id: str | None = None
    channel: str | None = None
    destination_channel: str | None = None
    last_application: str | None = None
    start_time: str | None = None
    answer_time: str | None = None
    end_time: str | None = None
    duration: int | None = None
    billable_seconds: int | None = None
    disposition: str | None = None
    uniqueid: str | None = ami("UniqueID")
    user_field: str | None = None


# --- channels ------------------------------------------------------------------------

@_event("Newexten")
class Newexten(ChannelEvent):
    extension: str | None = None
    application: str | None = None
    app_data: str | None = None


@_event("NewCallerid")
class NewCallerid(ChannelEvent):
    cid_calling_pres: str | None = ami("CID-CallingPres")  # "0 (Presentation Allowed, ...)"


@_event("VarSet")
class VarSet(ChannelEvent):
    variable: str | None = None
    value: str | None = None


@_event("Hangup")
class Hangup(ChannelEvent):
    cause: int | None = None
    cause_txt: str | None = ami("Cause-txt")


@_event("HangupRequest", "SoftHangupRequest")
class HangupRequest(ChannelEvent):
    cause: int | None = None


@_event("DTMFBegin", "DTMFEnd")
class Dtmf(ChannelEvent):
    digit: str | None = None
    direction: str | None = None  # Received | Sent
    duration_ms: int | None = None  # DTMFEnd only


@_event("Hold")
class Hold(ChannelEvent):
    music_class: str | None = None


@_event("MusicOnHoldStart")
class MusicOnHoldStart(ChannelEvent):
    music_class: str | None = ami("Class")


@_event("UserEvent")
class UserEvent(ChannelEvent):
    """No channel fields when the UserEvent action sent it; its own headers are
    in :attr:`headers`."""

    user_event: str | None = None

    @property
    def headers(self) -> Mapping[str, str]:
        """Every header as text (the last value of a repeated one)."""
        return {k: (v[-1] if isinstance(v, list) else v) for k, v in self.fields.items()}


@_event("CoreShowChannel")
class CoreShowChannel(ChannelEvent):
    application: str | None = None
    application_data: str | None = None
    duration: str | None = None  # "HH:MM:SS"
    bridge_id: str | None = ami("BridgeId")


@_event("LocalBridge")
class LocalBridge(AmiEvent):
    local_one: ChannelSnapshot | None = None
    local_two: ChannelSnapshot | None = None
    context: str | None = None
    exten: str | None = None
    local_optimization: bool | None = None


# --- dials, bridges, transfers ---------------------------------------------------------

@_event("DialBegin")
class DialBegin(DestChannelEvent):
    """No channel fields when Originate dials: there is no caller yet."""

    dial_string: str | None = None


@_event("DialState", "DialEnd")
class DialEnd(DestChannelEvent):
    # DialEnd: ANSWER, NOANSWER, CANCEL, BUSY, CHANUNAVAIL...; DialState: RINGING...
    dial_status: str | None = None
    forward: str | None = None


@_event("BridgeCreate", "BridgeDestroy")
class BridgeEvent(AmiEvent):
    bridge: BridgeSnapshot | None = None


@_event("BridgeEnter", "BridgeLeave")
class BridgeChannelEvent(ChannelEvent):
    bridge: BridgeSnapshot | None = None
    swap_uniqueid: str | None = None  # BridgeEnter replacing a channel


@_event("BridgeMerge")
class BridgeMerge(AmiEvent):
    to_bridge: BridgeSnapshot | None = None
    from_bridge: BridgeSnapshot | None = None


@_event("BlindTransfer")
class BlindTransfer(AmiEvent):
    result: str | None = None
    transferer: ChannelSnapshot | None = None
    transferee: ChannelSnapshot | None = None
    bridge: BridgeSnapshot | None = None
    is_external: bool | None = None
    context: str | None = None
    extension: str | None = None


@_event("AttendedTransfer")
class AttendedTransfer(AmiEvent):
    result: str | None = None
    orig_transferer: ChannelSnapshot | None = None
    orig_bridge: BridgeSnapshot | None = None
    second_transferer: ChannelSnapshot | None = None
    second_bridge: BridgeSnapshot | None = None
    transferee: ChannelSnapshot | None = None
    transfer_target: ChannelSnapshot | None = None
    is_external: bool | None = None
    dest_type: str | None = None  # Bridge | App | Link | Threeway | Fail
    dest_bridge_uniqueid: str | None = None
    dest_app: str | None = None


# --- queues ------------------------------------------------------------------------------

@_event("QueueCallerJoin", "QueueCallerLeave")
class QueueCallerEvent(ChannelEvent):
    queue: str | None = None
    position: int | None = None
    count: int | None = None


@_event("QueueCallerAbandon")
class QueueCallerAbandon(QueueCallerEvent):
    """Sent also when Queue() times out, before QueueCallerLeave; no ``count``."""

    original_position: int | None = None
    hold_time: int | None = None  # seconds


@_event("AgentCalled", "AgentDump")
class AgentEvent(DestChannelEvent):
    """A queue caller (channel fields) and the member's channel (``dest_*``).

    AgentComplete carries only the channels that still exist when it is sent:
    the caller's fields or the member's ``dest_*`` fields may all be None,
    depending on who hung up first and on timing. Correlate with ``queue`` and
    ``interface`` plus whichever ``uniqueid``/``dest_uniqueid`` is there.
    """

    queue: str | None = None
    interface: str | None = None
    member_name: str | None = None


@_event("AgentConnect")
class AgentConnect(AgentEvent):
    hold_time: int | None = None  # seconds
    ring_time: int | None = None  # seconds


@_event("AgentComplete")
class AgentComplete(AgentEvent):
    hold_time: int | None = None  # seconds
    talk_time: int | None = None  # seconds
    reason: str | None = None  # caller | agent | transfer


@_event("AgentRingNoAnswer")
class AgentRingNoAnswer(AgentEvent):
    ring_time: int | None = None  # milliseconds, unlike AgentConnect's seconds


@_event("QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "QueueMemberStatus",
        "QueueMemberPenalty", "QueueMemberRinginuse")
class QueueMemberEvent(AmiEvent):
    """A queue member's whole state, as every QueueMember* event carries it."""

    queue: str | None = None
    member_name: str | None = None
    interface: str | None = None
    state_interface: str | None = None
    membership: str | None = None  # static | dynamic | realtime
    penalty: int | None = None
    calls_taken: int | None = None
    last_call: int | None = None  # epoch seconds, 0 for never
    last_pause: int | None = None
    login_time: int | None = None
    in_call: bool | None = None
    status: int | None = None  # device state: 1 not in use, 2 in use, 4 invalid, 6 ringing...
    paused: bool | None = None
    paused_reason: str | None = None
    ringinuse: bool | None = None
    wrapuptime: int | None = None


@_event("QueueMember")
class QueueMember(QueueMemberEvent):
    """A QueueStatus item: the same state keyed Name and Location, without Ringinuse."""

    member_name: str | None = ami("Name")
    interface: str | None = ami("Location")


@_event("QueueParams")
class QueueParams(AmiEvent):
    queue: str | None = None
    max: int | None = None
    strategy: str | None = None
    calls: int | None = None
    hold_time: int | None = ami("Holdtime")
    talk_time: int | None = None
    completed: int | None = None
    abandoned: int | None = None
    service_level: int | None = None
    service_level_perf: float | None = ami("ServicelevelPerf")
    service_level_perf2: float | None = ami("ServicelevelPerf2")
    weight: int | None = None


@_event("QueueEntry")
class QueueEntry(AmiEvent):
    """A waiting caller; ``priority`` is its queue priority, not a dialplan one."""

    queue: str | None = None
    position: int | None = None
    channel: str | None = None
    uniqueid: str | None = None
    caller_id_num: str | None = None
    caller_id_name: str | None = None
    connected_line_num: str | None = None
    connected_line_name: str | None = None
    wait: int | None = None  # seconds
    priority: int | None = None


# A QueueMember's Status is the member's device state; these two mean it is ringing
# (AST_DEVICE_RINGING, AST_DEVICE_RINGINUSE).
RINGING_DEVICE_STATES = frozenset({"6", "7"})
