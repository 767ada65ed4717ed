"""Error translation and request logging."""
from __future__ import annotations

import logging
import time
from typing import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from ..errors import ApiError, ServiceUnavailable

log = logging.getLogger("ccplane.http")

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 422: "validation_error", 429: "too_many_requests"}


def _error(status: int, code: str, message: str, field: str | None = None,
           headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, "field": field}}, status=status,
                             headers=headers)


def _constraint(exc: DBAPIError) -> str:
    """The constraint's name when the driver tells it (PostgreSQL does), for the message."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return f" ({name})" if name else ""


@web.middleware
async def error_middleware(request: web.Request,
                           handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    started = time.monotonic()
    try:
        response = await handler(request)
    except ApiError as exc:
        response = _error(exc.status, exc.code, exc.message, exc.field, exc.headers)
    except IntegrityError as exc:
        # A service that checks before it writes turns these into named 409s; a
        # race or an unforeseen reference lands here, and is still the client's
        # conflict, not an outage (it used to be a 503 "database unavailable").
        log.warning("integrity error on %s %s: %s", request.method, request.path, exc.orig)
        response = _error(409, "conflict", "the change conflicts with existing data" + _constraint(exc))
    except DataError as exc:
        log.warning("data error on %s %s: %s", request.method, request.path, exc.orig)
        response = _error(422, "validation_error", "a value does not fit what the database can store")
    except HttpProcessingError as exc:
        # A malformed multipart part (a NUL in its filename, a broken header)
        # is found while the handler reads it: the client's error, not ours.
        response = _error(400, "bad_request", f"malformed request body: {exc.message}"[:300])
    except DBAPIError:
        log.exception("database error on %s %s", request.method, request.path)
        response = _error(503, "service_unavailable", "the database is unavailable; try again shortly")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None  # 405 says what is allowed
        response = _error(exc.status, _HTTP_CODES.get(exc.status, "http_error"), exc.reason, headers=allow)
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
