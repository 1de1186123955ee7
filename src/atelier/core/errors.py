"""One error type carrying its HTTP status and a stable code; one JSON shape."""

from __future__ import annotations

from typing import Any


class AtelierError(Exception):
    status_code = 400
    code = "bad_request"
    # Extra response headers (e.g. Retry-After on a 429).
    headers: dict[str, str] | None = None

    def __init__(self, detail: Any = None, *, code: str | None = None) -> None:
        super().__init__(detail if isinstance(detail, str) else code or self.code)
        self.detail = detail
        if code is not None:
            self.code = code


class NotFound(AtelierError):
    status_code = 404
    code = "not_found"


class Unauthorized(AtelierError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AtelierError):
    status_code = 403
    code = "forbidden"


class Conflict(AtelierError):
    status_code = 409
    code = "conflict"


class InvalidInput(AtelierError):
    status_code = 422
    code = "validation_error"


def field_error(field: str, message: str) -> InvalidInput:
    """A 422 naming one field, in the same shape as request validation errors."""
    return InvalidInput([{"field": field, "message": message}])
