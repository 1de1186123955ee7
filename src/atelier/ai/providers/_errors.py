"""Error details shared by the hosted providers: the provider's own message (with
anything key-like removed) and how long it asks us to wait."""

from __future__ import annotations

import contextlib
import email.utils
import re
import time
from collections.abc import Mapping

from atelier.ai.providers.base import ProviderAuthError, ProviderError

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
