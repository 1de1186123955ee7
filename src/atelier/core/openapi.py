"""The OpenAPI document describes the errors the API really answers.

FastAPI documents its own 422 shape (``HTTPValidationError``: loc/msg/type) and nothing
else, while every error here leaves as ``{"error": CODE, "detail": ...}`` (core/handlers.py).
Clients generated from the document, and the contract fuzz test (tests/test_fuzz_api.py),
need the truth, so the generated document is post-processed once:

- FastAPI's 422 becomes ``ValidationErrorResponse`` (``detail``: a list of field errors);
- statuses that follow from an operation's shape are added to every operation that has
  it: 401 and 403 where it needs credentials (unknown token; an API key's scopes, a
  browser session's CSRF token, an organization role), 404 where the path names an
  object (a malformed id is a 404 too), 413 and 422 where it takes a body, 422 where it
  takes query or header parameters;
- statuses only some operations answer (402, 409, 429, 503, ...) are declared on the
  route itself with ``responses=error_responses(...)``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR_SCHEMA = "ErrorResponse"
VALIDATION_SCHEMA = "ValidationErrorResponse"
FIELD_ERROR_SCHEMA = "FieldError"

_REF = "#/components/schemas/"

DESCRIPTIONS: dict[int, str] = {
    400: "The request cannot be done as sent; `detail` says why.",
    401: "No credentials, or a token or API key that is unknown, expired or revoked.",
    402: "The monthly AI budget of your plan (or of the project's organization) is used up.",
    403: "Not allowed: your role in the organization, the API key's scopes, or (browser "
    "sessions) a missing or wrong X-CSRF-Token.",
    404: "Not found, or not yours to see; a malformed id in the path is a 404 too (`invalid_id`).",
    409: "The request conflicts with the current state; `error` and `detail` say which.",
    413: "The request body is over the size limit.",
    422: "The request's parameters or body are not valid; `detail` names each field.",
    429: "Too many requests; try again after `Retry-After` seconds.",
    503: "A service the request needs is unavailable; try again later.",
}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
}

_FIELD_ERROR: dict[str, Any] = {
    "type": "object",
    "title": FIELD_ERROR_SCHEMA,
    "description": "One invalid field of a request.",
    "properties": {
        "field": {
            "type": "string",
            "description": "where: `body.<name>` (dotted into nested fields), "
            "`query.<name>`, `header.<name>`, or `body` for the body as a whole",
        },
        "message": {"type": "string", "description": "what is wrong, for people"},
        "type": {"type": "string", "description": "the kind of error, when known"},
    },
    "required": ["field", "message"],
    "additionalProperties": False,
}

_ERROR: dict[str, Any] = {
    "type": "object",
    "title": ERROR_SCHEMA,
    "description": "Every error answer: a stable code and details.",
    "properties": {
        "error": {
            "type": "string",
            "description": "stable machine-readable code, e.g. `project_not_found`",
        },
        # No type: a message (string) in most errors, structured detail in some.
        "detail": {"description": "what went wrong: usually a message for people"},
    },
    "required": ["error", "detail"],
    "additionalProperties": False,
}

_VALIDATION_ERROR: dict[str, Any] = {
    "type": "object",
    "title": VALIDATION_SCHEMA,
    "description": "A request whose parameters or body are not valid.",
    "properties": {
        "error": {"type": "string", "description": "`validation_error`"},
        "detail": {"type": "array", "items": {"$ref": _REF + FIELD_ERROR_SCHEMA}},
    },
    "required": ["error", "detail"],
    "additionalProperties": False,
}

# FastAPI's own validation error schemas, replaced by ours.
_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF + schema}}}


def error_response(
    status: int, description: str | None = None, *, any_detail: bool = False
) -> dict[str, Any]:
    """One error status as an OpenAPI response object. A 422 has field errors as its
    detail unless ``any_detail`` (an operation that also refuses a body as a whole)."""
    schema = VALIDATION_SCHEMA if status == 422 and not any_detail else ERROR_SCHEMA
    response: dict[str, Any] = {
        "description": description or DESCRIPTIONS.get(status, "An error."),
        "content": _json(schema),
    }
    if status == 429:
        response["headers"] = _RETRY_AFTER
    return response


def error_responses(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """For a route's ``responses=``: the error statuses only this operation answers.

    ``descriptions`` override the generic text, keyed ``s409="..."``."""
    return {status: error_response(status, descriptions.get(f"s{status}")) for status in statuses}


def _is_fastapi_422(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def _add(responses: dict[str, Any], status: int) -> None:
    responses.setdefault(str(status), error_response(status))


def _describe_operation(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    params = operation.get("parameters", [])
    in_path = any(p.get("in") == "path" for p in params)
    in_query_or_header = any(p.get("in") in ("query", "header", "cookie") for p in params)
    has_body = "requestBody" in operation
    if "422" in responses and _is_fastapi_422(responses["422"]):
        # Recomputed below: FastAPI lists it for path parameters too, which answer 404.
        del responses["422"]
    if operation.get("security"):
        _add(responses, 401)
        _add(responses, 403)
    if in_path:
        _add(responses, 404)
    if has_body:
        _add(responses, 413)
    if has_body or in_query_or_header:
        _add(responses, 422)


def describe_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Post-process a generated document in place (see the module docstring)."""
    for path_item in document.get("paths", {}).values():
        for method in _METHODS:
            if method in path_item:
                _describe_operation(path_item[method])
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_SCHEMAS:
        schemas.pop(name, None)
    schemas[ERROR_SCHEMA] = _ERROR
    schemas[VALIDATION_SCHEMA] = _VALIDATION_ERROR
    schemas[FIELD_ERROR_SCHEMA] = _FIELD_ERROR
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the post-processed document at /openapi.json (built once, then cached)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
