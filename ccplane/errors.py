"""The exception tree of ccplane.

    CcplaneError
    ├── SettingsError            invalid configuration (names the key)
    ├── ApiError                 an HTTP-facing error: status, code, message, field
    │   ├── BadRequest (400)     ValidationFailed (422)   Unauthorized (401)
    │   ├── Forbidden (403)      NotFound (404)           Conflict (409)
    │   ├── PayloadTooLarge (413)  UnsupportedMediaType (415)
    │   └── TooManyRequests (429, Retry-After)
    ├── AsteriskError            anything that went wrong talking to Asterisk
    │   ├── AmiNotConnected      (retriable)
    │   ├── AmiDisconnected      the link dropped while the action was pending (retriable)
    │   ├── AmiTimeout           no answer within the action timeout (retriable)
    │   ├── AmiActionFailed      Asterisk answered Response: Error
    │   └── AriError             ARI REST failure (status, retriable when 5xx / not connected)
    └── SandboxError             a sandbox step failed (names the step)

Lower-level exceptions (OSError, aiohttp errors, SQLAlchemy errors) are
translated where they enter; callers check ``retriable`` rather than types.
"""
from __future__ import annotations


class CcplaneError(Exception):
    retriable: bool = False


class SettingsError(CcplaneError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"setting {key}: {message}")
        self.key = key


class ApiError(CcplaneError):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    @property
    def headers(self) -> dict[str, str]:
        """Extra response headers (e.g. Retry-After)."""
        return {}

    def to_json(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class TooManyRequests(ApiError):
    """429: try again after ``retry_after`` seconds (sent as Retry-After)."""
    status, code = 429, "too_many_requests"

    def __init__(self, message: str, *, retry_after: float, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = max(1, int(retry_after + 0.999))

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RangeNotSatisfiable(ApiError):
    """416: the Range a download asked for is not one it can serve (sent with
    ``Content-Range: bytes */<size>``)."""
    status, code = 416, "range_not_satisfiable"

    def __init__(self, message: str, *, size: int, field: str | None = "Range") -> None:
        super().__init__(message, field=field)
        self.size = size

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Range": f"bytes */{self.size}"}


class ValidationFailed(ApiError):
    status, code = 422, "validation_error"


class AsteriskError(CcplaneError):
    pass


class AmiNotConnected(AsteriskError):
    retriable = True


class AmiDisconnected(AsteriskError):
    retriable = True


class AmiTimeout(AsteriskError):
    retriable = True


class AmiActionFailed(AsteriskError):
    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"AMI {action} failed: {message}")
        self.action = action
        self.message = message


class AriError(AsteriskError):
    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retriable = status is None or status >= 500


class SandboxError(CcplaneError):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"sandbox step '{step}' failed: {message}")
        self.step = step


class ServiceUnavailable(ApiError):
    status, code = 503, "service_unavailable"
