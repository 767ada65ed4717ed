"""Error translation and request logging."""
from __future__ import annotations

import logging
import time
from typing import Awaitable, Callable

from aiohttp import web
from sqlalchemy.exc import DBAPIError

from ..errors import ApiError, ServiceUnavailable

log = logging.getLogger("ccplane.http")

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 422: "validation_error"}


def _error(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, "field": field}}, status=status)


@web.middleware
async def error_middleware(request: web.Request,
                           handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    started = time.monotonic()
    try:
        response = await handler(request)
    except ApiError as exc:
        response = _error(exc.status, exc.code, exc.message, exc.field)
    except DBAPIError:
        log.exception("database error on %s %s", request.method, request.path)
        response = _error(503, "service_unavailable", "the database is unavailable; try again shortly")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _error(exc.status, _HTTP_CODES.get(exc.status, "http_error"), exc.reason)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        response = _error(500, "internal_error", "internal error; see the server log")
    log.info("http %s %s %s", request.method, request.path, response.status,
             extra={"status": response.status, "ms": round((time.monotonic() - started) * 1000, 1)})
    return response


# Paths a standby replica still answers: its health, the API description.
_STANDBY_OPEN = ("/api/v1/health", "/api/v1/openapi.json")


@web.middleware
async def standby_middleware(request: web.Request,
                             handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Only the elected replica serves the API: a standby has no Asterisk link,
    no agents' board and no timers, so its answers would be wrong or lost."""
    from .keys import SERVICES
    services = request.app[SERVICES]
    leadership = services.leadership
    if (not (leadership.is_leader and services.ready) and request.path.startswith("/api/")
            and not request.path.startswith(_STANDBY_OPEN)):
        role = leadership.role if not leadership.is_leader else "taking over"
        raise ServiceUnavailable(f"this replica is {role}; the leader serves requests "
                                 "(GET /api/v1/health/leader answers 200 there)")
    return await handler(request)
