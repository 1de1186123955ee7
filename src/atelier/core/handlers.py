"""Every error leaves as {"error": CODE, "detail": ...}."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from atelier.core.errors import AtelierError

log = structlog.get_logger("atelier.errors")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_response(status: int, code: str, detail: Any, headers: Any = None) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _clean_error(err: dict[str, Any]) -> dict[str, Any]:
    out = {"field": _field_name(tuple(err.get("loc", ()))), "message": err.get("msg", "")}
    if err.get("type"):
        out["type"] = err["type"]
    return out


async def _atelier_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AtelierError)
    return error_response(exc.status_code, exc.code, exc.detail, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    path_errors = [e for e in errors if e.get("loc", ("",))[0] == "path"]
    if path_errors:
        # A malformed id names an object that cannot exist: not found, not a crash.
        names = ", ".join(str(e["loc"][-1]) for e in path_errors)
        return error_response(404, "invalid_id", f"malformed id in path: {names}")
    return error_response(422, "validation_error", [_clean_error(e) for e in errors])


# What FastAPI answers (400) when json.loads fails other than with a JSONDecodeError: a
# body nested deeper than the recursion limit (RecursionError), or bytes that are not
# UTF-8. Those are invalid bodies like any other: 422 naming the body, as documented.
_BODY_PARSE_FAILED = "There was an error parsing the body"


def _body_parse_error(exc: StarletteHTTPException) -> JSONResponse | None:
    if exc.status_code != 400 or exc.detail != _BODY_PARSE_FAILED or exc.__cause__ is None:
        return None
    cause = exc.__cause__
    if isinstance(cause, RecursionError):
        message, kind = "JSON nested too deeply", "json_too_deep"
    elif isinstance(cause, UnicodeError):
        message, kind = "the body is not valid UTF-8", "json_invalid"
    else:
        message, kind = "the body could not be parsed as JSON", "json_invalid"
    return error_response(
        422, "validation_error", [{"field": "body", "message": message, "type": kind}]
    )


# Paths whose existence is not advertised (the admin console answers 404 to everyone but
# administrators): a method they do not take is a 404 there too, not a 405 that would
# tell a stranger the route exists.
HIDDEN_PATHS = ("/admin", "/api/v1/admin")


def hidden_method_error(request: Request, exc: StarletteHTTPException) -> StarletteHTTPException:
    path = request.url.path
    if exc.status_code == 405 and any(
        path == prefix or path.startswith(prefix + "/") for prefix in HIDDEN_PATHS
    ):
        return StarletteHTTPException(404)  # word for word what an unknown path gets
    return exc


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if (invalid_body := _body_parse_error(exc)) is not None:
        return invalid_body
    exc = hidden_method_error(request, exc)
    code = _HTTP_CODES.get(exc.status_code, "error")
    detail = exc.detail if exc.detail else code
    return error_response(exc.status_code, code, detail, headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path, method=request.method)
    return error_response(500, "internal_error", "something went wrong on our side")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AtelierError, _atelier_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
