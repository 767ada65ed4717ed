"""Attachments of monitored persons: limits, streaming, sniffing, download."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import psutil
from aiohttp import FormData

from tests.support.api import assert_error
from tests.support.telephony import Scene

MB = 1024 * 1024


def _form(path: Path, name: str = "file") -> FormData:
    form = FormData()
    form.add_field(name, path.open("rb"), filename=path.name, content_type="application/octet-stream")
    return form


async def test_attachment_limits_streaming_and_sniffing(scene: Scene, app_client: Any, tmp_path: Path) -> None:
    person = await scene.root.ok("POST", f"/domains/{scene.domain}/monitored-persons",
                                 {"name": "Ana", "cpf": "52998224725", "phone": "11987654321",
                                  "password": "app-password"}, 201)
    base = f"/api/v1/domains/{scene.domain}/monitored-persons/{person['id']}/attachments"
    headers = {"Authorization": f"Bearer {scene.root.token}"}
    store = scene.services.attachments.dir
    before = set(store.iterdir()) if store.is_dir() else set()  # other tests' attachments share the store

    big = tmp_path / "evidence.bin"
    with big.open("wb") as fh:
        fh.write(b"%PDF-1.7\n")
        chunk = os.urandom(MB)
        for _ in range(63):
            fh.write(chunk)
        fh.write(os.urandom(MB - 9))
    assert big.stat().st_size == 64 * MB

    proc = psutil.Process()
    baseline = proc.memory_info().rss
    peak = baseline
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    resp = await app_client.post(base, data=_form(big), headers=headers)
    done.set()
    await sampler
    body = await resp.json()
    assert resp.status == 201, body
    assert body["size"] == 64 * MB and body["content_type"] == "application/pdf"
    growth = (peak - baseline) / MB
    print(f"RSS growth while uploading 64 MB: {growth:.1f} MB")
    assert growth < 24, f"server memory grew {growth:.1f} MB for a 64 MB upload"

    download = await app_client.get(f"{base}/{body['id']}", headers=headers)
    assert download.status == 200 and download.headers["Content-Type"] == "application/pdf"
    assert len(await download.read()) == 64 * MB

    too_big = tmp_path / "too-big.bin"
    with too_big.open("wb") as fh:
        for _ in range(65):
            fh.write(chunk)
    resp = await app_client.post(base, data=_form(too_big), headers=headers)
    assert_error(resp.status, await resp.json(), 413, "file")

    small = tmp_path / "note.txt"
    small.write_text("observações do atendimento")
    for _ in range(4):
        resp = await app_client.post(base, data=_form(small), headers=headers)
        assert resp.status == 201
    listed = await scene.root.ok("GET", f"/domains/{scene.domain}/monitored-persons/{person['id']}/attachments")
    assert len(listed) == 5 and listed[-1]["content_type"] == "text/plain"
    resp = await app_client.post(base, data=_form(small), headers=headers)
    assert_error(resp.status, await resp.json(), 409, "file")
    await scene.root.ok("DELETE", f"/domains/{scene.domain}/monitored-persons/{person['id']}/attachments/"
                        f"{listed[0]['id']}", status=204)
    resp = await app_client.post(base, data=_form(small), headers=headers)
    assert resp.status == 201
    stored = set(store.iterdir()) - before
    assert len(stored) == 5  # refused and deleted uploads left no files behind
