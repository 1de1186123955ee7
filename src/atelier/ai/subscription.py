"""``GET /api/v1/subscription`` and ``GET /api/v1/organizations/{id}/subscription``: the
plan, its status and period, and each limit with what is used of it and when it resets.

The limits are the plan's monthly AI budget (``ATELIER_PLAN_LIMITS``): tokens, which
every AI call counts (the embedded local model's too), and estimated dollars, which
only hosted providers cost (a local call costs nothing). Each limit says which calls it
applies to, so that a user of the local model is not left wondering why a "$5" budget
does not move.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from atelier.accounts.deps import CurrentUser
from atelier.accounts.models import Organization, Subscription, SubscriptionPlan
from atelier.accounts.org_service import load_organization
from atelier.ai.budgets import (
    Limit,
    Spend,
    effective_plan,
    next_month_start,
    plan_limits,
    spent_this_month,
)
from atelier.core.db import utcnow
from atelier.core.deps import DB
from atelier.core.openapi import error_responses

router = APIRouter(tags=["subscription"])

APPLIES_TO = {
    "ai_tokens": "every AI call, the embedded local model's included",
    "ai_cost_usd": "the estimated cost of hosted providers' calls; the local model costs nothing",
}


class LimitOut(BaseModel):
    metric: Literal["ai_tokens", "ai_cost_usd"]
    period: Literal["daily", "monthly", "yearly"]
    limit: float | None = Field(description="null: no limit on this plan")
    used: float
    remaining: float | None
    resets_at: dt.datetime = Field(description="when the period's count starts again (UTC)")
    applies_to: str


class SubscriptionOut(BaseModel):
    scope: Literal["user", "organization"]
    owner_id: uuid.UUID
    plan: SubscriptionPlan = Field(description="the plan on record")
    status: str
    effective_plan: str = Field(
        description="the plan whose limits apply now (FREE once a plan has lapsed)"
    )
    current_period_start: dt.datetime | None = None
    current_period_end: dt.datetime | None = None
    cancel_at_period_end: bool = False
    trial_ends_at: dt.datetime | None = None
    limits: list[LimitOut]


@router.get("/subscription", response_model=SubscriptionOut)
async def my_subscription(request: Request, user: CurrentUser, session: DB) -> SubscriptionOut:
    """Your plan, its status and period, and your usage against each of its limits."""
    row = await session.scalar(select(Subscription).where(Subscription.user_id == user.id))
    spend = await spent_this_month(session, user_id=user.id)
    return _answer(request, "user", user.id, row, None, spend)


@router.get(
    "/organizations/{org_id}/subscription",
    response_model=SubscriptionOut,
    responses=error_responses(404),
)
async def organization_subscription(
    org_id: uuid.UUID, request: Request, user: CurrentUser, session: DB
) -> SubscriptionOut:
    """The organization's plan and usage; any member may read it."""
    org, _role = await load_organization(session, user=user, org_id=org_id)
    row = await session.scalar(select(Subscription).where(Subscription.organization_id == org.id))
    spend = await spent_this_month(session, org_id=org.id)
    return _answer(request, "organization", org.id, row, org, spend)


def _answer(
    request: Request,
    scope: Literal["user", "organization"],
    owner_id: uuid.UUID,
    row: Subscription | None,
    org: Organization | None,
    spend: Spend,
) -> SubscriptionOut:
    if row is not None:
        plan, status = row.plan, row.status
    elif org is not None:
        plan, status = org.subscription_tier, org.subscription_status
    else:
        plan, status = SubscriptionPlan.FREE, None
    period_end = row.current_period_end if row is not None else None
    applies = effective_plan(plan, status, period_end)
    limit = plan_limits(request.app.state.settings).get(applies, Limit(0, Decimal(0)))
    return SubscriptionOut(
        scope=scope,
        owner_id=owner_id,
        plan=plan,
        status=status.value if status is not None else "ACTIVE",
        effective_plan=applies,
        current_period_start=row.current_period_start if row else None,
        current_period_end=period_end,
        cancel_at_period_end=row.cancel_at_period_end if row else False,
        trial_ends_at=org.trial_ends_at if org is not None else None,
        limits=_limits(limit, spend),
    )


def _limits(limit: Limit, spend: Spend) -> list[LimitOut]:
    resets = next_month_start(utcnow())
    found = []
    for metric, cap, used in (
        ("ai_tokens", float(limit.tokens), float(spend.tokens)),
        ("ai_cost_usd", float(limit.usd), float(round(spend.usd, 6))),
    ):
        found.append(
            LimitOut(
                metric=metric,
                period="monthly",
                limit=cap or None,
                used=used,
                remaining=max(cap - used, 0.0) if cap else None,
                resets_at=resets,
                applies_to=APPLIES_TO[metric],
            )
        )
    return found
