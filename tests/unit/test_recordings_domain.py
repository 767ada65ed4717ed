"""Recordings and monitoring groups: the pure rules (no I/O)."""
from __future__ import annotations

import struct
from datetime import datetime, timezone

import pytest

from ccplane.errors import RangeNotSatisfiable
from ccplane.features.monitoring_groups.domain import SupervisorScope
from ccplane.web.ranges import byte_range
from ccplane.features.recordings.domain import (Audience, parse_outbox_value, parse_report,
                                                purge_before, wav_duration)


def wav(seconds: float, rate: int = 8000, data_size: int | None = None, extra_chunk: bool = False) -> bytes:
    data = b"\x01\x00" * int(seconds * rate)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if extra_chunk:
        chunks += b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # odd size: padded
    chunks += b"data" + struct.pack("<I", len(data) if data_size is None else data_size) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


@pytest.mark.parametrize("seconds", [0.0, 1.0, 2.5, 61.02])
def test_wav_duration(seconds: float) -> None:
    body = wav(seconds)
    assert wav_duration(body[:4096], len(body)) == pytest.approx(seconds, abs=1e-3)


def test_wav_duration_past_other_chunks_and_unfinished_headers() -> None:
    body = wav(3.0, extra_chunk=True)
    assert wav_duration(body, len(body)) == pytest.approx(3.0, abs=1e-3)
    unfinished = wav(2.0, data_size=0)  # a writer that never rewrote its header: to the end of the file
    assert wav_duration(unfinished, len(unfinished)) == pytest.approx(2.0, abs=1e-3)
    assert wav_duration(b"not a wave file at all", 22) is None
    assert wav_duration(b"RIFF\x00\x00\x00\x00WAVE", 12) is None


def test_byte_range() -> None:
    assert byte_range(None, 1000) is None
    assert byte_range("bytes=0-0", 1000) == (0, 0)
    assert byte_range("bytes=100-199", 1000) == (100, 199)
    assert byte_range("bytes=900-", 1000) == (900, 999)
    assert byte_range("bytes=990-5000", 1000) == (990, 999)  # clipped to the end
    assert byte_range("bytes=-100", 1000) == (900, 999)
    assert byte_range("bytes=-5000", 1000) == (0, 999)
    assert byte_range(" bytes = 1-2 ", 1000) == (1, 2)


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-4", "items=0-1", "bytes=0-1,3-4", "bytes=-0",
                                    "bytes=a-b", "bytes=-", "bytes", "bytes=99999999999999999999-"])
def test_byte_range_refused(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as err:
        byte_range(header, 1000)
    assert err.value.status == 416 and err.value.headers == {"Content-Range": "bytes */1000"}
    assert err.value.field == "Range"


def test_reports_from_the_user_event_and_from_astdb() -> None:
    live = parse_report({"UserEvent": "CcplaneRecording", "File": "acme-1700000000-17.2", "Kind": "attendance",
                         "Domain": "acme", "Call": "17.1", "Queue": "acme_sales", "AgentUniqueid": "17.5",
                         "Recorded": "Local/x;2", "At": "1700000000"})
    assert live is not None
    assert (live.file, live.kind, live.queue, live.agent_uniqueid, live.at) == (
        "acme-1700000000-17.2.wav", "attendance", "sales", "17.5", 1700000000.0)
    stored = parse_report(parse_outbox_value("Kind=consultation|Domain=acme|Call=17.1|Queue=acme_sales|"
                                             "AgentUniqueid=17.5|Recorded=Local%2F7602%40ctx-01%3B2|At=17"),
                          file_id="acme-17-17.9")
    assert stored is not None and stored.channel == "Local/7602@ctx-01;2" and stored.kind == "consultation"
    # nothing outside the spool's name space, nothing unknown
    assert parse_report({"File": "../etc/passwd", "Kind": "attendance", "Domain": "a", "Call": "1"}) is None
    assert parse_report({"File": "x", "Kind": "voicemail", "Domain": "a", "Call": "1"}) is None
    assert parse_report({"File": "x", "Kind": "internal", "Domain": "", "Call": "1"}) is None
    internal = parse_report({"File": "x", "Kind": "internal", "Domain": "a", "Call": "1", "Queue": ""})
    assert internal is not None and internal.queue is None and internal.agent_uniqueid is None


def test_audience() -> None:
    for role in ("root", "superuser", "admin"):
        assert Audience.of(role, set()).may_see("any") and Audience.of(role, set()).may_see(None)
    sup = Audience.of("supervisor", {"sales"})
    assert sup.may_see("sales") and not sup.may_see("support") and not sup.may_see(None)
    assert not Audience.of("supervisor", set()).may_see("sales")
    assert not Audience.of("agent", {"sales"}).may_see("sales")


def test_purge_before() -> None:
    now = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
    assert purge_before(None, now) is None
    assert purge_before(30, now) == datetime(2026, 11, 6, 12, 0, tzinfo=timezone.utc)


def test_supervisor_scope_of_the_live_feed() -> None:
    logged = {"ana": {"acme_sales"}, "bob": {"acme_support"}, "cid": {"acme_sales", "acme_support"}}
    scope = SupervisorScope("acme", frozenset({"sales"}), lambda u: set(logged.get(u, ())))
    snap = scope.snapshot({"agents": [{"username": "ana"}, {"username": "bob"}, {"username": "cid"}],
                           "queues": [{"queue": "sales"}, {"queue": "support"}],
                           "calls": [{"queue": "sales"}, {"queue": "support", "agent": "cid"},
                                     {"queue": None, "agent": "ana"}, {"queue": None, "agent": "bob"}]})
    assert [a["username"] for a in snap["agents"]] == ["ana", "cid"]
    assert snap["queues"] == [{"queue": "sales"}]
    assert snap["calls"] == [{"queue": "sales"}, {"queue": None, "agent": "ana"}]
    assert scope.allows("queue.caller_joined", {"queue": "sales"})
    assert not scope.allows("queue.caller_left", {"queue": "support"})
    assert not scope.allows("call.answered", {"queue": "support", "agent": "cid"})
    assert scope.allows("alert.new", {"id": 1})
    # an agent once shown stays followed: the supervisor learns they logged out
    del logged["ana"]
    assert scope.allows("agent.state", {"username": "ana", "state": "offline"})
    assert not scope.allows("agent.state", {"username": "bob"})
    assert not scope.allows("agent.state", {"username": None})


def test_move_into_store_across_file_systems_is_atomic(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Across file systems (EXDEV) the file is copied under a temporary name, then renamed."""
    import errno
    import os

    from ccplane.features.recordings import store
    source = tmp_path / "done" / "a.wav"
    source.parent.mkdir()
    source.write_bytes(b"RIFF" + b"x" * 100)
    os.utime(source, (1_700_000_000, 1_700_000_000))
    target = tmp_path / "store" / "7" / "a.wav"
    real_replace = os.replace
    calls = []

    def replace(src, dst):  # type: ignore[no-untyped-def]
        calls.append((str(src), str(dst)))
        if str(src) == str(source):
            raise OSError(errno.EXDEV, "cross-device link")
        return real_replace(src, dst)
    monkeypatch.setattr(store.os, "replace", replace)
    store.move_into_store(source, target)
    assert not source.exists() and target.read_bytes() == b"RIFF" + b"x" * 100
    assert target.stat().st_mtime == 1_700_000_000
    assert calls[1][0].endswith(".part") and calls[1][1] == str(target)  # renamed into place, never written there
    assert list(target.parent.iterdir()) == [target]
