"""What the recordings feature adds to the rendered dialplan (no Asterisk)."""
from __future__ import annotations

import asyncio

from ccplane.asterisk.render import render_files
from ccplane.features.recordings.plugin import contribute
from tests.unit.test_render import model


def test_recorded_queue_extension_and_route() -> None:
    m = model()
    m["queues"][0]["record"] = True
    acme = m["domains"][0]
    acme["extensions"][0]["record"] = True
    acme["outbound"] = [{"name": "cel", "patterns": ["_0XX9XXXXXXXX"], "strip": 1, "prefix": "", "record": True,
                         "trunks": ["acme-t1"]}]
    asyncio.run(contribute(None, m))  # type: ignore[arg-type]
    assert acme["record_extensions"] == ["1001"] and m["domains"][1]["record_extensions"] == []
    files = render_files(m)
    ext, queues = files["extensions.conf"], files["queues.conf"]
    # the queue: MixMonitor set up on the caller before Queue(), app_queue starts it at the answer
    _, _, tail = ext.partition("[ccplane-queues]")
    entry = tail.split("Queue(acme_sales", 1)[0]
    assert "Gosub(ccplane-rec-queue,s,1(acme))" in entry
    assert "monitor-format=wav" in queues
    # dialled extensions and routes: the callee's or route's flag, then the caller's extension
    assert "Gosub(ccplane-rec-dial,s,1(acme,internal,1))" in ext  # 1001 records
    assert "Gosub(ccplane-rec-dial,s,1(acme,internal,0))" in ext  # 1002 does not
    assert "Gosub(ccplane-rec-dial,s,1(acme,outbound,1))" in ext
    rec_ext = ext.split("[ccplane-rec-ext-acme]", 1)[1].split("\n\n", 1)[0]
    assert rec_ext.strip().splitlines() == ["exten => 1001,1,Return()"]
    assert "[ccplane-rec-ext-beta]" not in ext
    # a finished file is moved out of MixMonitor's way by Asterisk itself
    assert "mv ${ASTSPOOLDIR}/monitor/ccplane/rec/${id}.wav ${ASTSPOOLDIR}/monitor/ccplane/done/" in ext


def test_nothing_recorded_renders_no_recording() -> None:
    files = render_files(model())
    assert "Gosub(ccplane-rec-queue,s,1(acme))" not in files["extensions.conf"]
    assert "monitor-format" not in files["queues.conf"]
