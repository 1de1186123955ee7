"""Error details shared by the hosted providers: the provider's own message (with
anything key-like removed), how long it asks us to wait, and how to tell a server that
speaks another protocol than the configured provider kind."""

from __future__ import annotations

import contextlib
import email.utils
import json
import re
import time
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import httpx2

from atelier.ai.providers.base import ProviderAuthError, ProviderError, ProviderProtocolMismatch

MAX_MESSAGE = 500


def body_message(body: object) -> str | None:
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    if isinstance(body, str) and body:
        return body
    return None


_KEY_LIKE = re.compile(r"\b(?:sk|key|api)[-_][A-Za-z0-9_\-*.]{6,}")


def redact(text: str, api_key: str | None) -> str:
    if api_key:
        text = text.replace(api_key, "[redacted]")
    text = _KEY_LIKE.sub("[redacted]", text)
    return text[:MAX_MESSAGE]


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (seconds or HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        with contextlib.suppress(ValueError):
            return max(float(millis) / 1000.0, 0.0)
    value = headers.get("retry-after")
    if not value:
        return None
    with contextlib.suppress(ValueError):  # not seconds: an HTTP date, below
        return max(float(value), 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def status_error(
    status: int,
    detail: str,
    headers: Mapping[str, str],
    *,
    name: str,
    overloaded: bool = False,
) -> ProviderError:
    """The ProviderError for an HTTP error status from ``name`` (e.g. "the Anthropic API"):
    auth errors are final, 429/408/409/5xx are retried (honouring Retry-After)."""
    if status in (401, 403):
        auth = ProviderAuthError(
            f"{name} refused the API key (HTTP 401)"
            if status == 401
            else f"{name} denied access (HTTP 403): {detail}"
        )
        auth.status = status
        return auth
    if status == 429:
        return ProviderError(
            f"rate limited by {name}: {detail}",
            retryable=True,
            status=429,
            retry_after=retry_after(headers),
            code="rate_limited",
        )
    if status >= 500 or status in (408, 409) or overloaded:
        return ProviderError(
            f"{name} error (HTTP {status}): {detail}",
            retryable=True,
            status=status,
            retry_after=retry_after(headers),
            code="overloaded" if overloaded or status == 529 else "server_error",
        )
    return ProviderError(
        f"{name} refused the request (HTTP {status}): {detail}",
        status=status,
        code="bad_request" if status in (400, 422) else "provider_error",
    )


# -- a server that speaks another protocol ----------------------------------------------

WireProtocol = Literal["anthropic", "openai"]
_PROTOCOL_NAME: dict[WireProtocol, str] = {
    "anthropic": "the Anthropic Messages protocol",
    "openai": "the OpenAI Chat Completions protocol",
}
# What to suggest when the answer looks like the *other* protocol, and when it is unclear.
_LOOKS_LIKE: dict[WireProtocol, str] = {
    "anthropic": 'It answers like an Anthropic server: use the provider kind "anthropic".',
    "openai": "It answers like an OpenAI-compatible server: use the provider kind "
    '"custom" (or "openai").',
}
_UNCLEAR: dict[WireProtocol, str] = {
    "anthropic": 'An OpenAI-compatible server needs the kind "custom"; check the base URL too.',
    "openai": 'An Anthropic server needs the kind "anthropic"; check the base URL too.',
}
# Anthropic's streamed event types, as an OpenAI client receives them.
ANTHROPIC_EVENTS = frozenset(
    {
        "message_start",
        "message_delta",
        "message_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "ping",
    }
)


def display_url(url: str) -> str:
    """``url`` fit for an error message: without user:password, query or fragment (a
    base URL may carry credentials, and messages end up in audit rows and logs)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", "")) or "(no URL)"


def is_anthropic_error(body: object) -> bool:
    """Anthropic's error body: ``{"type": "error", "error": {"type": ..., "message": ...}}``."""
    if not isinstance(body, Mapping) or body.get("type") != "error":
        return False
    inner = body.get("error")
    return isinstance(inner, Mapping) and isinstance(inner.get("type"), str)


def is_openai_error(body: object) -> bool:
    """An OpenAI-style error body as OpenAI, vLLM, llama.cpp and Ollama send it:
    ``{"error": {...}}``, ``{"error": "..."}`` or vLLM's ``{"object": "error", ...}``."""
    if not isinstance(body, Mapping) or is_anthropic_error(body):
        return False
    return isinstance(body.get("error"), Mapping | str) or body.get("object") == "error"


def sniff(body: object) -> WireProtocol | None:
    """Which protocol a response body (or a stream event) looks like, if either."""
    if not isinstance(body, Mapping):
        return None
    kind = body.get("type")
    if is_anthropic_error(body) or kind == "message" or kind in ANTHROPIC_EVENTS:
        return "anthropic"
    obj = body.get("object")
    if (isinstance(obj, str) and obj.startswith("chat.completion")) or "choices" in body:
        return "openai"
    if is_openai_error(body):
        return "openai"
    return None


def describe(body: object, content_type: str = "") -> str:
    """A few words on what came back instead of the expected answer."""
    kind = content_type.split(";")[0].strip().lower()
    text = body.strip() if isinstance(body, str) else ""
    if "html" in kind or text[:1] == "<":
        return "an HTML page"
    if isinstance(body, Mapping):
        keys = ", ".join(sorted(str(k) for k in body)[:6])
        return f"a JSON object with the keys {keys}" if keys else "an empty JSON object"
    if isinstance(body, list):
        return "a JSON array"
    if text:
        return "text that is not JSON" if "json" not in kind else "a body that is not valid JSON"
    return f"an empty answer ({kind})" if kind else "an empty answer"


def protocol_mismatch(
    base_url: str,
    *,
    expected: WireProtocol,
    seen: str,
    body: object = None,
    status: int | None = None,
    api_key: str | None = None,
) -> ProviderProtocolMismatch:
    """The error for a server at ``base_url`` that does not speak ``expected``; ``seen``
    says what it answered instead, ``body`` (parsed, if it was) helps guess which
    protocol it does speak."""
    other = sniff(body)
    hint = _LOOKS_LIKE[other] if other is not None and other != expected else _UNCLEAR[expected]
    # Only ``seen`` comes from the server (it may echo the key); the rest is ours.
    return ProviderProtocolMismatch(
        f"the server at {display_url(base_url)} does not answer in {_PROTOCOL_NAME[expected]}"
        f" ({redact(seen, api_key)[:300]}); is the provider kind right? {hint}",
        status=status,
    )


def response_body(response: httpx2.Response) -> object:
    """The error response's body as the server sent it: parsed JSON, else its text (the
    openai SDK keeps only the inside of ``{"error": ...}``, which loses the shape)."""
    try:
        text = response.text
    except httpx2.ResponseNotRead:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def missing_endpoint(status: int, body: object, *, expected: WireProtocol) -> bool:
    """A 404/405 for the endpoint path itself, not the API's own "not found" (an unknown
    model, say): the API answers those in its own error format, other servers do not."""
    if status not in (404, 405):
        return False
    own = is_anthropic_error(body) if expected == "anthropic" else is_openai_error(body)
    return not own


def status_mismatch(
    base_url: str,
    *,
    expected: WireProtocol,
    status: int,
    body: object,
    path: str,
    content_type: str,
    api_key: str | None,
) -> ProviderProtocolMismatch:
    message = body_message(body)
    if message is None and isinstance(body, Mapping) and isinstance(body.get("detail"), str):
        message = body["detail"]  # the 404 of FastAPI and Starlette apps
    if message is None or describe(message, content_type) == "an HTML page":
        message = describe(body, content_type)
    return protocol_mismatch(
        base_url,
        expected=expected,
        seen=f"HTTP {status} for POST {path}: {message[:200]}",
        body=body,
        status=status,
        api_key=api_key,
    )


def stream_seen(content_type: str, expected_event: str) -> str:
    """What a streamed request got when none of the expected events came."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "text/event-stream" or not kind:
        return f"an event stream without {expected_event}"
    if "html" in kind:
        return "an HTML page instead of an event stream"
    return f"a body of type {kind} instead of an event stream"


def endpoint_mismatch(
    response: httpx2.Response, base_url: str, *, expected: WireProtocol, api_key: str | None
) -> ProviderProtocolMismatch | None:
    """The mismatch error when an error ``response`` is a 404/405 for the endpoint itself
    (the server does not have the ``expected`` protocol's path), else None."""
    raw = response_body(response)
    if not missing_endpoint(response.status_code, raw, expected=expected):
        return None
    return status_mismatch(
        base_url,
        expected=expected,
        status=response.status_code,
        body=raw,
        path=response.request.url.path,
        content_type=response.headers.get("content-type", ""),
        api_key=api_key,
    )
