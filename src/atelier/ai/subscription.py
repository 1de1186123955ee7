"""``GET /api/v1/subscription`` and ``GET /api/v1/organizations/{id}/subscription``: the
plan, its status and period, and each limit with what is used of it and when it resets.

The limits come from the plan catalogue (accounts/plans.py): AI tokens, which every AI
call counts (the embedded local model's too), estimated dollars, which only hosted
providers cost (a local call costs nothing), AI calls, generations, analyses, chat
messages, uploaded bytes and projects, each per day, month or year. Each limit says what
it applies to, so that a user of the local model is not left wondering why a "$5" budget
does not move.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from atelier.accounts.deps import CurrentUser
from atelier.accounts.limits import effective_plan
from atelier.accounts.metering import Owner
from atelier.accounts.models import Organization, Subscription, SubscriptionPlan
from atelier.accounts.org_service import load_organization
from atelier.accounts.plans import METRICS
from atelier.accounts.usage_report import LimitUse, usage_report
from atelier.core.deps import DB
from atelier.core.openapi import error_responses

router = APIRouter(tags=["subscription"])


class LimitOut(BaseModel):
    metric: str = Field(description="one of: " + ", ".join(METRICS))
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
    return await _answer(session, request, "user", user.id, row, None)


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
    return await _answer(session, request, "organization", org.id, row, org)


async def _answer(
    session: DB,
    request: Request,
    scope: Literal["user", "organization"],
    owner_id: uuid.UUID,
    row: Subscription | None,
    org: Organization | None,
) -> SubscriptionOut:
    if org is not None:  # its own columns say (accounts/limits.organization_plan)
        plan, status = org.subscription_tier, org.subscription_status
    elif row is not None:
        plan, status = row.plan, row.status
    else:
        plan, status = SubscriptionPlan.FREE, None
    period_end = row.current_period_end if row is not None else None
    applies = effective_plan(plan, status, period_end)
    uses = await usage_report(session, request.app.state.settings, Owner(scope, owner_id), applies)
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
        limits=[_limit(use) for use in uses],
    )


def _limit(use: LimitUse) -> LimitOut:
    return LimitOut(
        metric=use.metric,
        period=use.period,
        limit=use.limit,
        used=use.used,
        remaining=use.remaining,
        resets_at=use.resets_at,
        applies_to=use.applies_to,
    )
