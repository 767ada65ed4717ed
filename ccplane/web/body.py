"""The one reader of JSON request bodies.

Every JSON endpoint goes through :func:`read_json`:

- the body is streamed to its end (one ``content.read()`` returns only what has
  arrived so far, so a large or chunked body used to be cut and refused as
  "not valid JSON"), and refused with 413 as soon as it passes the limit;
- the body must be declared ``application/json`` (or ``application/*+json``),
  else 415 — a form or text post is not silently read as JSON;
- nesting deeper than :data:`MAX_DEPTH` is refused (422) before anything walks
  it recursively (pydantic, our IVR checks), and a RecursionError in the parser
  itself is a 400, never a 500;
- a NUL anywhere in a string (key or value) is refused (422, naming the field):
  PostgreSQL cannot store it and nothing we keep needs it.

    >>> check_json({"a": [{"b": "x\\x00"}]})
    Traceback (most recent call last):
    ccplane.errors.ValidationFailed: a.0.b: NUL characters are not allowed
"""
from __future__ import annotations

import json
from typing import Any

from aiohttp import MultipartReader, web
from aiohttp.helpers import parse_mimetype

from ..errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_BODY = 1024 * 1024
MAX_DEPTH = 64


async def open_multipart(request: web.Request, fields: str) -> MultipartReader:
    """The one opener of multipart bodies: 415 unless it is multipart/form-data
    with a boundary (aiohttp raises a bare ValueError without one: a 500)."""
    mime = parse_mimetype(request.headers.get("Content-Type", ""))
    if (mime.type, mime.subtype) != ("multipart", "form-data") or not mime.parameters.get("boundary"):
        raise UnsupportedMediaType(f"expected multipart/form-data (with its boundary) and {fields}")
    return await request.multipart()


def is_json_type(content_type: str) -> bool:
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


async def read_body(request: web.Request, limit: int = MAX_BODY) -> bytes:
    """The whole body, streamed; 413 once it is longer than ``limit`` bytes."""
    too_large = PayloadTooLarge(f"body larger than {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    buf = bytearray()
    async for chunk in request.content.iter_any():
        buf += chunk
        if len(buf) > limit:
            raise too_large
    return bytes(buf)


async def read_json(request: web.Request, limit: int = MAX_BODY) -> Any:
    raw = await read_body(request, limit)
    if not raw.strip():
        raise BadRequest("a JSON body is required")
    if not is_json_type(request.headers.get("Content-Type", "")):
        raise UnsupportedMediaType("send the body as JSON, with Content-Type: application/json")
    try:
        data = json.loads(raw, parse_float=_number, parse_constant=_no_constant)
    except RecursionError:
        raise ValidationFailed(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body is not valid JSON") from None
    check_json(data)
    return data


def _number(text: str) -> float | int:
    """JSON Schema's integers include 57.0: an integral number is an int,
    so a client's 57.0 for an integer field reads as 57 (a float field takes
    either). NaN and infinities are not JSON and are refused."""
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_json(data: Any) -> None:
    """Depth and NUL checks, iteratively (a recursive walk would be the very
    RecursionError this guards against)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise ValidationFailed(f"JSON nested deeper than {MAX_DEPTH} levels",
                                   field=".".join(path[:MAX_DEPTH]) or None)
        if isinstance(value, str):
            if "\x00" in value:
                name = ".".join(path) or None
                raise ValidationFailed(f"{name + ': ' if name else ''}NUL characters are not allowed", field=name)
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise ValidationFailed("NUL characters are not allowed in field names",
                                           field=".".join(path) or None)
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, str(i))) for i, item in enumerate(value))
