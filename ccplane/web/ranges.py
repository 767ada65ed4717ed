"""Files served whole or by one HTTP byte range (players seek with ``Range``):
recordings, prompts. Shared web code: it knows no feature."""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from aiohttp import web

from ..errors import RangeNotSatisfiable

CHUNK = 256 * 1024

def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range (first, last; inclusive) an HTTP ``Range`` header asks
    of a ``size``-byte file; None for the whole file (no header). Raises
    :class:`RangeNotSatisfiable` for anything else: another unit, several
    ranges, a malformed one, or one that starts past the end.

    >>> byte_range("bytes=100-199", 1000), byte_range("bytes=-100", 1000), byte_range("bytes=900-", 1000)
    ((100, 199), (900, 999), (900, 999))
    """
    if header is None:
        return None
    unit, sep, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or not sep:
        raise RangeNotSatisfiable("Range: only 'bytes=first-last' ranges are served", size=size)
    spec = spec.strip()
    if "," in spec:
        raise RangeNotSatisfiable("Range: one range at a time", size=size)
    first_text, dash, last_text = spec.partition("-")
    first_text, last_text = first_text.strip(), last_text.strip()
    if not dash or not (first_text.isdigit() or first_text == "") or not (last_text.isdigit() or last_text == "") \
            or (first_text == "" and last_text == "") or len(first_text) > 19 or len(last_text) > 19:
        raise RangeNotSatisfiable(f"Range: malformed byte range {spec[:40]!r}", size=size)
    if first_text == "":  # the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable("Range: an empty suffix range", size=size)
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last < first:
        raise RangeNotSatisfiable(f"Range: {first}-{last} ends before it starts", size=size)
    if first >= size:
        raise RangeNotSatisfiable(f"Range: starts at {first}, the file has {size} bytes", size=size)
    return first, min(last, size - 1)


async def send_range(request: web.Request, path: Path, content_type: str, *, disposition: str = "inline",
                     headers: Mapping[str, str] | None = None) -> web.StreamResponse:
    """The file, whole (200) or the one byte range the request asks (206), streamed in
    chunks; :class:`RangeNotSatisfiable` (416) before anything is sent for a range
    it cannot serve."""
    fh = await asyncio.to_thread(open, path, "rb")
    try:
        size = (await asyncio.to_thread(path.stat)).st_size
        wanted = byte_range(request.headers.get("Range"), size)
        first, last = wanted if wanted is not None else (0, size - 1)
        resp = web.StreamResponse(status=206 if wanted is not None else 200, headers={
            "Content-Type": content_type, "Accept-Ranges": "bytes", "Content-Length": str(max(last - first + 1, 0)),
            "Content-Disposition": f'{disposition}; filename="{path.name}"', **(headers or {})})
        if wanted is not None:
            resp.headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        await resp.prepare(request)
        await asyncio.to_thread(fh.seek, first)
        left = last - first + 1
        while left > 0:
            chunk = await asyncio.to_thread(fh.read, min(CHUNK, left))
            if not chunk:
                break
            await resp.write(chunk)
            left -= len(chunk)
        await resp.write_eof()
        return resp
    finally:
        await asyncio.to_thread(fh.close)
