"""``POST /api/v1/billing/webhook``: an external billing system (Stripe, or anything that
signs the same way) sets plans, statuses, periods and customer ids. No user credentials:
the signature over the raw body is the authentication."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field

from atelier.accounts import billing
from atelier.accounts.billing_signature import verify
from atelier.core.deps import DB
from atelier.core.errors import NotFound
from atelier.core.openapi import error_responses

router = APIRouter(prefix="/billing", tags=["billing"])


class WebhookReceived(BaseModel):
    received: bool = True
    outcome: str = Field(description="applied, or ignored (a type or account we do not act on)")
    duplicate: bool = Field(description="true: this event id was received before; nothing changed")


@router.post(
    "/webhook",
    response_model=WebhookReceived,
    responses=error_responses(
        400,
        404,
        s400="missing_signature, bad_signature, stale_event (outside the time window) or "
        "invalid_event",
        s404="billing_webhook_disabled: no webhook secret is configured",
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def billing_webhook(
    request: Request,
    session: DB,
    atelier_signature: Annotated[str | None, Header()] = None,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> WebhookReceived:
    """A signed billing event (header ``Atelier-Signature`` or ``Stripe-Signature``:
    ``t=<unix time>,v1=<HMAC-SHA256 hex of "<t>." + body>``). Unsigned, badly signed or
    stale events are refused (400) and change nothing; an event id seen before changes
    nothing again (200, ``duplicate``)."""
    settings = request.app.state.settings
    secret = settings.billing_webhook_secret
    if secret is None:
        raise NotFound(
            "the billing webhook is off: set ATELIER_BILLING_WEBHOOK_SECRET",
            code="billing_webhook_disabled",
        )
    body = await request.body()
    verify(
        atelier_signature or stripe_signature,
        body,
        secret=secret.get_secret_value(),
        tolerance=settings.billing_webhook_tolerance_seconds,
    )
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise billing.InvalidEvent("the body is not JSON") from None
    outcome, duplicate = await billing.receive(session, payload)
    return WebhookReceived(outcome=outcome, duplicate=duplicate)
