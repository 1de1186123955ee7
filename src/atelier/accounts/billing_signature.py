"""Signed webhook events, in Stripe's scheme: a header ``t=<unix time>,v1=<hex>`` where
the hex is HMAC-SHA256 of ``"<t>." + raw body`` with the shared secret. Several ``v1``
values may be sent (while a secret is being rotated); one matching is enough. An event
signed longer ago (or further ahead) than the tolerance is stale: a recorded request
replayed later is refused even though its signature is genuine."""

from __future__ import annotations

import hashlib
import hmac
import time

from atelier.core.errors import AtelierError


class BadWebhook(AtelierError):
    status_code = 400
    code = "bad_signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value a sender computes (used by the tests and by ``atelier`` tools
    that replay events)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(
    header: str | None,
    body: bytes,
    *,
    secret: str,
    tolerance: int,
    now: float | None = None,
) -> int:
    """The signed timestamp if ``header`` signs ``body``; else BadWebhook saying why."""
    if not header:
        raise BadWebhook("the event is not signed (no signature header)", code="missing_signature")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise BadWebhook("the signature header has no timestamp or no v1 signature")
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise BadWebhook("the signature does not match the body")
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance:
        raise BadWebhook(
            f"the event was signed {int(age)} s ago, outside the {tolerance} s window: "
            "a replay, or a clock that is off",
            code="stale_event",
        )
    return timestamp
